#include "proxy/doctor/judge.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "proxy/policy/check_host.hpp"

namespace airlock::proxy::doctor {

namespace {

constexpr std::size_t max_detail = 240;

// Certificate errors as each runtime words them: OpenSSL (curl, git, Python, wget),
// Node's codes, Java's PKIX, Go's x509, GnuTLS (wget, git) and rustls (Deno).
constexpr std::array<std::string_view, 18> certificate_errors = {
    "certificate verify failed",
    "ssl certificate problem",
    "self-signed certificate",
    "self signed certificate",
    "unable to get local issuer certificate",
    "unable to verify the first certificate",
    "self_signed_cert_in_chain",
    "unable_to_get_issuer_cert",
    "unable_to_verify_leaf_signature",
    "pkix path building failed",
    "unable to find valid certification path",
    "certificate signed by unknown authority",
    "is not trusted",
    "doesn't have a known issuer",
    "cannot verify",
    "server certificate verification failed",
    "invalid peer certificate",
    "unknownissuer",
};

// A name that did not resolve, as each runtime words it.
constexpr std::array<std::string_view, 11> lookup_errors = {
    "could not resolve host",
    "enotfound",
    "name or service not known",
    "temporary failure in name resolution",
    "no such host",
    "unable to resolve host address",
    "unknownhostexception",
    "nodename nor servname",
    "failed to lookup address",
    "nameresolutionerror",
    "no address associated with hostname",
};

// The proxy itself failed: a lookup error then is about the proxy's name, not the host's.
constexpr std::array<std::string_view, 6> proxy_errors = {
    "proxyerror",   "cannot connect to proxy",    "could not resolve proxy",
    "proxyconnect", "unable to connect to proxy", "proxy error",
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string shorten(std::string_view line) {
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
    line.remove_suffix(1);
  }
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) {
    line.remove_prefix(1);
  }
  if (line.size() <= max_detail) {
    return std::string(line);
  }
  return std::string(line.substr(0, max_detail - 3)) + "...";
}

// The first line of text holding one of phrases (compared in lowercase); empty if none.
template <std::size_t N>
std::string line_with(std::string_view text, const std::array<std::string_view, N>& phrases) {
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    const std::string low = lower(line);
    for (const auto phrase : phrases) {
      if (low.find(phrase) != std::string::npos) {
        return shorten(line);
      }
    }
    at = end + 1;
  }
  return {};
}

bool has_any(std::string_view text, const std::vector<std::string>& phrases) {
  return std::any_of(phrases.begin(), phrases.end(),
                     [&](const std::string& p) { return text.find(p) != std::string_view::npos; });
}

std::string last_line(std::string_view text) {
  while (!text.empty()) {
    const auto nl = text.rfind('\n');
    const std::string line = shorten(nl == std::string_view::npos ? text : text.substr(nl + 1));
    if (!line.empty()) {
      return line;
    }
    text = nl == std::string_view::npos ? std::string_view() : text.substr(0, nl);
  }
  return {};
}

bool says_no_proxy(std::string_view out) {
  return out.rfind("proxy: none\n", 0) == 0 || out.find("\nproxy: none\n") != std::string::npos;
}

}  // namespace

std::string_view result_name(result r) {
  switch (r) {
    case result::ok:
      return "ok";
    case result::bypass:
      return "bypass";
    case result::untrusted:
      return "untrusted";
    case result::failed:
      return "failed";
    case result::skipped:
      return "skipped";
  }
  return "failed";
}

bool is_problem(result r) {
  return r == result::bypass || r == result::untrusted || r == result::failed;
}

finding judge(const runtime_probe& p, const probe_output& o) {
  finding f;
  const std::string text = o.err + "\n" + o.out;
  const std::string fail_fix = "check that {proxy} is airlock and reachable from here";
  if (!o.started) {
    // Nothing was asked of the proxy: the fix is the runtime's (a stub an install script
    // never replaced, another architecture, no permission), not airlock's.
    f.detail = "could not run: " + shorten(o.err);
    f.fix = "the executable on PATH does not start: reinstall it, or take it off PATH";
    return f;
  }
  if (o.timed_out) {
    f.detail = "no answer within " + std::to_string(p.timeout.count()) + " s";
    f.fix = fail_fix;
    return f;
  }
  if (o.exit_code == 0 && o.out.find(check_marker) != std::string::npos) {
    return finding{result::ok, answer::yes, answer::yes, {}, {}};
  }
  if (o.exit_code != 0 && has_any(text, p.cannot_run)) {
    f.what = result::skipped;
    f.detail = "the probe cannot run here: " + last_line(o.err.empty() ? o.out : o.err);
    return f;
  }
  if (says_no_proxy(o.out)) {
    f = finding{result::bypass, answer::no, answer::unknown, "no proxy for the host", p.fix_bypass};
    if (std::string line = line_with(o.out, lookup_errors); !line.empty()) {
      f.detail = line;
    }
    return f;
  }
  if (std::string line = line_with(text, certificate_errors); !line.empty()) {
    return finding{result::untrusted, answer::yes, answer::no, line, p.fix_untrusted};
  }
  const std::string low = lower(text);
  if (std::string line = line_with(text, lookup_errors);
      !line.empty() && low.find(check_host_name) != std::string::npos &&
      line_with(text, proxy_errors).empty()) {
    return finding{result::bypass, answer::no, answer::unknown, line, p.fix_bypass};
  }
  f.detail = last_line(o.err);
  if (f.detail.empty()) {
    f.detail = last_line(o.out);
  }
  if (f.detail.empty()) {
    f.detail = "exit status " + std::to_string(o.exit_code) + " without the check's answer";
  }
  f.fix = fail_fix;
  return f;
}

std::optional<proxy_setting> proxy_from_env(const env_lookup& env) {
  for (std::string_view name : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"}) {
    if (auto value = env(name); value && !value->empty()) {
      return proxy_setting{std::string(name), std::move(*value)};
    }
  }
  return std::nullopt;
}

std::optional<proxy_address> parse_proxy_url(std::string_view url, std::string& why) {
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
    if (lower(url.substr(0, scheme)) != "http") {
      why = "airlock listens for plain http:// proxy requests, not " +
            std::string(url.substr(0, scheme)) + "://";
      return std::nullopt;
    }
    url.remove_prefix(scheme + 3);
  }
  url = url.substr(0, url.find('/'));
  if (const auto at = url.rfind('@'); at != std::string_view::npos) {
    url.remove_prefix(at + 1);
  }
  proxy_address out;
  std::string_view port_text;
  if (!url.empty() && url.front() == '[') {
    const auto close = url.find(']');
    if (close == std::string_view::npos) {
      why = "an unclosed [ in the proxy address";
      return std::nullopt;
    }
    out.host = std::string(url.substr(1, close - 1));
    const auto rest = url.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      why = "text after ] in the proxy address";
      return std::nullopt;
    }
    port_text = rest.empty() ? rest : rest.substr(1);
  } else {
    const auto colon = url.find(':');
    out.host = std::string(url.substr(0, colon));
    port_text = colon == std::string_view::npos ? std::string_view() : url.substr(colon + 1);
  }
  if (out.host.empty()) {
    why = "no host in the proxy URL";
    return std::nullopt;
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      why = "a bad port in the proxy URL";
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(port);
  }
  const bool v6 = out.host.find(':') != std::string::npos;
  out.display = "http://" + (v6 ? "[" + out.host + "]" : out.host) + ":" + std::to_string(out.port);
  return out;
}

std::string kit_dir(const env_lookup& env) {
  auto folder_of = [&](std::string_view variable, std::string_view file) -> std::string {
    const auto value = env(variable);
    if (!value || value->size() <= file.size() + 1) {
      return {};
    }
    const std::string_view v = *value;
    if (v.substr(v.size() - file.size()) != file || v[v.size() - file.size() - 1] != '/') {
      return {};
    }
    return std::string(v.substr(0, v.size() - file.size() - 1));
  };
  if (std::string dir = folder_of("SSL_CERT_FILE", "ca-bundle.pem"); !dir.empty()) {
    return dir;
  }
  if (std::string dir = folder_of("NODE_EXTRA_CA_CERTS", "ca.pem"); !dir.empty()) {
    return dir;
  }
  return "/run/airlock";
}

}  // namespace airlock::proxy::doctor

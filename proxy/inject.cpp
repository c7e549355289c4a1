#include "proxy/inject.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "proxy/http_head.hpp"

namespace airlock::proxy {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool contains_icase(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) {
    return false;
  }
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (http::iequals(haystack.substr(i, needle.size()), needle)) {
      return true;
    }
  }
  return false;
}

// "/a/../b", "/a/./b", "/a/.." and percent-encoded '.' or '/' can name another path
// once the server normalises it.
bool is_ambiguous_path(std::string_view path) {
  return path.find("/./") != std::string_view::npos ||
         path.find("/../") != std::string_view::npos || ends_with(path, "/.") ||
         ends_with(path, "/..") || contains_icase(path, "%2e") || contains_icase(path, "%2f") ||
         contains_icase(path, "%5c") || path.find('\\') != std::string_view::npos;
}

bool path_matches(const std::vector<std::string>& prefixes, std::string_view path) {
  if (prefixes.empty()) {
    return true;
  }
  if (is_ambiguous_path(path)) {
    return false;
  }
  for (const auto& prefix : prefixes) {
    if (path.substr(0, prefix.size()) != prefix) {
      continue;
    }
    // "/v1" covers "/v1" and "/v1/..." but not "/v1beta".
    if (path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/') {
      return true;
    }
  }
  return false;
}

bool method_matches(const std::vector<std::string>& methods, std::string_view method) {
  return methods.empty() || std::any_of(methods.begin(), methods.end(),
                                        [&](const std::string& m) { return m == method; });
}

bool port_matches(std::uint16_t rule_port, std::uint16_t port) {
  return rule_port == 0 || rule_port == port;
}

}  // namespace

bool host_matches(std::string_view pattern, std::string_view host) {
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && ends_with(host, suffix);
  }
  return pattern == host;
}

bool has_rule_for(const std::vector<config::credential_rule>& rules, std::string_view host,
                  std::uint16_t port) {
  return std::any_of(rules.begin(), rules.end(), [&](const config::credential_rule& r) {
    return host_matches(r.match.host, host) && port_matches(r.match.port, port);
  });
}

const config::credential_rule* find_rule(const std::vector<config::credential_rule>& rules,
                                         std::string_view host, std::uint16_t port,
                                         std::string_view method, std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  for (const auto& r : rules) {
    if (host_matches(r.match.host, host) && port_matches(r.match.port, port) &&
        method_matches(r.match.methods, method) && path_matches(r.match.path_prefixes, path)) {
      return &r;
    }
  }
  return nullptr;
}

bool rule_sets_field(const config::credential_rule& rule, std::string_view field) {
  if (rule.basic_auth && http::iequals(field, "authorization")) {
    return true;
  }
  return std::any_of(rule.headers.begin(), rule.headers.end(),
                     [&](const auto& h) { return http::iequals(h.first, field); });
}

std::optional<std::string> render(std::string& out, const config::value_template& t,
                                  const secret_lookup& lookup) {
  for (const auto& part : t.parts) {
    if (!part.secret) {
      out.append(part.text);
      continue;
    }
    const auto value = lookup(part.text);
    if (!value) {
      return part.text;
    }
    out.append(*value);
  }
  return std::nullopt;
}

std::optional<std::string> append_injected_fields(std::string& out,
                                                  const config::credential_rule& rule,
                                                  const secret_lookup& lookup) {
  const std::size_t mark = out.size();
  auto undo = [&](std::optional<std::string> missing) {
    OPENSSL_cleanse(out.data() + mark, out.size() - mark);
    out.resize(mark);
    return missing;
  };
  for (const auto& [name, value] : rule.headers) {
    out.append(name);
    out.append(": ");
    if (auto missing = render(out, value, lookup)) {
      return undo(std::move(missing));
    }
    out.append("\r\n");
  }
  if (rule.basic_auth) {
    std::string plain = rule.basic_auth->username + ":";
    if (auto missing = render(plain, rule.basic_auth->password, lookup)) {
      OPENSSL_cleanse(plain.data(), plain.size());
      return undo(std::move(missing));
    }
    std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                  reinterpret_cast<const unsigned char*>(plain.data()),
                                  static_cast<int>(plain.size()));
    out.append("Authorization: Basic ");
    out.append(encoded.data(), static_cast<std::size_t>(n));
    out.append("\r\n");
    OPENSSL_cleanse(plain.data(), plain.size());
    OPENSSL_cleanse(encoded.data(), encoded.size());
  }
  return std::nullopt;
}

}  // namespace airlock::proxy

#include "proxy/policy/inject.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include "config/request_path.hpp"
#include "net/hex.hpp"
#include "proxy/policy/value_template.hpp"

namespace airlock::proxy {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A rule's prefixes only cover a path every mainstream server reads as written; such a
// path is compared in its RFC 3986 normal form ("%7E" is "~").
bool path_matches(const std::vector<std::string>& prefixes, std::string_view path) {
  if (prefixes.empty()) {
    return true;
  }
  if (!config::path_doubt(path).empty()) {
    return false;
  }
  std::string decoded;
  if (path.find('%') != std::string_view::npos) {
    decoded = config::normalize_path(path, config::path_decoding::unreserved);
    path = decoded;
  }
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& prefix) { return config::path_within(path, prefix); });
}

bool method_matches(const std::vector<std::string>& methods, std::string_view method) {
  return methods.empty() || std::any_of(methods.begin(), methods.end(),
                                        [&](const std::string& m) { return m == method; });
}

// A rule without a port is for https's 443 only: a key meant for api.x is not for
// whatever listens on api.x:8443.
bool port_matches(std::uint16_t rule_port, std::uint16_t port) {
  return (rule_port == 0 ? 443 : rule_port) == port;
}

// Field names as CGI, WSGI and Rack upstreams see them: "x_api_key" and "X-API-Key" are
// both HTTP_X_API_KEY there.
bool same_field_for_cgi(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] == '_' ? '-' : a[i];
    const char y = b[i] == '_' ? '-' : b[i];
    if (std::tolower(static_cast<unsigned char>(x)) !=
        std::tolower(static_cast<unsigned char>(y))) {
      return false;
    }
  }
  return true;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Calls f with each "&"-separated parameter of target's query, empty ones included.
template <typename F>
void for_each_param(std::string_view target, F&& f) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) {
    return;
  }
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    f(rest.substr(0, amp));
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && net::hex_digit(s[i + 1]) >= 0 &&
        net::hex_digit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(net::hex_digit(s[i + 1]) * 16 + net::hex_digit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

void append_percent_encoded(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
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

bool upgrades_plain_http(const std::vector<config::credential_rule>& rules, std::string_view host,
                         std::uint16_t port) {
  return has_rule_for(rules, host, port) || (port == 80 && has_rule_for(rules, host, 443));
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
  if (rule.basic_auth && same_field_for_cgi(field, "authorization")) {
    return true;
  }
  return std::any_of(rule.headers.begin(), rule.headers.end(),
                     [&](const auto& h) { return same_field_for_cgi(h.first, field); });
}

bool rule_strips_field(const config::credential_rule& rule, std::string_view field) {
  return rule_sets_field(rule, field) ||
         std::any_of(rule.strip.headers.begin(), rule.strip.headers.end(),
                     [&](const std::string& h) { return same_field_for_cgi(h, field); });
}

bool rule_strips_param(const config::credential_rule& rule, std::string_view decoded_name) {
  const auto same = [&](std::string_view name) { return iequals_ascii(name, decoded_name); };
  return std::any_of(rule.query.begin(), rule.query.end(),
                     [&](const auto& p) { return same(p.first); }) ||
         std::any_of(rule.strip.query.begin(), rule.strip.query.end(), same);
}

std::size_t stripped_param_count(std::string_view target, const config::credential_rule& rule) {
  std::size_t n = 0;
  for_each_param(target, [&](std::string_view param) {
    n += static_cast<std::size_t>(
        !param.empty() &&
        rule_strips_param(rule, percent_decode(param.substr(0, param.find('=')))));
  });
  return n;
}

std::optional<std::string> append_target_with_query(std::string& out, std::string_view target,
                                                    const config::credential_rule& rule,
                                                    const secret_lookup& lookup) {
  const std::size_t mark = out.size();
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  out.append(path.empty() ? "/" : path);
  char sep = '?';
  for_each_param(target, [&](std::string_view param) {
    if (param.empty() ||
        rule_strips_param(rule, percent_decode(param.substr(0, param.find('='))))) {
      return;
    }
    out.push_back(sep);
    out.append(param);
    sep = '&';
  });
  std::string value;
  value.reserve(1024);
  for (const auto& [name, tmpl] : rule.query) {
    value.clear();
    if (auto missing = render(value, tmpl, lookup)) {
      OPENSSL_cleanse(value.data(), value.size());
      OPENSSL_cleanse(out.data() + mark, out.size() - mark);
      out.resize(mark);
      return missing;
    }
    out.push_back(sep);
    append_percent_encoded(out, name);
    out.push_back('=');
    append_percent_encoded(out, value);
    sep = '&';
  }
  OPENSSL_cleanse(value.data(), value.size());
  return std::nullopt;
}

namespace {

std::size_t template_size(const config::value_template& t, const secret_lookup& lookup) {
  std::size_t n = 0;
  for (const auto& part : t.parts) {
    if (!part.secret) {
      n += part.text.size();
    } else if (const auto value = lookup(part.text)) {
      n += value->size();
    }
  }
  return n;
}

}  // namespace

std::size_t injected_size_bound(const config::credential_rule& rule, const secret_lookup& lookup) {
  std::size_t n = 64;
  for (const auto& [name, value] : rule.headers) {
    n += name.size() + 4 + template_size(value, lookup);
  }
  if (rule.basic_auth) {
    const std::size_t plain =
        rule.basic_auth->username.size() + 1 + template_size(rule.basic_auth->password, lookup);
    n += 32 + 4 * ((plain + 2) / 3);
  }
  for (const auto& [name, value] : rule.query) {
    n += 3 * (name.size() + template_size(value, lookup)) + 2;  // percent-encoded at worst
  }
  return n;
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
    std::string plain;
    plain.reserve(injected_size_bound(rule, lookup));  // the password never moves
    plain.append(rule.basic_auth->username);
    plain.push_back(':');
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

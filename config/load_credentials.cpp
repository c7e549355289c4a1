// tls:, secrets: and credentials: sections. Everything a rule could get wrong is
// refused here, at load, so the data plane never meets a half-valid rule.

#include <algorithm>
#include <array>
#include <cctype>

#include "config/parse_values.hpp"
#include "config/rule_parts.hpp"
#include "config/sections.hpp"

namespace airlock::config {

namespace {

constexpr duration min_ca_lifetime = std::chrono::seconds(5);
constexpr duration max_ca_lifetime = std::chrono::hours(720);

bool is_secret_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
}

// Splits "Bearer {{github}}" into literal and secret parts; refuses unknown secrets,
// unbalanced braces and bytes that would let a value escape its header line.
value_template parse_template(const reader& r, const YAML::Node& node, const std::string& path,
                              const std::vector<secret_source>& secrets) {
  const std::string text = r.scalar(node, path);
  value_template out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("{{", pos);
    const std::string literal = text.substr(pos, open == std::string::npos ? open : open - pos);
    if (literal.find("}}") != std::string::npos) {
      r.fail(node, path + ": \"}}\" without a matching \"{{\"");
    }
    for (char c : literal) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        r.fail(node, path + ": control characters are not allowed in a header value");
      }
    }
    if (!literal.empty()) {
      out.parts.push_back({false, literal});
    }
    if (open == std::string::npos) {
      break;
    }
    const auto close = text.find("}}", open + 2);
    if (close == std::string::npos) {
      r.fail(node, path + ": \"{{\" without a matching \"}}\"");
    }
    std::string name = text.substr(open + 2, close - open - 2);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!is_declared(secrets, name)) {
      r.fail(node, path + ": \"{{" + name + "}}\" names no secret declared under secrets:");
    }
    out.parts.push_back({true, name});
    pos = close + 2;
  }
  return out;
}

request_match read_match(const reader& r, const YAML::Node& node, const std::string& path) {
  request_match m;
  if (!node["host"]) {
    r.fail(node, path + ": missing host");
  }
  m.host = read_host_pattern(r, node["host"], path + ".host");
  if (node["port"]) {
    m.port = static_cast<std::uint16_t>(r.integer(node["port"], path + ".port", 1, 65535));
  }
  if (node["paths"]) {
    m.path_prefixes = read_paths(r, node["paths"], path + ".paths");
  }
  if (node["methods"]) {
    m.methods = read_methods(r, node["methods"], path + ".methods");
  }
  return m;
}

}  // namespace

void read_tls(const reader& r, const YAML::Node& node, tls_config& out) {
  r.expect_map(node, "tls", {"ca", "upstream"});
  if (const auto ca = node["ca"]) {
    r.expect_map(ca, "tls.ca", {"cert_file", "key_file", "export_dir", "lifetime"});
    if (ca["cert_file"]) {
      out.ca_cert_file = r.scalar(ca["cert_file"], "tls.ca.cert_file");
    }
    if (ca["key_file"]) {
      out.ca_key_file = r.scalar(ca["key_file"], "tls.ca.key_file");
    }
    if (out.ca_cert_file.empty() != out.ca_key_file.empty()) {
      r.fail(ca, "tls.ca: cert_file and key_file go together (neither: an ephemeral CA)");
    }
    if (ca["export_dir"]) {
      out.export_dir = r.scalar(ca["export_dir"], "tls.ca.export_dir");
    }
    if (const auto lifetime = ca["lifetime"]) {
      if (!out.ca_cert_file.empty()) {
        r.fail(lifetime,
               "tls.ca.lifetime: only the ephemeral CA is renewed; a CA from "
               "cert_file is used as given");
      }
      out.ca_lifetime = r.time(lifetime, "tls.ca.lifetime");
      // Seconds are for tests of the renewal; certificate times have one-second steps.
      if (out.ca_lifetime < min_ca_lifetime || out.ca_lifetime > max_ca_lifetime) {
        r.fail(lifetime, "tls.ca.lifetime: must be between 5s and 720h");
      }
    }
  }
  if (const auto upstream = node["upstream"]) {
    r.expect_map(upstream, "tls.upstream", {"ca_file"});
    if (upstream["ca_file"]) {
      out.upstream_ca_file = r.scalar(upstream["ca_file"], "tls.upstream.ca_file");
    }
  }
}

namespace {

// Headers of a rule or a revoke hook: names checked, values parsed as templates.
std::vector<std::pair<std::string, value_template>> read_header_templates(
    const reader& r, const YAML::Node& headers, const std::string& path,
    const std::vector<secret_source>& secrets) {
  r.expect_any_map(headers, path);
  std::vector<std::pair<std::string, value_template>> out;
  for (const auto& kv : headers) {
    const std::string field = kv.first.Scalar();
    if (field.empty() || !std::all_of(field.begin(), field.end(), is_tchar)) {
      r.fail(kv.first, path + ": \"" + field + "\" is not a header name");
    }
    if (is_reserved_field(field)) {
      r.fail(kv.first, path + ": airlock sets \"" + field + "\" itself");
    }
    out.emplace_back(field, parse_template(r, kv.second, path + "." + field, secrets));
  }
  return out;
}

revoke_hook read_revoke_hook(const reader& r, const YAML::Node& node, const std::string& path,
                             const std::vector<secret_source>& secrets) {
  r.expect_map(node, path, {"method", "url", "headers"});
  revoke_hook hook;
  if (node["method"]) {
    hook.method = r.scalar(node["method"], path + ".method");
    std::transform(hook.method.begin(), hook.method.end(), hook.method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (hook.method.empty() || !std::all_of(hook.method.begin(), hook.method.end(), is_tchar)) {
      r.fail(node["method"], path + ".method: \"" + hook.method + "\" is not a method");
    }
  }
  if (!node["url"]) {
    r.fail(node, path + ": missing url");
  }
  hook.url = r.scalar(node["url"], path + ".url");
  route target;
  if (auto err = parse_upstream_url(hook.url, target)) {
    r.fail(node["url"], path + ".url: " + *err + ", got \"" + hook.url + "\"");
  }
  hook.tls = target.tls;
  hook.host = target.host;
  hook.ipv6 = target.ipv6;
  hook.port = target.port;
  hook.path = target.base_path.empty() ? "/" : target.base_path;
  if (node["headers"]) {
    hook.headers = read_header_templates(r, node["headers"], path + ".headers", secrets);
  }
  return hook;
}

}  // namespace

void read_secrets(const reader& r, const YAML::Node& node, std::vector<secret_source>& out) {
  r.expect_any_map(node, "secrets");
  for (const auto& kv : node) {
    secret_source s;
    s.name = kv.first.Scalar();
    const std::string path = "secrets." + s.name;
    if (!is_secret_name(s.name)) {
      r.fail(kv.first,
             "secrets: \"" + s.name + "\" is not a secret name (letters, digits, _ and -)");
    }
    const YAML::Node& src = kv.second;
    r.expect_map(src, path, {"file", "env", "push", "required", "revoke"});
    const int given = static_cast<int>(static_cast<bool>(src["file"])) +
                      static_cast<int>(static_cast<bool>(src["env"])) +
                      static_cast<int>(static_cast<bool>(src["push"]));
    if (given != 1) {
      r.fail(src, path + ": give exactly one source: file, env or push");
    }
    if (src["file"]) {
      s.from = secret_source::kind::file;
      s.location = r.scalar(src["file"], path + ".file");
    } else if (src["env"]) {
      s.from = secret_source::kind::env;
      s.location = r.scalar(src["env"], path + ".env");
    } else {
      s.from = secret_source::kind::push;
      if (!r.boolean(src["push"], path + ".push")) {
        r.fail(src["push"], path + ".push: only true makes sense; give file or env instead");
      }
    }
    if (s.location.empty() && s.from != secret_source::kind::push) {
      r.fail(src, path + ": empty source");
    }
    if (src["required"]) {
      s.required = r.boolean(src["required"], path + ".required");
    }
    out.push_back(std::move(s));
  }
  // Hooks may name any declared secret, so they are read once all are known.
  std::size_t i = 0;
  for (const auto& kv : node) {
    if (const auto hook = kv.second["revoke"]) {
      out[i].revoke = read_revoke_hook(r, hook, "secrets." + out[i].name + ".revoke", out);
    }
    ++i;
  }
}

namespace {

basic_auth_action read_basic_auth(const reader& r, const YAML::Node& basic, const std::string& path,
                                  const std::vector<secret_source>& secrets) {
  r.expect_map(basic, path, {"username", "password"});
  if (!basic["username"] || !basic["password"]) {
    r.fail(basic, path + ": needs username and password");
  }
  basic_auth_action action;
  action.username = r.scalar(basic["username"], path + ".username");
  if (action.username.find(':') != std::string::npos) {
    r.fail(basic["username"], path + ".username: must not contain \":\"");
  }
  action.password = parse_template(r, basic["password"], path + ".password", secrets);
  return action;
}

credential_rule read_rule(const reader& r, const YAML::Node& item, const std::string& path,
                          const std::vector<secret_source>& secrets) {
  r.expect_map(item, path,
               {"name", "host", "port", "paths", "methods", "headers", "basic_auth", "query",
                "strip", "scrub"});
  credential_rule rule;
  rule.match = read_match(r, item, path);
  rule.name = item["name"] ? r.scalar(item["name"], path + ".name") : rule.match.host;
  if (const auto headers = item["headers"]) {
    rule.headers = read_header_templates(r, headers, path + ".headers", secrets);
  }
  if (const auto basic = item["basic_auth"]) {
    const bool sets_authorization =
        std::any_of(rule.headers.begin(), rule.headers.end(), [](const auto& h) {
          std::string lower = h.first;
          std::transform(lower.begin(), lower.end(), lower.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          return lower == "authorization";
        });
    if (sets_authorization) {
      r.fail(basic, path + ": basic_auth and an Authorization header both set Authorization");
    }
    rule.basic_auth = read_basic_auth(r, basic, path + ".basic_auth", secrets);
  }
  if (const auto query = item["query"]) {
    r.expect_any_map(query, path + ".query");
    for (const auto& kv : query) {
      rule.query.emplace_back(
          kv.first.Scalar(),
          parse_template(r, kv.second, path + ".query." + kv.first.Scalar(), secrets));
    }
  }
  if (rule.headers.empty() && !rule.basic_auth && rule.query.empty()) {
    r.fail(item, path + ": a rule needs headers, basic_auth or query (or preset:)");
  }
  if (const auto strip = item["strip"]) {
    read_strip(r, strip, path + ".strip", rule.strip);
  }
  if (const auto scrub = item["scrub"]) {
    rule.scrub = read_scrub(r, scrub, path + ".scrub");
  }
  return rule;
}

}  // namespace

void read_credentials(const reader& r, const YAML::Node& node,
                      const std::vector<secret_source>& secrets,
                      std::vector<credential_rule>& out) {
  if (!node.IsSequence()) {
    r.fail(node, "credentials: expected a list of rules");
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& item = node[i];
    const std::string path = "credentials[" + std::to_string(i) + "]";
    if (item.IsMap() && item["preset"]) {
      read_preset(r, item, path, secrets, out);
    } else {
      out.push_back(read_rule(r, item, path, secrets));
    }
  }
}

}  // namespace airlock::config

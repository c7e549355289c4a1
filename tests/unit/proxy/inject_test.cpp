// Who gets a credential: every case here is a security decision, so each has the
// attacker's variant beside the legitimate one.

#include "proxy/policy/inject.hpp"

#include <gtest/gtest.h>

#include <map>

#include "config/load.hpp"

namespace airlock::proxy {
namespace {

config::config load(const std::string& yaml) {
  return config::load_string(yaml, "test.yaml");
}

const std::string rules_yaml = R"(
secrets:
  anthropic: { env: ANTHROPIC_KEY }
  github: { env: GITHUB_TOKEN }
credentials:
  - { name: messages, host: api.anthropic.com, paths: [/v1], methods: [post], headers: { x-api-key: "{{anthropic}}" } }
  - { host: "*.githubusercontent.com", port: 443, headers: { Authorization: "Bearer {{github}}" } }
  - { host: github.com, basic_auth: { username: x-access-token, password: "{{github}}" } }
)";

secret_lookup lookup_from(std::map<std::string, std::string>& values) {
  return [&values](std::string_view name) -> std::optional<std::string_view> {
    auto it = values.find(std::string(name));
    if (it == values.end()) {
      return std::nullopt;
    }
    return std::string_view(it->second);
  };
}

TEST(host_matches, exact_and_wildcard) {
  EXPECT_TRUE(host_matches("api.example.com", "api.example.com"));
  EXPECT_FALSE(host_matches("api.example.com", "api.example.com.evil.net"));
  EXPECT_FALSE(host_matches("api.example.com", "evilapi.example.com"));
  EXPECT_TRUE(host_matches("*.example.com", "a.example.com"));
  EXPECT_TRUE(host_matches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(host_matches("*.example.com", "example.com"));
  EXPECT_FALSE(host_matches("*.example.com", "badexample.com"));
  EXPECT_FALSE(host_matches("*.example.com", ".example.com"));
}

TEST(find_rule, matches_host_port_method_and_path_segments) {
  const auto cfg = load(rules_yaml);
  const auto& rules = cfg.credentials;
  const auto* r = find_rule(rules, "api.anthropic.com", 443, "POST", "/v1/messages?beta=1");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "messages");
  EXPECT_NE(find_rule(rules, "api.anthropic.com", 443, "POST", "/v1"), nullptr);
  EXPECT_EQ(find_rule(rules, "api.anthropic.com", 443, "GET", "/v1/messages"), nullptr);
  EXPECT_EQ(find_rule(rules, "api.anthropic.com", 443, "POST", "/v1beta/messages"), nullptr);
  EXPECT_EQ(find_rule(rules, "api.anthropic.com", 443, "POST", "/v2/messages"), nullptr);
  EXPECT_EQ(find_rule(rules, "api.anthropic.com.evil.net", 443, "POST", "/v1/x"), nullptr);
  ASSERT_NE(find_rule(rules, "raw.githubusercontent.com", 443, "GET", "/"), nullptr);
  EXPECT_EQ(find_rule(rules, "raw.githubusercontent.com", 8443, "GET", "/"), nullptr);
  EXPECT_EQ(find_rule(rules, "githubusercontent.com", 443, "GET", "/"), nullptr);
}

TEST(find_rule, ambiguous_paths_never_match_a_path_rule) {
  const auto cfg = load(rules_yaml);
  for (const char* target : {"/v1/../admin", "/v1/./x", "/v1/..", "/v1%2F..%2Fadmin",
                             "/v1/%2e%2e/admin", "/v1\\..\\admin", "/v1/%2E/x", "/v1/..;/admin",
                             "/v1;x/messages", "/v1/%00/x", "/v1//x", "/v1/%c0%ae%c0%ae/admin",
                             "/v1/%252e%252e/admin", "/v1/%u002e%u002e/admin", "/v1/.../admin"}) {
    EXPECT_EQ(find_rule(cfg.credentials, "api.anthropic.com", 443, "POST", target), nullptr)
        << target;
  }
  // Unreserved characters mean the same escaped or not, to every server.
  EXPECT_NE(find_rule(cfg.credentials, "api.anthropic.com", 443, "POST", "/%76%31/messages"),
            nullptr);
}

// "..;" is ".." to Tomcat, Jetty and Spring: a rule for /my-org/ never covers it, and a
// later rule without paths takes the request as any other path.
TEST(find_rule, attacker_path_parameters_leave_the_scope) {
  const auto cfg = load(R"(
secrets: { org: { env: ORG }, any: { env: ANY } }
credentials:
  - { name: org, host: github.com, paths: [/my-org/], headers: { Authorization: "{{org}}" } }
  - { name: any, host: api.github.com, headers: { Authorization: "{{any}}" } }
)");
  const auto* ok = find_rule(cfg.credentials, "github.com", 443, "GET", "/my-org/repo");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->name, "org");
  EXPECT_EQ(find_rule(cfg.credentials, "github.com", 443, "GET", "/my-org/..;/other-org/repo"),
            nullptr);
  EXPECT_EQ(find_rule(cfg.credentials, "github.com", 443, "GET", "/my-org/repo;x/..;/..;/o"),
            nullptr);
  // A path rule's prefix is in normal form: a malformed one is refused at load.
  EXPECT_THROW(load(R"(
secrets: { org: { env: ORG } }
credentials:
  - { host: github.com, paths: [/my-org/../], headers: { Authorization: "{{org}}" } }
)"),
               config::config_error);
}

TEST(has_rule_for, decides_interception_by_host_and_port_only) {
  const auto cfg = load(rules_yaml);
  EXPECT_TRUE(has_rule_for(cfg.credentials, "api.anthropic.com", 443));
  EXPECT_TRUE(has_rule_for(cfg.credentials, "x.githubusercontent.com", 443));
  EXPECT_FALSE(has_rule_for(cfg.credentials, "x.githubusercontent.com", 80));
  EXPECT_FALSE(has_rule_for(cfg.credentials, "example.com", 443));
}

// A rule without port: is for 443: the key for api.anthropic.com is not for whatever
// answers on api.anthropic.com:8443. Other ports are named.
TEST(has_rule_for, attacker_other_port_of_a_rule_without_port_gets_nothing) {
  const auto cfg = load(R"(
secrets: { k: { env: K } }
credentials:
  - { name: default, host: api.x.test, headers: { x-api-key: "{{k}}" } }
  - { name: named, host: alt.x.test, port: 8443, headers: { x-api-key: "{{k}}" } }
)");
  const auto& rules = cfg.credentials;
  EXPECT_TRUE(has_rule_for(rules, "api.x.test", 443));
  for (std::uint16_t port : {8443, 80, 444, 1, 65535}) {
    EXPECT_FALSE(has_rule_for(rules, "api.x.test", port)) << port;
    EXPECT_EQ(find_rule(rules, "api.x.test", port, "GET", "/"), nullptr) << port;
  }
  EXPECT_TRUE(has_rule_for(rules, "alt.x.test", 8443));
  EXPECT_NE(find_rule(rules, "alt.x.test", 8443, "GET", "/"), nullptr);
  EXPECT_FALSE(has_rule_for(rules, "alt.x.test", 443));
  EXPECT_EQ(find_rule(rules, "alt.x.test", 443, "GET", "/"), nullptr);
}

// Plain http:// to port 80 of a rule's host goes up as https to 443; to a port a rule
// names, as https to that port; to any other port, as it came, without a credential.
TEST(upgrades_plain_http, port_80_for_443_rules_and_named_ports_only) {
  const auto cfg = load(R"(
secrets: { k: { env: K } }
credentials:
  - { host: api.x.test, headers: { x-api-key: "{{k}}" } }
  - { host: alt.x.test, port: 8080, headers: { x-api-key: "{{k}}" } }
)");
  const auto& rules = cfg.credentials;
  EXPECT_TRUE(upgrades_plain_http(rules, "api.x.test", 80));
  EXPECT_TRUE(upgrades_plain_http(rules, "api.x.test", 443));
  EXPECT_FALSE(upgrades_plain_http(rules, "api.x.test", 8080));
  EXPECT_TRUE(upgrades_plain_http(rules, "alt.x.test", 8080));
  EXPECT_FALSE(upgrades_plain_http(rules, "alt.x.test", 80));
  EXPECT_FALSE(upgrades_plain_http(rules, "other.test", 80));
}

TEST(rule_sets_field, covers_headers_and_basic_auth) {
  const auto cfg = load(rules_yaml);
  EXPECT_TRUE(rule_sets_field(cfg.credentials[0], "X-API-KEY"));
  EXPECT_FALSE(rule_sets_field(cfg.credentials[0], "authorization"));
  EXPECT_TRUE(rule_sets_field(cfg.credentials[1], "authorization"));
  EXPECT_TRUE(rule_sets_field(cfg.credentials[2], "Authorization"));
}

// CGI, WSGI and Rack upstreams see x_api_key and x-api-key as one HTTP_X_API_KEY: the
// underscore twin of a field the rule sets is dropped too, whichever way it is spelt.
TEST(rule_sets_field, attacker_underscore_twin_is_covered) {
  const auto cfg = load(rules_yaml);
  for (const char* twin : {"x_api_key", "X_API_KEY", "x-api_key", "X_Api-Key"}) {
    EXPECT_TRUE(rule_sets_field(cfg.credentials[0], twin)) << twin;
  }
  EXPECT_FALSE(rule_sets_field(cfg.credentials[0], "x_api_keys"));
  EXPECT_FALSE(rule_sets_field(cfg.credentials[0], "x__api_key"));
  EXPECT_FALSE(rule_sets_field(cfg.credentials[0], "xapikey"));
  EXPECT_TRUE(rule_sets_field(cfg.credentials[2], "AUTHORIZATION"));
  EXPECT_FALSE(rule_sets_field(cfg.credentials[2], "authorization_"));
  const auto underscored = load(R"(
secrets: { k: { env: K } }
credentials: [ { host: a.test, headers: { x_token: "{{k}}" } } ]
)");
  EXPECT_TRUE(rule_sets_field(underscored.credentials[0], "X-Token"));
}

TEST(append_injected_fields, renders_templates_and_basic_auth) {
  const auto cfg = load(rules_yaml);
  std::map<std::string, std::string> secrets{{"anthropic", "sk-ant-123"}, {"github", "ghp_abc"}};
  const auto lookup = lookup_from(secrets);
  std::string out = "GET / HTTP/1.1\r\n";
  EXPECT_FALSE(append_injected_fields(out, cfg.credentials[0], lookup));
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nx-api-key: sk-ant-123\r\n");
  out.clear();
  EXPECT_FALSE(append_injected_fields(out, cfg.credentials[1], lookup));
  EXPECT_EQ(out, "Authorization: Bearer ghp_abc\r\n");
  out.clear();
  EXPECT_FALSE(append_injected_fields(out, cfg.credentials[2], lookup));
  // base64("x-access-token:ghp_abc")
  EXPECT_EQ(out, "Authorization: Basic eC1hY2Nlc3MtdG9rZW46Z2hwX2FiYw==\r\n");
}

TEST(append_injected_fields, missing_secret_adds_nothing_and_names_it) {
  const auto cfg = load(rules_yaml);
  std::map<std::string, std::string> secrets{{"anthropic", "sk-ant-123"}};
  std::string out = "head\r\n";
  const auto missing = append_injected_fields(out, cfg.credentials[1], lookup_from(secrets));
  ASSERT_TRUE(missing);
  EXPECT_EQ(*missing, "github");
  EXPECT_EQ(out, "head\r\n");
}

}  // namespace
}  // namespace airlock::proxy

namespace airlock::proxy {
namespace {

const std::string query_yaml = R"(
secrets:
  maps: { env: MAPS_KEY }
credentials:
  - { host: maps.example.com, query: { api_key: "{{maps}}" } }
)";

TEST(append_target_with_query, replaces_client_parameters_of_the_same_name) {
  const auto cfg = load(query_yaml);
  std::map<std::string, std::string> secrets{{"maps", "k&y=1 2"}};
  const auto lookup = lookup_from(secrets);
  const auto rendered = [&](std::string_view target) {
    std::string out;
    EXPECT_FALSE(append_target_with_query(out, target, cfg.credentials[0], lookup));
    return out;
  };
  EXPECT_EQ(rendered("/geo"), "/geo?api_key=k%26y%3D1%202");
  EXPECT_EQ(rendered("/geo?q=x"), "/geo?q=x&api_key=k%26y%3D1%202");
  // The agent's placeholder, in any spelling the server would decode to the same name.
  EXPECT_EQ(rendered("/geo?api_key=PLACEHOLDER&q=x"), "/geo?q=x&api_key=k%26y%3D1%202");
  EXPECT_EQ(rendered("/geo?api%5Fkey=evil&api_key=x"), "/geo?api_key=k%26y%3D1%202");
  EXPECT_EQ(rendered("?api_key"), "/?api_key=k%26y%3D1%202");
}

TEST(append_target_with_query, missing_secret_leaves_nothing) {
  const auto cfg = load(query_yaml);
  std::map<std::string, std::string> none;
  std::string out = "GET ";
  const auto missing =
      append_target_with_query(out, "/geo?q=1", cfg.credentials[0], lookup_from(none));
  ASSERT_TRUE(missing);
  EXPECT_EQ(*missing, "maps");
  EXPECT_EQ(out, "GET ");
}

}  // namespace
}  // namespace airlock::proxy

namespace airlock::proxy {
namespace {

// A string that had to grow while holding a secret would leave a copy in the block it
// freed, beyond any wipe: the bound reserved up front must cover what every form adds,
// however large the secret (pushes take up to 64 KiB).
TEST(injected_size_bound, covers_every_form_of_a_large_secret) {
  const auto cfg = load(R"(
secrets: { big: { push: true } }
credentials:
  - { host: h.test, headers: { x-api-key: "{{big}}", Authorization: "Bearer {{big}}" } }
  - { host: b.test, basic_auth: { username: x-access-token, password: "{{big}}" } }
  - { host: q.test, query: { key: "{{big}}" } }
)");
  for (const std::size_t size : {1u, 100u, 4096u, 60000u}) {
    std::map<std::string, std::string> secrets{{"big", std::string(size, '%')}};
    const auto lookup = lookup_from(secrets);
    for (const auto& rule : cfg.credentials) {
      std::string out;
      out.reserve(injected_size_bound(rule, lookup));
      const char* before = out.data();
      const auto capacity = out.capacity();
      const auto missing = rule.query.empty()
                               ? append_injected_fields(out, rule, lookup)
                               : append_target_with_query(out, "/x?a=b", rule, lookup);
      EXPECT_FALSE(missing);
      EXPECT_EQ(out.data(), before) << rule.name << " " << size;
      EXPECT_EQ(out.capacity(), capacity) << rule.name << " " << size;
    }
  }
}

}  // namespace
}  // namespace airlock::proxy

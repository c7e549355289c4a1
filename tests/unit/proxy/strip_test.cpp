// Strip every credential carrier, then set (issue 19): on a request a rule injects into,
// the client's own Authorization, x-api-key, api-key, x-goog-api-key and the parameters a
// rule names go, in every spelling an upstream would read as them, and one credential
// goes up. Each case has the attacker's spelling beside the normal one.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "config/load.hpp"
#include "proxy/policy/inject.hpp"
#include "proxy/policy/rewrite.hpp"

namespace airlock::proxy {
namespace {

config::config load(const std::string& credentials) {
  return config::load_string(
      "secrets:\n  anthropic: { env: A }\n  gemini: { env: G }\ncredentials:\n" + credentials,
      "strip.yaml");
}

const std::string anthropic_rule =
    "  - { host: api.anthropic.com, headers: { x-api-key: \"{{anthropic}}\" } }\n";

secret_lookup lookup_from(const std::map<std::string, std::string>& values) {
  return [&values](std::string_view name) -> std::optional<std::string_view> {
    const auto it = values.find(std::string(name));
    if (it == values.end()) {
      return std::nullopt;
    }
    return std::string_view(it->second);
  };
}

// The head airlock writes upstream for a proxied request text (absolute form), with the
// rule (if any) applied; empty, with a failure, when any step refuses it.
std::string upstream_head(const std::string& text, const config::credential_rule* rule = nullptr,
                          const secret_lookup* lookup = nullptr) {
  http::request_head head;
  http::request_info info;
  if (http::parse_request(text, {}, head) || http::analyze_request(head, info)) {
    ADD_FAILURE() << "not a request: " << text;
    return {};
  }
  const auto target = parse_absolute_form(head.target);
  std::string out;
  if (!target || http::write_upstream_request(out, head, info, *target, rule, lookup)) {
    ADD_FAILURE() << "not written: " << text;
    return {};
  }
  return out;
}

TEST(rule_strips_field, every_default_carrier_beside_what_the_rule_sets) {
  const auto cfg = load(anthropic_rule);
  const auto& rule = cfg.credentials[0];
  for (const char* field : {"x-api-key", "Authorization", "api-key", "x-goog-api-key"}) {
    EXPECT_TRUE(rule_strips_field(rule, field)) << field;
  }
  EXPECT_FALSE(rule_sets_field(rule, "authorization"));
  for (const char* kept : {"content-type", "anthropic-version", "cookie", "user-agent",
                           "x-api-keys", "authorization2", "proxy-authorization"}) {
    EXPECT_FALSE(rule_strips_field(rule, kept)) << kept;
  }
}

// CGI, WSGI and Rack upstreams read x_goog_api_key as x-goog-api-key: every spelling of a
// carrier goes, not only the one the SDK writes.
TEST(rule_strips_field, attacker_spellings_of_a_carrier_are_stripped) {
  const auto cfg = load(anthropic_rule);
  for (const char* twin : {"AUTHORIZATION", "authorization", "X_Goog_Api_Key", "x-goog-api_key",
                           "API_KEY", "Api-Key", "X-API-KEY", "x_api_key"}) {
    EXPECT_TRUE(rule_strips_field(cfg.credentials[0], twin)) << twin;
  }
  for (const char* other : {"authorisation", "x-goog-api-keys", "xapikey", "api--key"}) {
    EXPECT_FALSE(rule_strips_field(cfg.credentials[0], other)) << other;
  }
}

TEST(rule_strips_field, defaults_false_keeps_the_clients_but_never_what_the_rule_sets) {
  const auto cfg = load(
      "  - host: a.test\n"
      "    headers: { x-api-key: \"{{anthropic}}\" }\n"
      "    strip: { defaults: false, headers: [x-session] }\n");
  const auto& rule = cfg.credentials[0];
  EXPECT_FALSE(rule_strips_field(rule, "Authorization"));
  EXPECT_TRUE(rule_strips_field(rule, "X_Api_Key"));
  EXPECT_TRUE(rule_strips_field(rule, "X_SESSION"));
}

const std::string gemini_rule =
    "  - { preset: gemini, secret: gemini }\n"
    "  - { host: maps.test, query: { key: \"{{gemini}}\" } }\n";

TEST(rule_strips_param, named_parameters_in_any_case) {
  const auto cfg = load(gemini_rule);
  EXPECT_TRUE(rule_strips_param(cfg.credentials[0], "key"));
  EXPECT_TRUE(rule_strips_param(cfg.credentials[0], "KEY"));
  EXPECT_FALSE(rule_strips_param(cfg.credentials[0], "keys"));
  EXPECT_FALSE(rule_strips_param(cfg.credentials[0], "alt"));
  // A parameter the rule sets: some servers read Key as key, so both spellings go.
  EXPECT_TRUE(rule_strips_param(cfg.credentials[1], "Key"));
}

TEST(append_target_with_query, strip_list_removes_the_clients_key_and_adds_nothing) {
  const auto cfg = load(gemini_rule);
  const std::map<std::string, std::string> secrets{{"gemini", "AIza-REAL"}};
  const auto lookup = lookup_from(secrets);
  const auto rendered = [&](std::string_view target) {
    std::string out;
    EXPECT_FALSE(append_target_with_query(out, target, cfg.credentials[0], lookup));
    return out;
  };
  const std::string path = "/v1beta/models/gemini-2.0-flash:generateContent";
  EXPECT_EQ(rendered(path), path);
  EXPECT_EQ(rendered(path + "?alt=sse"), path + "?alt=sse");
  EXPECT_EQ(rendered(path + "?key=placeholder&alt=sse"), path + "?alt=sse");
  // The attacker's spellings: escaped, upper case, repeated, without a value.
  EXPECT_EQ(rendered(path + "?k%65y=placeholder&alt=sse&KEY=x&key"), path + "?alt=sse");
  EXPECT_EQ(rendered(path + "?keys=kept&monkey=kept"), path + "?keys=kept&monkey=kept");
  EXPECT_EQ(stripped_param_count(path + "?k%65y=placeholder&alt=sse&KEY=x&key", cfg.credentials[0]),
            3u);
  EXPECT_EQ(stripped_param_count(path + "?keys=kept", cfg.credentials[0]), 0u);
  EXPECT_EQ(stripped_param_count(path, cfg.credentials[0]), 0u);
}

// The whole head as the upstream gets it, for the request shape of issue 19's failure 1:
// the Node Anthropic SDK with ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN set sends both
// X-Api-Key and Authorization: Bearer (anthropic-sdk-typescript src/client.ts, apiKeyAuth
// and bearerAuth merged by authHeaders).
TEST(write_upstream_request, node_sdk_placeholder_in_authorization_never_goes_up) {
  const auto cfg = load(anthropic_rule);
  const std::map<std::string, std::string> secrets{{"anthropic", "sk-ant-REAL"}};
  const auto lookup = lookup_from(secrets);
  const std::string text =
      "POST http://api.anthropic.com/v1/messages HTTP/1.1\r\n"
      "Host: api.anthropic.com\r\n"
      "accept: application/json\r\n"
      "anthropic-version: 2023-06-01\r\n"
      "authorization: Bearer placeholder-token\r\n"
      "content-type: application/json\r\n"
      "user-agent: Anthropic/JS 0.71.0\r\n"
      "x-api-key: placeholder-key\r\n"
      "X_Api_Key: attacker-twin\r\n"
      "x-stainless-retry-count: 0\r\n"
      "content-length: 2\r\n\r\n";
  EXPECT_EQ(upstream_head(text, &cfg.credentials[0], &lookup),
            "POST /v1/messages HTTP/1.1\r\n"
            "Host: api.anthropic.com\r\n"
            "accept: application/json\r\n"
            "anthropic-version: 2023-06-01\r\n"
            "content-type: application/json\r\n"
            "user-agent: Anthropic/JS 0.71.0\r\n"
            "x-stainless-retry-count: 0\r\n"
            "content-length: 2\r\n"
            "x-api-key: sk-ant-REAL\r\n\r\n");
}

// Without a rule nothing is a carrier: the agent's own Authorization to a host airlock
// injects nothing into goes up untouched.
TEST(write_upstream_request, without_a_rule_the_clients_authorization_goes_up) {
  const std::string text =
      "GET http://example.test/x?key=mine HTTP/1.1\r\nHost: example.test\r\n"
      "Authorization: Bearer own\r\n\r\n";
  EXPECT_EQ(upstream_head(text),
            "GET /x?key=mine HTTP/1.1\r\nHost: example.test\r\nAuthorization: Bearer own\r\n\r\n");
}

}  // namespace
}  // namespace airlock::proxy

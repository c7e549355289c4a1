// Strip every credential carrier, then set (issue 19, failure 1): the Node Anthropic SDK
// sends its key as Authorization: Bearer while the README's rule sets x-api-key, and the
// placeholder used to go upstream beside the real key. Through the real binary: what the
// upstream records, and the metric that counts what was stripped.

#include <gtest/gtest.h>

#include <sstream>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

class strip_test : public intercept_test {
 protected:
  double stripped_total() {
    const auto r = run_curl(
        tmp_.path(), {"http://127.0.0.1:" + std::to_string(airlock().metrics_port()) + "/metrics"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::istringstream in(r.out);
    std::string line;
    const std::string name = "airlock_client_auth_fields_stripped_total ";
    while (std::getline(in, line)) {
      if (line.rfind(name, 0) == 0) {
        return std::stod(line.substr(name.size()));
      }
    }
    ADD_FAILURE() << "no " << name << "in\n" << r.out;
    return -1;
  }

  // An echo upstream named api.anthropic.com (a test-CA leaf, reached through resolve:),
  // and airlock with `credentials` (YAML lines) and the anthropic secret.
  std::unique_ptr<tls_echo_server> start_anthropic(const std::string& credentials) {
    auto up = start_upstream(mint_leaf(pki_, "anthropic", {"DNS:api.anthropic.com"}));
    airlock_settings settings;
    settings.resolve["api.anthropic.com:443"] = up->address();
    start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n", credentials,
                       {{"ANTHROPIC_KEY", api_key}}, settings);
    return up;
  }
};

// The request the Node SDK sends with ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN both set to
// placeholders: anthropics/anthropic-sdk-typescript src/client.ts, authHeaders merges
// apiKeyAuth (X-Api-Key) and bearerAuth (Authorization: Bearer); buildHeaders adds the rest.
const strings node_sdk_headers{"Accept: application/json",
                               "anthropic-version: 2023-06-01",
                               "Content-Type: application/json",
                               "User-Agent: Anthropic/JS 0.71.0",
                               "X-Stainless-Lang: js",
                               "X-Stainless-Runtime: node",
                               "X-Stainless-Retry-Count: 0",
                               "X-Api-Key: " + std::string(placeholder),
                               "Authorization: Bearer " + std::string(placeholder)};

std::vector<std::string> with_headers(const strings& headers, std::vector<std::string> args) {
  std::vector<std::string> out;
  for (const auto& h : headers) {
    out.push_back("-H");
    out.push_back(h);
  }
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

TEST_F(strip_test, NodeSdkPlaceholderInAuthorizationNeverReachesTheUpstream) {
  auto up = start_anthropic(
      "  - { host: api.anthropic.com, headers: { x-api-key: \"{{anthropic}}\" } }\n");
  const double before = stripped_total();
  const auto r = fetch(with_headers(
      node_sdk_headers, {"-d", "{\"model\":\"claude\"}", "https://api.anthropic.com/v1/messages"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string got = newest_request(*up);
  EXPECT_EQ(request_line(got), "POST /v1/messages HTTP/1.1");
  EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key});
  EXPECT_TRUE(field_values(got, "authorization").empty()) << got;
  EXPECT_EQ(count_of(got, placeholder), 0u) << got;
  EXPECT_EQ(count_of(got, api_key), 1u);
  EXPECT_EQ(field_values(got, "anthropic-version"), strings{"2023-06-01"});
  EXPECT_EQ(stripped_total() - before, 2);  // X-Api-Key and Authorization
}

// The attacker's spellings of the carriers (CGI/WSGI upstreams merge "_" into "-"), each
// one a second credential an upstream might read first.
TEST_F(strip_test, AttackerSpellingsOfEveryCarrierAreStripped) {
  auto up = start_anthropic(
      "  - { host: api.anthropic.com, headers: { x-api-key: \"{{anthropic}}\" } }\n");
  const double before = stripped_total();
  const std::string p = placeholder;
  const auto r = fetch({"-H", "AUTHORIZATION: Bearer " + p, "-H", "X_Api_Key: " + p, "-H",
                        "api_key: " + p, "-H", "X-Goog-Api_Key: " + p, "-H",
                        "X-Kept: not-a-carrier", "https://api.anthropic.com/v1/models"});
  ASSERT_EQ(r.status, 200) << r.err << r.body;
  const std::string got = newest_request(*up);
  EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key});
  EXPECT_EQ(count_of(got, placeholder), 0u) << got;
  EXPECT_EQ(field_values(got, "x-kept"), strings{"not-a-carrier"});
  EXPECT_EQ(stripped_total() - before, 4);
}

// strip: { defaults: false } keeps the client's own Authorization (an upstream that wants
// both), never the field the rule sets; strip: adds a field of the operator's choosing.
TEST_F(strip_test, StripIsConfigurablePerRule) {
  auto up = start_anthropic(
      "  - host: api.anthropic.com\n"
      "    paths: [/v1/]\n"
      "    headers: { x-api-key: \"{{anthropic}}\" }\n"
      "    strip: { defaults: false, headers: [x-session] }\n"
      "  - { host: api.anthropic.com, headers: { x-api-key: \"{{anthropic}}\" }, strip: "
      "[x-session] }\n");
  const auto own = fetch({"-H", "Authorization: Bearer own-session", "-H", "x-api-key: p", "-H",
                          "X-Session: s", "https://api.anthropic.com/v1/x"});
  ASSERT_EQ(own.status, 200) << own.err;
  std::string got = newest_request(*up);
  EXPECT_EQ(field_values(got, "authorization"), strings{"Bearer own-session"});
  EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key});
  EXPECT_TRUE(field_values(got, "x-session").empty());
  const auto other = fetch({"-H", "Authorization: Bearer own-session", "-H", "X_Session: s",
                            "https://api.anthropic.com/other"});
  ASSERT_EQ(other.status, 200) << other.err;
  got = newest_request(*up);
  EXPECT_TRUE(field_values(got, "authorization").empty()) << got;
  EXPECT_TRUE(field_values(got, "x_session").empty()) << got;
  EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key});
}

// Outside a rule's scope nothing is injected, so nothing is stripped: the agent's own
// Authorization for another path goes up as it was.
TEST_F(strip_test, RequestsARuleDoesNotCoverKeepTheirFields) {
  auto up = start_anthropic(
      "  - { host: api.anthropic.com, paths: [/v1/], headers: { x-api-key: \"{{anthropic}}\" } "
      "}\n");
  const auto r = fetch({"-H", "Authorization: Bearer agent-own", "https://api.anthropic.com/v2/x"});
  ASSERT_EQ(r.status, 200) << r.err;
  const std::string got = newest_request(*up);
  EXPECT_EQ(field_values(got, "authorization"), strings{"Bearer agent-own"});
  EXPECT_EQ(count_of(got, api_key), 0u);
}

}  // namespace
}  // namespace airlock::test

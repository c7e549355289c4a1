// Which requests a rule covers: its methods, and its path prefixes by whole segments.
// A path the upstream could read as another one (dot-segments, encoded dots and
// slashes) never matches a prefix, so "/v1/../admin" cannot borrow the /v1 credential.

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;
using intercept_scope_test = intercept_test;

TEST_F(intercept_scope_test, PathAndMethodScoping) {
  auto up = start_upstream();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - host: localhost\n"
                     "    paths: [/v1]\n"
                     "    methods: [POST]\n"
                     "    headers: { x-api-key: \"{{anthropic}}\" }\n",
                     {{"ANTHROPIC_KEY", api_key}});

  struct request {
    std::string method;
    std::string path;
    bool injected;
  };
  const std::vector<request> requests = {
      {"POST", "/v1/messages", true},
      {"POST", "/v1", true},
      {"POST", "/v1/", true},
      {"POST", "/v1/messages?beta=true", true},
      {"GET", "/v1/messages", false},
      {"PUT", "/v1/messages", false},
      {"POST", "/v1beta/messages", false},
      {"POST", "/V1/messages", false},
      {"POST", "/admin", false},
      {"POST", "//v1/messages", false},
      {"POST", "/v1/../admin", false},
      {"POST", "/v1/./messages", false},
      {"POST", "/v1/..", false},
      {"POST", "/v1/%2e%2e/admin", false},
      {"POST", "/v1/%2E%2E/admin", false},
      {"POST", "/v1/..%2Fadmin", false},
      {"POST", "/v1%2F..%2Fadmin", false},
  };
  for (const auto& req : requests) {
    SCOPED_TRACE(req.method + " " + req.path);
    std::vector<std::string> args = {"--path-as-is", "-X", req.method, "-H",
                                     std::string("x-api-key: ") + placeholder};
    if (req.method != "GET") {
      args.insert(args.end(), {"-d", "{}"});
    }
    args.push_back(https_url(*up, req.path));
    const auto r = fetch(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.status, 200) << r.body;
    // The request reached the upstream as sent, path untouched.
    EXPECT_EQ(request_line(r.body), req.method + " " + req.path + " HTTP/1.1");
    EXPECT_EQ(field_values(r.body, "x-api-key"), strings{req.injected ? api_key : placeholder});
  }
}

// Rules are tried in file order; a path the scoped rule refuses to judge falls to the
// next rule, never to the scoped one.
TEST_F(intercept_scope_test, FirstMatchingRuleWins) {
  auto up = start_upstream();
  start_intercepting("  scoped: { env: SCOPED_KEY }\n  general: { env: GENERAL_KEY }\n",
                     "  - { name: scoped, host: localhost, paths: [/v1], "
                     "headers: { x-api-key: \"{{scoped}}\" } }\n"
                     "  - { name: general, host: localhost, headers: { x-api-key: "
                     "\"{{general}}\" } }\n",
                     {{"SCOPED_KEY", "scoped-REAL-1"}, {"GENERAL_KEY", "general-REAL-2"}});

  for (const auto& [path, key] :
       std::vector<std::pair<std::string, std::string>>{{"/v1/x", "scoped-REAL-1"},
                                                        {"/v2/x", "general-REAL-2"},
                                                        {"/v1/../v2", "general-REAL-2"}}) {
    SCOPED_TRACE(path);
    const auto r = fetch({"--path-as-is", https_url(*up, path)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(field_values(r.body, "x-api-key"), strings{key});
  }
}

// Outside a rule's scope the request goes up as the agent sent it, but never with
// Proxy-Authorization: that field is for airlock, whatever the rule says.
TEST_F(intercept_scope_test, ProxyAuthorizationIsDroppedOutsideTheRulesScope) {
  auto up = start_upstream();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { host: localhost, paths: [/v1], headers: { x-api-key: "
                     "\"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}});

  const auto r = fetch({"-H", "Proxy-Authorization: Basic YWdlbnQ6cHc=", https_url(*up, "/other")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(request_line(r.body), "GET /other HTTP/1.1");
  EXPECT_EQ(field_values(r.body, "proxy-authorization"), strings{});
  EXPECT_EQ(field_values(r.body, "x-api-key"), strings{});
}

// "*.api.test" covers every subdomain, however deep, and nothing else: not the bare
// suffix, and not a name that merely ends in the same letters.
TEST_F(intercept_scope_test, WildcardRuleCoversSubdomainsOnly) {
  auto up = start_upstream(mint_leaf(
      pki_, "wild", {"DNS:a.api.test", "DNS:b.c.api.test", "DNS:api.test", "DNS:evilapi.test"}));
  const std::string port = std::to_string(up->port());
  airlock_settings settings;
  for (const std::string name : {"a.api.test", "b.c.api.test", "api.test", "evilapi.test"}) {
    settings.resolve[name + ":" + port] = up->address();
  }
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { host: \"*.api.test\", headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}}, settings);

  for (const std::string name : {"a.api.test", "b.c.api.test", "A.API.TEST."}) {
    const auto r = fetch({"https://" + name + ":" + port + "/v1/x"});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.status, 200) << name;
  }
  // Hosts outside the pattern are blind tunnels: the client sees the upstream's own
  // certificate (so it must trust the test CA) and its header goes through untouched.
  for (const std::string name : {"api.test", "evilapi.test"}) {
    const auto r = curl({"--cacert", pki_.ca_cert.string(), "-H", "x-api-key: agent-own", "-w",
                         "\n%{http_code}", "https://" + name + ":" + port + "/v1/x"});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_NE(r.out.find("\n200"), std::string::npos) << name;
  }
  const auto requests = up->requests();
  ASSERT_EQ(requests.size(), 5u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(field_values(requests[i], "x-api-key"), strings{api_key}) << requests[i];
  }
  for (std::size_t i = 3; i < 5; ++i) {
    EXPECT_EQ(field_values(requests[i], "x-api-key"), strings{"agent-own"}) << requests[i];
  }
}

}  // namespace
}  // namespace airlock::test

// Which requests a rule covers: its methods, and its path prefixes by whole segments.
// A path the upstream could read as another one (dot-segments, encoded dots and
// slashes, ";" parameters, "//", NUL) never matches a prefix, so "/v1/../admin" or
// "/v1/..;/admin" cannot borrow the /v1 credential. A rule without port: is for 443
// only, and the underscore twin of an injected field is dropped with it.

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
                     "    port: " +
                         std::to_string(up->port()) +
                         "\n"
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
      {"POST", "/v1/..;/admin", false},
      {"POST", "/v1;x/messages", false},
      {"POST", "/v1/%00/messages", false},
      {"POST", "/v1/%c0%ae%c0%ae/admin", false},
      {"POST", "/v1/%252e%252e/admin", false},
      {"POST", "/%76%31/messages", true},  // "%76%31" is "v1" to every server
  };
  std::size_t sent = 0;
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
    ASSERT_EQ(up->requests().size(), ++sent);
    // The request reached the upstream as sent, path untouched.
    const std::string got = newest_request(*up);
    EXPECT_EQ(request_line(got), req.method + " " + req.path + " HTTP/1.1");
    EXPECT_EQ(field_values(got, "x-api-key"), strings{req.injected ? api_key : placeholder});
  }
}

// Rules are tried in file order; a path the scoped rule refuses to judge falls to the
// next rule, never to the scoped one.
TEST_F(intercept_scope_test, FirstMatchingRuleWins) {
  auto up = start_upstream();
  const std::string port = std::to_string(up->port());
  start_intercepting("  scoped: { env: SCOPED_KEY }\n  general: { env: GENERAL_KEY }\n",
                     "  - { name: scoped, host: localhost, port: " + port +
                         ", paths: [/v1], headers: { x-api-key: \"{{scoped}}\" } }\n"
                         "  - { name: general, host: localhost, port: " +
                         port + ", headers: { x-api-key: \"{{general}}\" } }\n",
                     {{"SCOPED_KEY", "scoped-REAL-1"}, {"GENERAL_KEY", "general-REAL-2"}});

  std::size_t sent = 0;
  for (const auto& [path, key] :
       std::vector<std::pair<std::string, std::string>>{{"/v1/x", "scoped-REAL-1"},
                                                        {"/v2/x", "general-REAL-2"},
                                                        {"/v1/../v2", "general-REAL-2"}}) {
    SCOPED_TRACE(path);
    const auto r = fetch({"--path-as-is", https_url(*up, path)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(up->requests().size(), ++sent);
    EXPECT_EQ(field_values(newest_request(*up), "x-api-key"), strings{key});
  }
}

// Outside a rule's scope the request goes up as the agent sent it, but never with
// Proxy-Authorization: that field is for airlock, whatever the rule says.
TEST_F(intercept_scope_test, ProxyAuthorizationIsDroppedOutsideTheRulesScope) {
  auto up = start_upstream();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { host: localhost, port: " + std::to_string(up->port()) +
                         ", paths: [/v1], headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}});

  const auto r = fetch({"-H", "Proxy-Authorization: Basic YWdlbnQ6cHc=", https_url(*up, "/other")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(up->requests().size(), 1u);
  const std::string got = up->requests()[0];
  EXPECT_EQ(request_line(got), "GET /other HTTP/1.1");
  EXPECT_EQ(field_values(got, "proxy-authorization"), strings{});
  EXPECT_EQ(field_values(got, "x-api-key"), strings{});
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
                     "  - { host: \"*.api.test\", port: " + port +
                         ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
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

// The finding: Tomcat, Jetty and Spring read "/my-org/..;/other-org/repo" as
// "/other-org/repo", so a rule for /my-org/ must not send its key with it. The request
// goes up without that credential, as any path outside the rule does.
TEST_F(intercept_scope_test, AttackerPathParameterLeavesTheScopeWithoutTheKey) {
  auto up = start_upstream();
  start_intercepting("  github: { env: GITHUB_TOKEN }\n",
                     "  - { host: localhost, port: " + std::to_string(up->port()) +
                         ", paths: [/my-org/], headers: { Authorization: \"Bearer {{github}}\" } "
                         "}\n",
                     {{"GITHUB_TOKEN", git_token}});

  const auto ok = fetch({https_url(*up, "/my-org/repo/info/refs")});
  ASSERT_EQ(ok.status, 200) << ok.err;
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "authorization"),
            strings{std::string("Bearer ") + git_token});
  std::size_t sent = 1;
  for (const std::string path :
       {"/my-org/..;/other-org/repo", "/my-org/repo/..;/..;/other-org/repo",
        "/my-org/.;/..;/other-org", "/my-org/..%3B/other-org", "/my-org/%2e%2e;x/other-org",
        "/my-org;/../other-org", "/my-org/x%00/../../other-org", "/my-org//../other-org"}) {
    SCOPED_TRACE(path);
    const auto r =
        fetch({"--path-as-is", "-H", "Authorization: Bearer agent-own", https_url(*up, path)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(up->requests().size(), ++sent);
    const std::string got = newest_request(*up);
    EXPECT_EQ(request_line(got), "GET " + path + " HTTP/1.1");
    EXPECT_EQ(field_values(got, "authorization"), strings{"Bearer agent-own"});
  }
  EXPECT_EQ(count_of(up->received(), git_token), 1u);
}

// The finding: "CONNECT api.x:8443" got the key of a rule that named no port. Without
// port: a rule is for 443; another port of the same host is a blind tunnel.
TEST_F(intercept_scope_test, AttackerOtherPortOfARuleWithoutPortGetsNoKey) {
  const cert_pair leaf = mint_leaf(pki_, "api", {"DNS:api.test"});
  auto on_443 = start_upstream(leaf);
  auto on_other = start_upstream(leaf);
  const std::string other = "api.test:" + std::to_string(on_other->port());
  airlock_settings settings;
  settings.resolve["api.test:443"] = on_443->address();
  settings.resolve[other] = on_other->address();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { host: api.test, headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}}, settings);

  const auto ok = fetch({"-H", std::string("x-api-key: ") + placeholder, "https://api.test/v1/x"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  ASSERT_EQ(on_443->requests().size(), 1u);
  EXPECT_EQ(field_values(on_443->requests()[0], "x-api-key"), strings{api_key});
  // Not intercepted: the agent sees the upstream's own certificate (airlock's CA fails)...
  const auto refused = fetch({"https://" + other + "/v1/x"});
  EXPECT_EQ(refused.exit_code, 60) << refused.err;  // CURLE_PEER_FAILED_VERIFICATION
  // ...and a client that trusts it talks to the upstream end to end, with its own key.
  const auto blind = curl({"--cacert", pki_.ca_cert.string(), "-H",
                           std::string("x-api-key: ") + placeholder, "https://" + other + "/v1/x"});
  ASSERT_EQ(blind.exit_code, 0) << blind.err;
  ASSERT_EQ(on_other->requests().size(), 1u);
  EXPECT_EQ(field_values(on_other->requests()[0], "x-api-key"), strings{placeholder});
  EXPECT_EQ(count_of(on_other->received(), api_key), 0u);
  // Plain http:// to that port is not upgraded to carry the key either.
  const auto plain =
      curl({"-H", std::string("x-api-key: ") + placeholder, "http://" + other + "/"});
  EXPECT_EQ(count_of(on_other->received(), api_key), 0u);
  EXPECT_EQ(count_of(plain.out + plain.err, api_key), 0u);
}

// CGI, WSGI and Rack upstreams read x_api_key as x-api-key (both HTTP_X_API_KEY): the
// agent's underscore twin of an injected field is dropped with it, whatever its case.
TEST_F(intercept_scope_test, AttackerUnderscoreTwinOfTheInjectedFieldIsDropped) {
  auto up = start_upstream();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { host: localhost, port: " + std::to_string(up->port()) +
                         ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}});

  const auto r =
      fetch({"-H", "x_api_key: twin-one", "-H", "X_API-KEY: twin-two", "-H",
             "x-api-key: placeholder", "-H", "x_other_field: kept", https_url(*up, "/v1/x")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(up->requests().size(), 1u);
  const std::string got = up->requests()[0];
  EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key});
  EXPECT_EQ(field_values(got, "x_api_key"), strings{});
  EXPECT_EQ(field_values(got, "x_api-key"), strings{});
  EXPECT_EQ(field_values(got, "x_other_field"), strings{"kept"});
  for (const char* twin : {"twin-one", "twin-two"}) {
    EXPECT_EQ(count_of(up->received(), twin), 0u) << twin;
  }
}

}  // namespace
}  // namespace airlock::test

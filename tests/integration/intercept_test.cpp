// Credential injection on an intercepted CONNECT: the agent sends a placeholder (or
// several, or its own Authorization) and the upstream receives exactly one value, the
// real one, in the form the rule gives (header template, basic auth, query parameter).

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/ws_frames.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

TEST_F(intercept_test, PlaceholderKeyIsReplacedByTheSecret) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  const auto r = fetch({"-H", std::string("x-api-key: ") + placeholder, https_url(*up, "/v1/x")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  const std::string got = up->requests()[0];
  EXPECT_EQ(request_line(got), "GET /v1/x HTTP/1.1");
  EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key});
  EXPECT_EQ(field_values(got, "host"), strings{"localhost:" + std::to_string(up->port())});
  EXPECT_EQ(count_of(up->received(), placeholder), 0u);
  // curl got the upstream's echo of that request back through airlock.
  EXPECT_EQ(request_line(r.body), "GET /v1/x HTTP/1.1");
  // Logged at debug (the test default), the injection leaves no trace of the value.
  EXPECT_NE(airlock_output().find("inject: rule localhost"), std::string::npos);
  EXPECT_EQ(count_of(airlock_output(), api_key), 0u);
  EXPECT_EQ(count_of(r.err, api_key), 0u);
}

TEST_F(intercept_test, EveryClientCopyOfTheFieldIsReplacedByOne) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  // Copies in three spellings, and credentials meant for airlock itself.
  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const std::string host = "localhost:" + std::to_string(up->port());
  ASSERT_TRUE(tunnel->send("GET /v1/x HTTP/1.1\r\nHost: " + host +
                           "\r\n"
                           "X-Api-Key: one\r\n"
                           "x-api-key: two\r\n"
                           "Proxy-Authorization: Basic YWdlbnQ6cHc=\r\n"
                           "X-API-KEY: three\r\n"
                           "\r\n"));
  const auto r = tunnel->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  const std::string got = up->requests()[0];
  EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key}) << got;
  EXPECT_EQ(field_values(got, "proxy-authorization"), strings{}) << got;
  for (const char* copy : {"one", "two", "three", "YWdlbnQ6cHc="}) {
    EXPECT_EQ(count_of(got, copy), 0u) << copy << " reached the upstream:\n" << got;
  }
}

TEST_F(intercept_test, CurlDuplicatesAndProxyAuthorizationAreDropped) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  // -H goes to the origin only (curl keeps proxy and server headers apart), so these
  // are inside the tunnel, where airlock must remove them.
  const auto r = fetch({"-H", "x-api-key: first", "-H", "X-Api-Key: second", "-H",
                        "Proxy-Authorization: Bearer agent-token", https_url(*up, "/v1/x")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  const std::string got = newest_request(*up);
  EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key}) << got;
  EXPECT_EQ(field_values(got, "proxy-authorization"), strings{}) << got;
}

TEST_F(intercept_test, BasicAuthReplacesTheAgentsAuthorization) {
  auto up = start_upstream();
  start_intercepting("  github: { env: GITHUB_TOKEN }\n",
                     "  - host: localhost\n"
                     "    port: " +
                         std::to_string(up->port()) +
                         "\n"
                         "    basic_auth: { username: x-access-token, password: \"{{github}}\" }\n",
                     {{"GITHUB_TOKEN", git_token}});

  const auto r = fetch({"-u", "agent:pw", "-H", "authorization: Bearer agent-bearer",
                        https_url(*up, "/org/repo.git/info/refs")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  // base64("x-access-token:ghp-REAL-94d1c7ab3e6f")
  const std::string got = newest_request(*up);
  EXPECT_EQ(field_values(got, "authorization"),
            strings{"Basic eC1hY2Nlc3MtdG9rZW46Z2hwLVJFQUwtOTRkMWM3YWIzZTZm"})
      << got;
}

TEST_F(intercept_test, QueryParameterReplacesTheAgentsValue) {
  auto up = start_upstream();
  // A value with characters that must be percent-encoded, or it would add parameters.
  start_intercepting("  maps: { env: MAPS_KEY }\n",
                     "  - { host: localhost, port: " + std::to_string(up->port()) +
                         ", query: { key: \"{{maps}}\" } }\n",
                     {{"MAPS_KEY", "q/REAL+9=&x"}});

  // The agent's own key, also under an encoded spelling of the name ("k%65y" is "key").
  const auto r = fetch({https_url(*up, "/v1/x?key=agent1&a=1&k%65y=agent2&b=2")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(request_line(newest_request(*up)),
            "GET /v1/x?a=1&b=2&key=q%2FREAL%2B9%3D%26x HTTP/1.1");
}

TEST_F(intercept_test, SeveralFieldsAndTemplateText) {
  auto up = start_upstream();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n  github: { env: GITHUB_TOKEN }\n",
                     "  - host: localhost\n"
                     "    port: " +
                         std::to_string(up->port()) +
                         "\n"
                         "    headers:\n"
                         "      Authorization: \"Bearer {{github}}\"\n"
                         "      X-Org-Key: \"org-{{ anthropic }}-v2\"\n",
                     {{"ANTHROPIC_KEY", api_key}, {"GITHUB_TOKEN", git_token}});

  const auto r = fetch({"-H", "Authorization: Bearer agent", "-H", "x-org-key: agent", "-H",
                        "X-Other: kept", https_url(*up, "/")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string got = newest_request(*up);
  EXPECT_EQ(field_values(got, "authorization"), strings{std::string("Bearer ") + git_token});
  EXPECT_EQ(field_values(got, "x-org-key"), strings{std::string("org-") + api_key + "-v2"});
  // Fields no rule sets go through untouched.
  EXPECT_EQ(field_values(got, "x-other"), strings{"kept"});
}

// With pooling off every request needs a new upstream connection; all but the first
// resume the TLS session airlock kept for that authority instead of a full handshake,
// and every one of them still carries the credential.
TEST_F(intercept_test, NewUpstreamConnectionsResumeTheTlsSession) {
  auto up = start_upstream();
  airlock_settings settings;
  settings.pool_max_idle = 0;
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}},
                     settings);

  for (int i = 0; i < 3; ++i) {
    const auto r = fetch({"-H", std::string("x-api-key: ") + placeholder, https_url(*up, "/r")});
    EXPECT_EQ(r.status, 200) << r.body;
  }
  EXPECT_EQ(up->handshakes(), 3u);
  EXPECT_EQ(up->resumed(), 2u);
  for (const auto& req : up->requests()) {
    EXPECT_EQ(field_values(req, "x-api-key"), strings{api_key}) << req;
  }
}

TEST_F(intercept_test, KeepAliveRequestsOnOneClientConnectionAreAllInjected) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  // Two transfers in one curl run: the second reuses the first's intercepted tunnel.
  const auto r = curl_via_ca({"-H", std::string("x-api-key: ") + placeholder, "-w",
                              "\n[%{http_code} %{num_connects}]\n", https_url(*up, "/one"),
                              https_url(*up, "/two")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_of(r.out, "[200 1]"), 1u) << r.out;
  EXPECT_EQ(count_of(r.out, "[200 0]"), 1u) << r.out;
  const auto requests = up->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(request_line(requests[0]), "GET /one HTTP/1.1");
  EXPECT_EQ(request_line(requests[1]), "GET /two HTTP/1.1");
  for (const auto& req : requests) {
    EXPECT_EQ(field_values(req, "x-api-key"), strings{api_key}) << req;
  }
  // Both tunnels' requests went over one upstream connection too (pooled).
  EXPECT_EQ(up->connections(), 1u);
}

TEST_F(intercept_test, RequestBodyIsRelayedWithTheInjectedHead) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  const std::string body = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
  const auto r =
      fetch({"-H", "content-type: application/json", "-d", body, https_url(*up, "/v1/messages")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  const std::string got = up->requests()[0];
  EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key});
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), body);
}

// HTTP/1.0 without Host: the CONNECT authority is the only one there is, and airlock
// names it to the upstream itself.
TEST_F(intercept_test, RequestWithoutHostGoesToTheConnectAuthority) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /v1/x HTTP/1.0\r\n\r\n"));
  const auto r = tunnel->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "host"),
            strings{"localhost:" + std::to_string(up->port())});
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
}

// Host names compare without case and without a trailing dot, as DNS does: the rule
// for "localhost" covers "LocalHost." too (and the upstream sees one canonical Host).
TEST_F(intercept_test, ConnectHostMatchesWithoutCaseOrTrailingDot) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  std::size_t sent = 0;
  for (const std::string host : {"LOCALHOST", "localhost.", "LocalHost."}) {
    SCOPED_TRACE(host);
    const auto r = fetch({"https://" + host + ":" + std::to_string(up->port()) + "/v1/x"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(up->requests().size(), ++sent);
    const std::string got = newest_request(*up);
    EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key});
    EXPECT_EQ(field_values(got, "host"), strings{"localhost:" + std::to_string(up->port())});
  }
}

// A rule may name an IP address: the agent gets a leaf for that IP and the upstream's
// certificate is verified against it.
TEST_F(intercept_test, IpAddressRuleIsInterceptedAndVerified) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret,
                     "  - { host: 127.0.0.1, port: " + std::to_string(up->port()) +
                         ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}});

  const auto r = fetch({"https://" + up->address() + "/v1/x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field_values(newest_request(*up), "x-api-key"), strings{api_key});
}

// A WebSocket handshake is a request like any other: injected, then the connection is
// relayed both ways. The upstream answers the upgrade with 101 and every later message
// ("...\r\n\r\n" framed, as the echo server frames) with "pong:" and the message.
TEST_F(intercept_test, WebSocketHandshakeIsInjectedThenRelayed) {
  tls_echo_server up(
      tls_echo_options{localhost_cert(), [](const std::string& request) {
                         if (request.rfind("GET ", 0) == 0) {
                           return websocket_switch;
                         }
                         return proxy::testing::ws_encode({true, 1, "pong:" + request});
                       }});
  start_intercepting(anthropic_secret, x_api_key_rule(up.port()), {{"ANTHROPIC_KEY", api_key}});

  auto tunnel = open_tunnel(up.port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(
      tunnel->send("GET /v1/stream HTTP/1.1\r\nHost: localhost:" + std::to_string(up.port()) +
                   "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "x-api-key: placeholder\r\n\r\n"));
  const auto switched = tunnel->read_response(5s, true);
  ASSERT_TRUE(switched);
  EXPECT_EQ(switched->status, 101) << switched->head;
  ASSERT_TRUE(tunnel->send("hello\r\n\r\n"));
  EXPECT_TRUE(tunnel->read_until("pong:hello\r\n\r\n", 5s)) << tunnel->buffered();
  ASSERT_GE(up.requests().size(), 1u);
  EXPECT_EQ(field_values(up.requests()[0], "x-api-key"), strings{api_key});
  EXPECT_EQ(field_values(up.requests()[0], "upgrade"), strings{"websocket"});
}

}  // namespace
}  // namespace airlock::test

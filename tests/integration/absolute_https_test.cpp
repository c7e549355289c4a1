// https:// and wss:// URLs in absolute form on the plain proxy listener (scripts that
// hand-roll a proxy request with the URL as its target; issue 19): airlock opens and verifies the
// TLS itself, and the request gets what an intercepted one gets: the credential, the
// carriers stripped, the answer scrubbed. The attacker's attempts beside it: an upstream
// airlock cannot verify gets no byte, a Host naming another authority is refused, a host no
// rule or telemetry path names is not dialled at all, and a query without a path is judged
// at "/".

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/recording_server.hpp"
#include "tests/support/ws_frames.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

std::string https_get(const std::string& scheme, std::uint16_t port, const std::string& path,
                      const std::string& fields) {
  const std::string authority = "localhost:" + std::to_string(port);
  return "GET " + scheme + "://" + authority + path + " HTTP/1.1\r\nHost: " + authority + "\r\n" +
         fields + "\r\n";
}

TEST_F(intercept_test, HttpsUrlOnThePlainListenerCarriesTheCredentialOverVerifiedTls) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  auto client = connect();
  const std::string carriers = std::string("x-api-key: ") + placeholder +
                               "\r\nAuthorization: Bearer " + placeholder + "\r\n";
  for (int i = 0; i < 2; ++i) {  // keep-alive: both go up over TLS
    ASSERT_TRUE(
        client->send(https_get("https", up->port(), "/v1/x?n=" + std::to_string(i), carriers)));
    const auto r = client->read_response(5s);
    ASSERT_TRUE(r) << client->buffered();
    EXPECT_EQ(r->status, 200) << r->head;
    // The echo of the upstream's request comes back with the key masked.
    EXPECT_EQ(request_line(r->body), "GET /v1/x?n=" + std::to_string(i) + " HTTP/1.1");
    EXPECT_EQ(count_of(r->body, api_key), 0u) << r->body;
    EXPECT_NE(r->body.find(std::string(std::string_view(api_key).size(), '*')), std::string::npos);
  }
  ASSERT_EQ(up->requests().size(), 2u);
  for (const auto& got : up->requests()) {
    EXPECT_EQ(field_values(got, "x-api-key"), strings{api_key});
    EXPECT_TRUE(field_values(got, "authorization").empty()) << got;
    EXPECT_EQ(field_values(got, "host"), strings{"localhost:" + std::to_string(up->port())});
  }
  EXPECT_EQ(count_of(up->received(), placeholder), 0u);
  EXPECT_GE(up->handshakes(), 1u);
  EXPECT_EQ(count_of(airlock_output(), api_key), 0u);
}

TEST_F(intercept_test, HttpsUrlToAnUpstreamAirlockCannotVerifyIs502WithNoByteSent) {
  auto up = start_upstream(mint_leaf(pki_, "wrong", {"DNS:wrong.test"}));
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  auto client = connect();
  ASSERT_TRUE(client->send(https_get("https", up->port(), "/v1/x", "")));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << client->buffered();
  EXPECT_EQ(r->status, 502) << r->head;
  EXPECT_TRUE(up->requests().empty());
  EXPECT_EQ(count_of(up->received(), api_key), 0u);
}

TEST_F(intercept_test, HttpsUrlWhoseHostNamesAnotherAuthorityIsRefused) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});
  const std::string port = std::to_string(up->port());
  for (const std::string& host :
       std::vector<std::string>{"localhost", "localhost:443", "evil.test:" + port}) {
    auto client = connect();
    ASSERT_TRUE(
        client->send("GET https://localhost:" + port + "/ HTTP/1.1\r\nHost: " + host + "\r\n\r\n"));
    const auto r = client->read_response(5s);
    ASSERT_TRUE(r) << host;
    EXPECT_EQ(r->status, 400) << host;
  }
  EXPECT_TRUE(up->requests().empty());
}

// airlock's TLS client talks only to servers the configuration names. Were it to open TLS to
// any https:// URL, an agent's own server could send a certificate list of ~100 KB that
// every upstream connection and cached session keeps (about 1 MiB each, measured): the
// request is refused before anything is dialled, and CONNECT tunnels such a host blind.
TEST_F(intercept_test, HttpsUrlToAHostNoRuleNamesIsRefusedWithoutADial) {
  auto named = start_upstream();
  auto other = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(named->port()), {{"ANTHROPIC_KEY", api_key}});
  for (const std::string scheme : {"https", "wss"}) {
    auto client = connect();
    ASSERT_TRUE(client->send(https_get(scheme, other->port(), "/x", "")));
    const auto r = client->read_response(5s);
    ASSERT_TRUE(r) << client->buffered();
    EXPECT_EQ(r->status, 400) << r->head;
    EXPECT_NE(r->body.find("through CONNECT"), std::string::npos) << r->body;
  }
  EXPECT_EQ(other->connections(), 0u);
  // The same host through CONNECT: a blind tunnel, the agent's own TLS.
  auto tunnel = connect();
  const std::string authority = "localhost:" + std::to_string(other->port());
  ASSERT_TRUE(
      tunnel->send("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n"));
  const auto established = tunnel->read_response(5s, true);
  ASSERT_TRUE(established);
  EXPECT_EQ(established->status, 200);
  // Beside it, the host a rule names is served over the TLS airlock opens.
  auto client = connect();
  ASSERT_TRUE(client->send(https_get("https", named->port(), "/v1/x", "")));
  const auto ok = client->read_response(5s);
  ASSERT_TRUE(ok) << client->buffered();
  EXPECT_EQ(ok->status, 200) << ok->head;
  ASSERT_EQ(named->requests().size(), 1u);
  EXPECT_EQ(field_values(named->requests()[0], "x-api-key"), strings{api_key});
}

// A URL with a query and no path goes up as "GET /?q": a telemetry entry for "/" answers it
// as it answers "/x", over https:// and http:// alike, and neither upstream hears of it.
TEST_F(intercept_test, QueryWithoutAPathIsJudgedAtTheRoot) {
  auto tls_up = start_upstream(mint_leaf(pki_, "t", {"DNS:t.test"}));
  recording_server plain_up;
  airlock_settings settings;
  settings.resolve["t.test:443"] = tls_up->address();
  settings.resolve["t.test:80"] = plain_up.authority();
  settings.extra_yaml =
      tls_yaml() + "telemetry:\n  block: [ { name: all, host: t.test, path: / } ]\n";
  start_airlock(settings);
  for (const std::string target : {"https://t.test/x", "https://t.test?x=1", "http://t.test?x=1",
                                   "wss://t.test?x", "http://t.test/x"}) {
    auto client = connect();
    ASSERT_TRUE(client->send("GET " + target + " HTTP/1.1\r\nHost: t.test\r\n\r\n"));
    const auto r = client->read_response(5s);
    ASSERT_TRUE(r) << target << client->buffered();
    EXPECT_EQ(r->status, 204) << target << "\n" << r->head;
    EXPECT_EQ(r->header("x-airlock-reason"), "telemetry_blocked rule=all") << target;
  }
  EXPECT_EQ(tls_up->connections(), 0u);
  EXPECT_EQ(plain_up.connections(), 0u);
}

// A wss:// upgrade is a WebSocket over the TLS airlock opens: injected, then relayed with
// the answer's frames scrubbed.
TEST_F(intercept_test, WssUrlOnThePlainListenerIsAnInjectedWebSocket) {
  tls_echo_server up(tls_echo_options{
      localhost_cert(), [](const std::string& request) {
        if (request.rfind("GET ", 0) == 0) {
          return websocket_switch;
        }
        return proxy::testing::ws_encode({true, 1, std::string("key was ") + api_key});
      }});
  start_intercepting(anthropic_secret, x_api_key_rule(up.port()), {{"ANTHROPIC_KEY", api_key}});

  auto client = connect();
  ASSERT_TRUE(client->send(https_get("wss", up.port(), "/v1/responses",
                                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                     "Sec-WebSocket-Version: 13\r\n"
                                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     "x-api-key: placeholder\r\n")));
  const auto switched = client->read_response(5s, true);
  ASSERT_TRUE(switched) << client->buffered();
  EXPECT_EQ(switched->status, 101) << switched->head;
  ASSERT_TRUE(client->send("hello\r\n\r\n"));
  EXPECT_TRUE(client->read_until("key was ", 5s)) << client->buffered();
  EXPECT_TRUE(client->read_until(std::string(std::string_view(api_key).size(), '*'), 5s))
      << client->buffered();
  EXPECT_EQ(count_of(client->buffered(), api_key), 0u);
  ASSERT_GE(up.requests().size(), 1u);
  EXPECT_EQ(request_line(up.requests()[0]), "GET /v1/responses HTTP/1.1");
  EXPECT_EQ(field_values(up.requests()[0], "x-api-key"), strings{api_key});
}

}  // namespace
}  // namespace airlock::test

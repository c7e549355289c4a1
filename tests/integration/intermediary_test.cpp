// airlock as an intermediary (RFC 9110 7.6): a TRACE (or TRACK, DEBUG) to a credential
// host or a reverse route, answered by an upstream that reflects the request, would hand
// the injected key to the agent: refused with 405 and never sent. Max-Forwards ends
// OPTIONS and TRACE at airlock; h2c upgrades are never relayed (the bytes after a 101
// would go up unparsed); Via names airlock on both legs.

#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

const std::string anthropic_secret = "  anthropic: { env: ANTHROPIC_KEY }\n";
// A rule without port: means 443; the test upstreams listen on free ports.
std::string localhost_rule(std::uint16_t port) {
  return "  - { host: localhost, port: " + std::to_string(port) +
         ", headers: { x-api-key: \"{{anthropic}}\" } }\n";
}

class intermediary_test : public intercept_test {
 protected:
  // What is wrong with a refusal of a reflecting method; empty when it was right.
  static std::string refused_405(const std::optional<http_response>& r) {
    if (!r) {
      return "no answer";
    }
    std::string why;
    if (r->status != 405) {
      why += "status " + std::to_string(r->status) + "; ";
    }
    if (r->header("allow").value_or("").find("GET") == std::string::npos) {
      why += "no Allow; ";
    }
    if (r->header("x-airlock-reason") != "method_refused") {
      why += "no X-Airlock-Reason: method_refused; ";
    }
    if (!r->header("proxy-status")) {
      why += "no Proxy-Status; ";
    }
    // scrub: what the agent sees; with response scrubbing a reflected key comes back masked,
    // so this alone no longer shows the method was not sent (the upstream's record does).
    if (count_of(r->head + r->body, api_key) != 0) {
      why += "the key came back; ";
    }
    return why.empty() ? why : why + "\n" + r->head + r->body;
  }
};

TEST_F(intermediary_test, ReflectingMethodsToACredentialHostAreRefusedAndNeverSent) {
  auto up = start_upstream();  // answers every request with the head it received
  start_intercepting(anthropic_secret, localhost_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});
  const std::string host = "localhost:" + std::to_string(up->port());

  // Beside the attack: an ordinary request is injected, and this upstream reflects it.
  const auto normal = fetch({https_url(*up, "/v1/x")});
  ASSERT_EQ(normal.status, 200) << normal.err;
  ASSERT_EQ(request_line(normal.body), "GET /v1/x HTTP/1.1");
  ASSERT_EQ(up->requests().size(), 1u);
  ASSERT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});

  // Inside the intercepted tunnel, every reflecting method and spelling.
  for (const std::string method : {"TRACE", "TRACK", "DEBUG", "trace"}) {
    auto tunnel = open_tunnel(up->port());
    ASSERT_TRUE(tunnel);
    ASSERT_TRUE(tunnel->send(method + " /v1/x HTTP/1.1\r\nHost: " + host + "\r\n\r\n"));
    EXPECT_EQ(refused_405(tunnel->read_response(5s)), "") << method;
    EXPECT_TRUE(tunnel->wait_closed(2s)) << method;
  }
  // Plain http:// to the credential host would go up as https with the key.
  auto client = connect();
  ASSERT_TRUE(
      client->send("TRACE http://" + host + "/v1/x HTTP/1.1\r\nHost: " + host + "\r\n\r\n"));
  EXPECT_EQ(refused_405(client->read_response(5s)), "");
  // curl's own TRACE through the proxy.
  const auto traced = fetch({"-i", "-X", "TRACE", https_url(*up, "/v1/x")});
  EXPECT_EQ(traced.status, 405) << traced.body;
  // scrub: what the agent sees (see refused_405); the upstream's record below is the proof.
  EXPECT_EQ(count_of(traced.body, api_key), 0u) << traced.body;

  ASSERT_EQ(up->requests().size(), 1u);  // only the ordinary request ever went up
  EXPECT_EQ(request_line(up->requests()[0]), "GET /v1/x HTTP/1.1");
}

TEST_F(intermediary_test, ReflectingMethodsOnAReverseRouteAreRefused) {
  auto up = start_upstream(mint_leaf(pki_, "api", {"DNS:api.test"}));
  const std::string api = "api.test:" + std::to_string(up->port());
  airlock_settings settings;
  settings.resolve[api] = up->address();
  settings.extra_yaml =
      tls_yaml() + "routes:\n  - { prefix: /api, upstream: \"https://" + api + "\" }\n";
  start_intercepting(anthropic_secret,
                     "  - { host: api.test, headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}}, settings);
  const std::string self = "127.0.0.1:" + std::to_string(airlock().port());

  for (const std::string method : {"TRACE", "TRACK", "DEBUG"}) {
    auto client = connect();
    ASSERT_TRUE(client->send(method + " /api/v1/x HTTP/1.1\r\nHost: " + self + "\r\n\r\n"));
    EXPECT_EQ(refused_405(client->read_response(5s)), "") << method;
  }
  auto client = connect();
  ASSERT_TRUE(client->send("GET /api/v1/x HTTP/1.1\r\nHost: " + self + "\r\n\r\n"));
  const auto ok = client->read_response(5s);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(request_line(up->requests()[0]), "GET /v1/x HTTP/1.1");
}

TEST_F(intermediary_test, MaxForwardsEndsOptionsAndTraceAtAirlock) {
  recording_server up;
  auto up_tls = start_upstream();
  start_intercepting(anthropic_secret, localhost_rule(up_tls->port()),
                     {{"ANTHROPIC_KEY", api_key}});
  const std::string a = up.authority();

  // Elsewhere than a credential host TRACE is relayed, one hop less.
  auto client = connect();
  ASSERT_TRUE(client->send("TRACE http://" + a + "/t HTTP/1.1\r\nHost: " + a +
                           "\r\nMax-Forwards: 2\r\n\r\n"));
  auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(up.requests().size(), 1u);
  EXPECT_EQ(field_values(up.requests()[0], "max-forwards"), strings{"1"});

  // At 0 airlock is the last hop: OPTIONS is answered here, on a connection that goes on.
  ASSERT_TRUE(client->send("OPTIONS http://" + a + "/o HTTP/1.1\r\nHost: " + a +
                           "\r\nMax-Forwards: 0\r\n\r\n"));
  r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->head;
  EXPECT_EQ(r->header("allow"), "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  ASSERT_TRUE(client->send("OPTIONS http://" + a + "/o HTTP/1.1\r\nHost: " + a +
                           "\r\nMax-Forwards: 1\r\n\r\n"));
  r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(up.requests().size(), 2u);
  EXPECT_EQ(field_values(up.requests()[1], "max-forwards"), strings{"0"});

  // TRACE at 0 is not reflected by airlock either.
  ASSERT_TRUE(client->send("TRACE http://" + a + "/t HTTP/1.1\r\nHost: " + a +
                           "\r\nMax-Forwards: 0\r\n\r\n"));
  r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405) << r->head;
  EXPECT_EQ(up.requests().size(), 2u);

  // Inside an intercepted tunnel too: answered without the upstream or a credential.
  auto tunnel = open_tunnel(up_tls->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("OPTIONS /v1/x HTTP/1.1\r\nHost: localhost:" +
                           std::to_string(up_tls->port()) + "\r\nMax-Forwards: 0\r\n\r\n"));
  r = tunnel->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(up_tls->connections(), 0u);
}

TEST_F(intermediary_test, H2cUpgradeIsNeverRelayed) {
  // An upstream that switches to whatever it is asked: after its 101, airlock would
  // relay the agent's bytes unparsed, requests no check here ever saw.
  recording_server up(recording_options{
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"});
  start_airlock();
  const std::string a = up.authority();
  const std::string smuggled = "GET http://" + a + "/internal HTTP/1.1\r\nHost: " + a + "\r\n\r\n";

  auto client = connect();
  ASSERT_TRUE(client->send("GET http://" + a + "/ HTTP/1.1\r\nHost: " + a +
                           "\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                           "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502) << r->head;  // a switch nobody asked for
  client->send(smuggled);
  EXPECT_TRUE(client->wait_closed(2s));
  ASSERT_TRUE(up.wait_for_requests(1, 2s));
  const std::string got = up.requests()[0];
  EXPECT_TRUE(field_values(got, "upgrade").empty()) << got;
  EXPECT_TRUE(field_values(got, "http2-settings").empty()) << got;
  EXPECT_TRUE(field_values(got, "connection").empty()) << got;
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(up.received().find("/internal"), std::string::npos) << up.received();

  // Asked for WebSocket, an upstream that switches to h2c instead is refused too.
  auto ws = connect();
  ASSERT_TRUE(ws->send("GET http://" + a + "/ HTTP/1.1\r\nHost: " + a +
                       "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"));
  const auto w = ws->read_response(5s);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->status, 502) << w->head;
  ws->send(smuggled);
  EXPECT_TRUE(ws->wait_closed(2s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(up.received().find("/internal"), std::string::npos) << up.received();
}

TEST_F(intermediary_test, ViaNamesAirlockOnBothLegsUnlessSwitchedOff) {
  for (const bool on : {true, false}) {
    SCOPED_TRACE(on ? "via on" : "via off");
    recording_server up(
        recording_options{"HTTP/1.1 200 OK\r\nVia: 1.1 cdn\r\nContent-Length: 2\r\n\r\nok"});
    airlock_settings settings;
    if (!on) {
      settings.proxy_yaml = "  via: false\n";
    }
    start_airlock(settings);
    auto client = connect();
    ASSERT_TRUE(client->send("GET " + up.url("/") + " HTTP/1.1\r\nHost: " + up.authority() +
                             "\r\nVia: 1.1 corp\r\n\r\n"));
    const auto r = client->read_response(5s);
    ASSERT_TRUE(r);
    ASSERT_TRUE(up.wait_for_requests(1, 2s));
    const strings to_upstream = on ? strings{"1.1 corp", "1.1 airlock"} : strings{"1.1 corp"};
    const strings to_client = on ? strings{"1.1 cdn", "1.1 airlock"} : strings{"1.1 cdn"};
    EXPECT_EQ(field_values(up.requests()[0], "via"), to_upstream);
    EXPECT_EQ(field_values(r->head, "via"), to_client);
  }
}

}  // namespace
}  // namespace airlock::test

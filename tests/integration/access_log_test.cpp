// The access log in a running airlock: one line per request or tunnel with what an
// operator needs, and at every level (trace included) nothing of the secret, the
// injected value, the agent's placeholder, cookies or the query string.

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/ws_frames.hpp"

namespace airlock::test {
namespace {

using access_log_test = intercept_test;

std::vector<std::string> access_lines(const std::string& log) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < log.size()) {
    auto end = log.find('\n', pos);
    if (end == std::string::npos) {
      end = log.size();
    }
    const std::string line = log.substr(pos, end - pos);
    if (line.find(" info access ") != std::string::npos) {
      out.push_back(line);
    }
    pos = end + 1;
  }
  return out;
}

TEST_F(access_log_test, OneLinePerRequestAndNoSecretAtAnyLevel) {
  auto up = start_upstream();
  airlock_settings settings;
  settings.log_level = "trace";
  start_intercepting(
      "  anthropic: { env: ANTHROPIC_KEY }\n",
      "  - { name: anthropic-api, host: localhost, port: " + std::to_string(up->port()) +
          ", headers: { Authorization: \"Bearer "
          "{{anthropic}}\" } }\n",
      {{"ANTHROPIC_KEY", api_key}}, settings);

  const auto r = fetch({"-H", std::string("Authorization: Bearer ") + placeholder, "-H",
                        "Cookie: session=cookie-VALUE-77", "-d", "{}",
                        https_url(*up, "/v1/messages?key=query-VALUE-42")});
  ASSERT_EQ(r.status, 200);
  curl({"-s", "-o", "/dev/null", "https://statsig.anthropic.com/"});
  airlock().terminate();
  ASSERT_EQ(airlock().wait_exit(10s), 0);

  const std::string log = airlock_output();
  const auto lines = access_lines(log);
  ASSERT_EQ(lines.size(), 2u) << log;
  const std::string& req = lines[0];
  for (const std::string field : {"mode=intercept", "method=POST", "path=/v1/messages ",
                                  "status=200", "rule=anthropic-api", "reason=-"}) {
    EXPECT_NE(req.find(field), std::string::npos) << field << " in " << req;
  }
  EXPECT_NE(req.find("authority=localhost:" + std::to_string(up->port())), std::string::npos);
  EXPECT_NE(req.find("upstream_ms="), std::string::npos);
  EXPECT_NE(lines[1].find("mode=tunnel method=CONNECT authority=statsig.anthropic.com:443"),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[1].find("status=403"), std::string::npos);
  EXPECT_NE(lines[1].find("rule=claude-statsig reason=telemetry"), std::string::npos);
  // Nothing secret or client-private in any line, at trace.
  for (const char* value : {api_key, placeholder, "cookie-VALUE-77", "query-VALUE-42"}) {
    EXPECT_EQ(count_of(log, value), 0u) << value << " in the log:\n" << log;
  }
}

TEST_F(access_log_test, AccessLogCanBeSwitchedOff) {
  auto up = start_upstream();
  airlock_settings settings;
  settings.access_log = false;
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { host: localhost, port: " + std::to_string(up->port()) +
                         ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}}, settings);
  ASSERT_EQ(fetch({https_url(*up, "/v1/a")}).status, 200);
  EXPECT_EQ(access_lines(airlock_output()).size(), 0u);
}

// A WebSocket gets its line when it closes (issue 19, failure 6: Codex's model traffic is
// nothing but upgrades, and was invisible): status 101, how long, the bytes each way, the
// rule, and how many echoes of the key its frames had masked (issue 18).
TEST_F(access_log_test, AWebSocketIsLoggedWhenItCloses) {
  tls_echo_server up(tls_echo_options{localhost_cert(), [](const std::string& request) {
                                        if (request.rfind("GET ", 0) == 0) {
                                          return websocket_switch;
                                        }
                                        // Echoes the key the handshake carried, in a frame.
                                        const std::string payload = std::string("got ") + api_key;
                                        return proxy::testing::ws_encode({true, 1, payload});
                                      }});
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { name: realtime, host: localhost, port: " + std::to_string(up.port()) +
                         ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}});
  auto tunnel = open_tunnel(up.port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(
      tunnel->send("GET /v1/realtime HTTP/1.1\r\nHost: localhost:" + std::to_string(up.port()) +
                   "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
  const auto switched = tunnel->read_response(5s, true);
  ASSERT_TRUE(switched);
  ASSERT_EQ(switched->status, 101);
  ASSERT_TRUE(tunnel->send("hello\r\n\r\n"));
  ASSERT_TRUE(tunnel->read_until("got ************************", 5s)) << tunnel->buffered();
  EXPECT_EQ(count_of(tunnel->buffered(), api_key), 0u);
  // airlock asked for no extension, so the frames came uncompressed and could be read.
  EXPECT_EQ(up.requests()[0].find("Sec-WebSocket-Extensions"), std::string::npos);
  tunnel.reset();
  airlock().terminate();
  ASSERT_EQ(airlock().wait_exit(10s), 0);
  const auto lines = access_lines(airlock_output());
  ASSERT_FALSE(lines.empty()) << airlock_output();
  const std::string& ws = lines.back();
  for (const std::string field : {"mode=intercept", "method=GET", "path=/v1/realtime ",
                                  "status=101", "rule=realtime", "scrubbed=1"}) {
    EXPECT_NE(ws.find(field), std::string::npos) << field << " in " << ws;
  }
  EXPECT_EQ(ws.find("bytes_out=0 "), std::string::npos) << ws;
}

}  // namespace
}  // namespace airlock::test

// Attack review of response scrubbing (issue 18): what an agent steering an upstream on a
// credential host tries through the scrubbing path, beyond the cases the other scrub_* tests
// cover.

#include <gtest/gtest.h>

#include "tests/integration/scrub_fixture.hpp"
#include "tests/support/files.hpp"

namespace airlock::test {
namespace {

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

std::string long_text() {
  std::string t;
  for (int i = 0; i < 4000; ++i) {
    t += "line " + std::to_string(i) + " of an answer the agent must not take as whole\n";
  }
  return t;
}

// A gzip body whose second half is not gzip: airlock decodes the first half, masks and relays
// it, then finds the coding broken. To an HTTP/1.0 client the decoded body is delimited by the
// close, so an orderly close would tell it the cut-off body was whole: it must be a reset. Sent
// as plain http:// (upgraded to TLS upstream), so the client's leg tells a FIN from a reset.
TEST_F(scrub_test, AttackerBrokenCodingToAnHttp10ClientIsNotAnOrderlyEnd) {
  const std::string gz = compress(long_text(), zformat::gzip);
  const std::string broken = gz.substr(0, gz.size() / 2) + std::string(gz.size() / 2, '\xff');
  auto up = start_scripted(
      [&](const std::string&) {
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
                                 std::to_string(broken.size()) + "\r\n\r\n";
        return strings{head + broken.substr(0, broken.size() / 4),
                       broken.substr(broken.size() / 4)};
      },
      100ms);
  start_scrubbing(key_rule("coded", up->port()));

  const std::string authority = "localhost:" + std::to_string(up->port());
  auto client = connect();
  ASSERT_TRUE(
      client->send("GET http://" + authority + "/old HTTP/1.0\r\nHost: " + authority + "\r\n\r\n"));
  ASSERT_TRUE(client->read_until("\r\n\r\n", 5s));
  EXPECT_NE(client->buffered().find("200 OK"), std::string::npos) << client->buffered();
  EXPECT_TRUE(client->wait_closed(5s));
  EXPECT_TRUE(client->reset()) << "a cut-off body ended like a whole one";
}

// The same inside an intercepted tunnel, where the client's leg is TLS: a whole decoded
// body ends with close_notify (an orderly end), a cut-off one with a reset and none, so a
// TLS client can tell them apart as the plain one can.
TEST_F(scrub_test, InsideATunnelAWholeBodyEndsWithCloseNotifyAndAttackerCutOneWithout) {
  const std::string text = long_text();
  const std::string gz = compress(text, zformat::gzip);
  const std::string broken = gz.substr(0, gz.size() / 2) + std::string(gz.size() / 2, '\xff');
  auto up = start_scripted(
      [&](const std::string& request) {
        const std::string& body = request_target(request) == "/whole" ? gz : broken;
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n";
        return strings{head + body.substr(0, body.size() / 4), body.substr(body.size() / 4)};
      },
      100ms);
  start_scrubbing(key_rule("coded", up->port()));
  const std::string host = "Host: localhost:" + std::to_string(up->port()) + "\r\n\r\n";

  auto whole = open_tunnel(up->port());
  ASSERT_TRUE(whole);
  ASSERT_TRUE(whole->send("GET /whole HTTP/1.0\r\n" + host));
  const auto r = whole->read_response(10s);
  ASSERT_TRUE(r) << whole->buffered();
  EXPECT_EQ(r->body, masked(text, {scrub_secret}));
  EXPECT_TRUE(whole->wait_closed(5s));
  EXPECT_FALSE(whole->reset()) << "a whole body ended without close_notify";

  auto cut = open_tunnel(up->port());
  ASSERT_TRUE(cut);
  ASSERT_TRUE(cut->send("GET /cut HTTP/1.0\r\n" + host));
  ASSERT_TRUE(cut->read_until("\r\n\r\n", 5s));
  EXPECT_TRUE(cut->wait_closed(5s));
  EXPECT_TRUE(cut->reset()) << "a cut-off body ended like a whole one";
}

// A rotation during a long answer (an event stream, a WebSocket): the upstream (a request bin
// streaming what it receives) gets the new key on another connection after the rotation and
// shows it on the stream that began before it. The stream's scrubber was built for the old
// value only.
class scrub_rotation_test : public scrub_test {
 protected:
  static constexpr const char* first = "sk-ROTATE-one-7f3a9c21d4";
  static constexpr const char* second = "sk-ROTATE-two-5e8d0b44a1";

  void start_pushing(std::uint16_t port) {
    write_file(scratch("admin-token"), "tok-ADMIN-scrub-2f9c\n");
    airlock_settings settings;
    settings.admin_token_file = scratch("admin-token").string();
    start_intercepting("  key: { push: true }\n", key_rule("pushed", port), {}, settings);
    ASSERT_EQ(push(first), 200);
  }
  int push(const std::string& value) {
    return fetch_direct(
               {"-H", "Authorization: Bearer tok-ADMIN-scrub-2f9c", "-X", "PUT", "--data-binary",
                value,
                "http://127.0.0.1:" + std::to_string(airlock().admin_port()) + "/v1/secrets/key"})
        .status;
  }
};

TEST_F(scrub_rotation_test, AttackerStreamOpenAcrossARotationShowsTheNewKeyMasked) {
  auto up = start_scripted(
      [&](const std::string&) {
        return strings{
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            "Transfer-Encoding: chunked\r\n\r\n" +
                chunk("data: waiting\n\n"),
            chunk("data: got " + std::string(second) + "\n\n") + "0\r\n\r\n"};
      },
      1500ms);
  start_pushing(up->port());

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /events HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) +
                           "\r\n\r\n"));
  ASSERT_TRUE(tunnel->read_until("waiting", 5s));
  ASSERT_EQ(push(second), 200);  // before the upstream's next write
  const auto r = tunnel->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(leaked(r->body, second), "") << r->body;
}

TEST_F(scrub_rotation_test, AttackerWebSocketOpenAcrossARotationShowsTheNewKeyMasked) {
  const auto text = [](const std::string& payload) {
    std::string f = "\x81";
    f.push_back(static_cast<char>(payload.size()));
    return f + payload;
  };
  auto up = start_scripted(
      [&](const std::string&) {
        return strings{
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n" +
                text("waiting"),
            text("got " + std::string(second))};
      },
      1500ms);
  start_pushing(up->port());

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /ws HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) +
                           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
  ASSERT_TRUE(tunnel->read_until("waiting", 5s));
  ASSERT_EQ(push(second), 200);
  std::string got = tunnel->take_buffered();
  for (int i = 0; i < 30 && got.find("got ") == std::string::npos && !tunnel->closed(); ++i) {
    got += tunnel->read_some(100ms);
  }
  ASSERT_NE(got.find("got "), std::string::npos) << got;
  got += tunnel->read_some(300ms);
  EXPECT_EQ(leaked(got, second), "") << got;
}

}  // namespace
}  // namespace airlock::test

// Response scrubbing at the edges (issue 18): every head a scrubbed host sends is masked, the
// interim ones (103 Early Hints, 100 Continue) and a WebSocket 101 included, and its status
// line too; chunk extensions (a place for bytes outside the data) do not carry the key
// through; a body that ends with the first bytes of the key is released whole when it ends,
// without waiting for bytes that never come; and a secret pushed or rotated while airlock
// runs is masked from then on, like one it started with.

#include <gtest/gtest.h>

#include "tests/integration/scrub_fixture.hpp"
#include "tests/support/scrub_reference.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

const std::vector<std::string> key_only = {scrub_secret};

std::string stars(std::string_view s) {
  return std::string(s.size(), '*');
}

TEST_F(scrub_test, AttackerKeyInInterimAndSwitchingHeadsIsMasked) {
  const std::string s = scrub_secret;
  auto up = start_scripted([s](const std::string& request) {
    const std::string target = request_target(request);
    if (target == "/hints") {
      return strings{
          "HTTP/1.1 103 Early Hints\r\nLink: </style.css?key=" + s + ">; rel=preload\r\n\r\n",
          sized_response("ok\n")};
    }
    if (target == "/continue") {
      return strings{"HTTP/1.1 100 Continue\r\nX-Echo: " + s + "\r\n\r\n", sized_response("ok\n")};
    }
    return strings{
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: " +
        s + "\r\n\r\n"};
  });
  start_scrubbing(key_rule("heads", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /hints HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) +
                           "\r\n\r\n"));
  ASSERT_TRUE(tunnel->read_until("ok\n", 5s)) << tunnel->buffered();
  const std::string hints = tunnel->take_buffered();
  EXPECT_NE(hints.find("Link: </style.css?key=" + stars(s) + ">"), std::string::npos) << hints;
  EXPECT_EQ(leaked(hints, s), "") << hints;

  ASSERT_TRUE(
      tunnel->send("POST /continue HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) +
                   "\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi"));
  ASSERT_TRUE(tunnel->read_until("ok\n", 5s)) << tunnel->buffered();
  const std::string continued = tunnel->take_buffered();
  EXPECT_EQ(leaked(continued, s), "") << continued;

  ASSERT_TRUE(tunnel->send("GET /ws HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) +
                           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
  const auto switched = tunnel->read_response(5s, true);
  ASSERT_TRUE(switched);
  EXPECT_EQ(leaked(switched->head, s), "") << switched->head;
}

// The reason phrase is the upstream's to choose, and some servers put request data in it.
TEST_F(scrub_test, AttackerKeyInTheReasonPhraseIsMasked) {
  const std::string s = scrub_secret;
  auto up = start_fixed("HTTP/1.1 404 No such key " + s +
                        "\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nno\n");
  start_scrubbing(key_rule("reason", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto r = get(*tunnel, up->port(), "/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->head;
  EXPECT_EQ(leaked(r->head, s), "") << r->head;
}

TEST_F(scrub_test, AttackerKeyInChunkExtensionsNeverReachesTheAgent) {
  const std::string s = scrub_secret;
  // As a token (its hex spelling) and as a quoted string (the key itself).
  const std::string hex = proxy::testing::hex_encode(s, false);
  auto up = start_fixed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;sig=" + hex +
                        "\r\nabc\r\n3;k=\"" + s + "\"\r\ndef\r\n0;end=" + hex + "\r\n\r\n");
  start_scrubbing(key_rule("ext", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /ext HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) +
                           "\r\n\r\n"));
  ASSERT_TRUE(tunnel->read_until("\r\n0", 5s)) << tunnel->buffered();
  tunnel->read_until("\r\n\r\n0", 300ms);  // the rest, if any
  const std::string raw = tunnel->take_buffered();
  EXPECT_EQ(dechunk(raw.substr(raw.find("\r\n\r\n") + 4)), "abcdef") << raw;
  EXPECT_EQ(leaked(raw, s), "") << raw;
}

// The bytes held back at the end of a body (they could begin the key) go out when the body
// ends: with Content-Length, with chunked, and answering HEAD-free keep-alive requests after.
TEST_F(scrub_test, BodyEndingWithTheStartOfTheKeyIsReleasedWhenItEnds) {
  const std::string s = scrub_secret;
  const std::string body = "tail " + s.substr(0, s.size() - 1);
  auto up = start_scripted([body](const std::string& request) {
    if (request_target(request) == "/chunked") {
      return strings{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked({body})};
    }
    return strings{sized_response(body)};
  });
  start_scrubbing(key_rule("tail", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  for (const std::string path : {"/sized", "/chunked", "/sized"}) {
    SCOPED_TRACE(path);
    const auto started = std::chrono::steady_clock::now();
    const auto r = get(*tunnel, up->port(), path);
    ASSERT_TRUE(r);
    EXPECT_LT(seconds_since(started), 2.0);
    EXPECT_EQ(r->body, body);  // a key cut short is not the key: nothing to mask
  }
}

// After a 101 to anything but WebSocket the bytes are no HTTP and no frames airlock could
// read: from a scrubbed host they must not reach the agent unread.
TEST_F(scrub_test, AttackerOtherUpgradeNeverRelaysUnreadBytes) {
  const std::string s = scrub_secret;
  auto up = start_scripted(
      [s](const std::string&) {
        return strings{
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: custom/1\r\n"
            "Connection: Upgrade\r\n\r\n",
            "raw bytes " + s + "\n"};
      },
      50ms);
  start_scrubbing(key_rule("upgrade", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /u HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) +
                           "\r\nUpgrade: custom/1\r\nConnection: Upgrade\r\n\r\n"));
  tunnel->wait_closed(2s);
  EXPECT_EQ(leaked(tunnel->buffered(), s), "") << tunnel->buffered();
}

// A secret that arrives after start (push) and its rotation: the mask follows the value
// being injected.
TEST_F(scrub_test, PushedAndRotatedSecretsAreMaskedFromThenOn) {
  auto up = start_upstream();  // echoes the request head, injected key and all
  write_file(scratch("admin-token"), "tok-ADMIN-scrub-2f9c\n");
  airlock_settings settings;
  settings.admin_token_file = scratch("admin-token").string();
  start_intercepting("  key: { push: true }\n", key_rule("pushed", up->port()), {}, settings);
  const auto push = [&](const std::string& value) {
    return fetch_direct(
               {"-H", "Authorization: Bearer tok-ADMIN-scrub-2f9c", "-X", "PUT", "--data-binary",
                value,
                "http://127.0.0.1:" + std::to_string(airlock().admin_port()) + "/v1/secrets/key"})
        .status;
  };

  for (const std::string value : {"sk-PUSH-one-7f3a9c21d4", "sk-PUSH-two-5e8d0b44a1"}) {
    SCOPED_TRACE(value);
    ASSERT_EQ(push(value), 200);
    const auto r = fetch({https_url(*up, "/v1/x")});
    ASSERT_EQ(r.status, 200) << r.err;
    const std::string got = newest_request(*up);
    ASSERT_EQ(field_values(got, "x-api-key"), strings{value});
    EXPECT_EQ(r.body, masked(got, {value}));
    EXPECT_EQ(leaked(r.body, value), "") << r.body;
  }
}

}  // namespace
}  // namespace airlock::test

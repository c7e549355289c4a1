// Response scrubbing on streams (issue 18): server-sent events from a scrubbed host still go
// out one by one as the upstream writes them, and a key the upstream writes across two
// events is masked all the same; WebSocket frames from a scrubbed host are read and their
// payloads masked, a key split across fragments included, and the upstream is never offered
// compression it could use to hide the key from airlock.

#include <gtest/gtest.h>

#include "tests/integration/scrub_fixture.hpp"
#include "tests/support/scrub_reference.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;
using steady = std::chrono::steady_clock;

const std::vector<std::string> key_only = {scrub_secret};
const std::string sse_head =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

std::string event(int i) {
  return "data: {\"n\":" + std::to_string(i) + ",\"text\":\"plain words\"}\n\n";
}

// Reads until `needles` have all been seen in order (or 10 s pass); when each first showed up.
std::vector<steady::time_point> arrivals(raw_client& c, const strings& needles, std::string& seen) {
  std::vector<steady::time_point> at;
  const auto deadline = steady::now() + 10s;
  while (at.size() < needles.size() && steady::now() < deadline) {
    const std::string got = c.read_some(200ms);
    const auto now = steady::now();
    if (got.empty() && c.closed()) {
      break;
    }
    seen += got;
    while (at.size() < needles.size() && seen.find(needles[at.size()]) != std::string::npos) {
      at.push_back(now);
    }
  }
  return at;
}

TEST_F(scrub_test, SseEventsWithoutTheKeyGoOutOneByOne) {
  constexpr int events = 4;
  auto up = start_scripted(
      [](const std::string&) {
        std::vector<std::string> parts = {sse_head};
        for (int i = 0; i < events; ++i) {
          parts.push_back(chunk(event(i)));
        }
        parts.push_back("0\r\n\r\n");
        return parts;
      },
      300ms);
  start_scrubbing(key_rule("sse", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /events HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) +
                           "\r\nAccept: text/event-stream\r\n\r\n"));
  strings needles;
  for (int i = 0; i < events; ++i) {
    needles.push_back(event(i));
  }
  std::string seen;
  const auto at = arrivals(*tunnel, needles, seen);
  ASSERT_EQ(at.size(), needles.size()) << seen;
  for (std::size_t i = 1; i < at.size(); ++i) {
    // Spaced as written: an event held for the next one would arrive with it.
    EXPECT_GT(at[i] - at[i - 1], 150ms) << "event " << i << " came with event " << i - 1;
  }
}

// The upstream writes the start of the key at the end of one event's write, pauses, and
// writes the rest: the bytes that could begin the key wait for the next write, then the
// whole key goes out masked. The events before it were not held.
TEST_F(scrub_test, AttackerKeySplitAcrossTwoSseWritesIsMasked) {
  const std::string s = scrub_secret;
  const std::vector<std::string> spellings = {s, proxy::testing::base64_encode(s, false, false),
                                              proxy::testing::json_u_all(s, false),
                                              proxy::testing::percent_all(s, true)};
  auto up = start_scripted(
      [&spellings](const std::string& request) {
        const std::string target = request_target(request);
        const std::string& k = spellings.at(std::stoul(target.substr(target.rfind('/') + 1)));
        const std::size_t half = k.size() / 2;
        return std::vector<std::string>{sse_head + chunk(event(0)),
                                        chunk("data: \"key\":\"" + k.substr(0, half)),
                                        chunk(k.substr(half) + "\"\n\n") + "0\r\n\r\n"};
      },
      250ms);
  start_scrubbing(key_rule("sse", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  for (std::size_t i = 0; i < spellings.size(); ++i) {
    SCOPED_TRACE(spellings[i]);
    ASSERT_TRUE(tunnel->send("GET /split/" + std::to_string(i) + " HTTP/1.1\r\nHost: localhost:" +
                             std::to_string(up->port()) + "\r\n\r\n"));
    std::string seen;
    const auto at = arrivals(*tunnel, {event(0), "\r\n0\r\n\r\n"}, seen);
    ASSERT_EQ(at.size(), 2u) << seen;
    EXPECT_GT(at[1] - at[0], 200ms) << "the first event waited for the key's second half";
    const auto head_end = seen.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos) << seen;
    EXPECT_NE(seen.substr(0, head_end).find("200 OK"), std::string::npos) << seen;
    const std::string body = dechunk(seen.substr(head_end + 4));
    EXPECT_EQ(body, masked(event(0) + "data: \"key\":\"" + spellings[i] + "\"\n\n", key_only));
    EXPECT_EQ(leaked(seen, scrub_secret), "");
  }
}

// Frames the agent got after the 101: text and binary messages put together from their
// fragments, and the close frame's payload.
struct ws_received {
  strings messages;
  std::optional<std::string> close_payload;
  std::string raw;  // every byte after the 101's head
};

ws_received read_frames(raw_client& c, std::size_t messages) {
  ws_received out;
  std::string pending = c.take_buffered();
  out.raw = pending;
  std::string message;
  const auto deadline = steady::now() + 5s;
  while (steady::now() < deadline && !out.close_payload &&
         (out.messages.size() < messages || messages == 0)) {
    for (ws_frame& f : ws_take_frames(pending)) {
      if (f.opcode == 8) {
        out.close_payload = f.payload;
      } else if (f.opcode <= 2) {
        message += f.payload;
        if (f.fin) {
          out.messages.push_back(std::move(message));
          message.clear();
        }
      }
    }
    const std::string more = c.read_some(100ms);
    if (more.empty() && c.closed()) {
      break;
    }
    pending += more;
    out.raw += more;
  }
  return out;
}

const std::string ws_request_fields =
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "x-api-key: placeholder\r\n";
const std::string ws_switch =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

TEST_F(scrub_test, WebSocketFramesFromAScrubbedHostAreMaskedAcrossFragments) {
  const std::string s = scrub_secret;
  const std::string b64 = proxy::testing::base64_encode(s, true, false);
  const strings sent = {"token: " + s, "split " + b64 + " done",
                        "\x01\x02" + proxy::testing::hex_encode(s, true) + "\xff"};
  const std::string close_payload =
      "\x03\xe8"
      "bye " +
      s;
  auto up = start_scripted(
      [&](const std::string&) {
        return strings{ws_switch + "\r\n",
                       ws_encode({true, false, 1, sent[0]}),
                       ws_encode({false, false, 1, sent[1].substr(0, 9)}),
                       ws_encode({true, false, 0, sent[1].substr(9)}),
                       ws_encode({true, false, 2, sent[2]}),
                       ws_encode({true, false, 8, close_payload})};
      },
      50ms);
  start_scrubbing(key_rule("ws", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /v1/stream HTTP/1.1\r\nHost: localhost:" +
                           std::to_string(up->port()) + "\r\n" + ws_request_fields + "\r\n"));
  const auto switched = tunnel->read_response(5s, true);
  ASSERT_TRUE(switched);
  ASSERT_EQ(switched->status, 101) << switched->head;
  const ws_received got = read_frames(*tunnel, 0);
  ASSERT_EQ(got.messages.size(), sent.size()) << got.raw;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(got.messages[i], masked(sent[i], key_only)) << i;
  }
  ASSERT_TRUE(got.close_payload) << got.raw;
  EXPECT_EQ(*got.close_payload, masked(close_payload, key_only));
  EXPECT_EQ(leaked(got.raw, scrub_secret), "") << got.raw;

  const std::string req = newest_request(*up);
  EXPECT_EQ(field_values(req, "x-api-key"), strings{scrub_secret});
  EXPECT_EQ(field_values(req, "sec-websocket-extensions"), strings{}) << req;
}

// Frames airlock cannot read: compressed ones from an upstream that turns on
// permessage-deflate though it was never offered, and a masked one (only a client masks,
// and the mask hides the payload's bytes). The agent must never get them, nor the key in
// them, however it decodes what it got.
TEST_F(scrub_test, AttackerFramesAirlockCannotReadNeverReachTheAgent) {
  const std::string s = scrub_secret;
  const std::string deflated = compress("token: " + s, zformat::raw);
  const std::vector<strings> attacks = {
      {ws_switch + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
       ws_encode({true, true, 1, deflated}), ws_encode({true, true, 2, deflated})},
      {ws_switch + "\r\n", ws_encode({true, false, 1, "token: " + s}, true)},
  };
  auto up = start_scripted(
      [&](const std::string& request) {
        const std::string target = request_target(request);
        return attacks.at(std::stoul(target.substr(target.rfind('/') + 1)));
      },
      50ms);
  start_scrubbing(key_rule("ws", up->port()));

  for (std::size_t i = 0; i < attacks.size(); ++i) {
    SCOPED_TRACE(i);
    auto tunnel = open_tunnel(up->port());
    ASSERT_TRUE(tunnel);
    ASSERT_TRUE(tunnel->send("GET /v1/stream/" + std::to_string(i) +
                             " HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) + "\r\n" +
                             ws_request_fields + "\r\n"));
    const auto head = tunnel->read_response(5s, true);
    ws_received got = read_frames(*tunnel, 2);
    std::string everything = (head ? head->head : "") + got.raw;
    std::string pending = got.raw;
    for (const ws_frame& f : ws_take_frames(pending)) {
      everything += "\n" + f.payload;
      for (const std::string& d : decodings(f.payload)) {
        everything += "\n" + d;
      }
    }
    EXPECT_EQ(leaked(everything, scrub_secret), "") << everything;
    EXPECT_EQ(count_of(got.raw, deflated), 0u) << "a frame airlock cannot read was relayed";
  }
}

}  // namespace
}  // namespace airlock::test

// The WebSocket filter's framing (issue 18): frames it cannot scan fail closed (a compressed
// or masked frame would otherwise pass unread), partial heads and control frames wait in the
// caller's buffer, nothing follows a close, and a huge frame streams through in pieces the
// size of the reads instead of being buffered whole.

#include <gtest/gtest.h>

#include <random>

#include "proxy/filter/ws_filter.hpp"
#include "tests/support/ws_frames.hpp"

namespace airlock::proxy {
namespace {

using testing::ws_encode;
using testing::ws_frame;

constexpr std::string_view key = "sk-ant-api03-Zx9/Qw+Rt_Yu-Io";

std::shared_ptr<const scrub_automaton> automaton() {
  static const auto a = scrub_automaton::build(std::vector<std::string_view>{key});
  return a;
}

ws_filter make_filter() {
  return ws_filter(automaton());
}

struct bad_case {
  std::string stream;
  std::string_view reason;  // a part of it
};

TEST(ws_filter_frames, frames_airlock_cannot_scan_are_errors) {
  std::vector<bad_case> cases{
      {ws_encode({true, 1, "hi"}, 0, 0, true), "masked"},
      {ws_encode({true, 1, "hi"}, 0, 0x40), "reserved bit"},  // RSV1: permessage-deflate
      {ws_encode({true, 2, "hi"}, 0, 0x20), "reserved bit"},
      {ws_encode({true, 0, "hi"}, 0, 0x10), "reserved bit"},
      {std::string("\x82\x7f\x80\0\0\0\0\0\0\0", 10), "top bit"},
      {ws_encode({false, 9, "x"}), "fragmented websocket control"},
      {ws_encode({true, 10, std::string(126, 'x')}), "over 125"},
      {ws_encode({true, 8, std::string(126, 'x')}, 8), "over 125"},
      {ws_encode({true, 0, "x"}), "continuation frame with no message"},
      {ws_encode({false, 1, "."}) + ws_encode({true, 2, "b"}), "inside a fragmented"},
  };
  for (const std::uint8_t op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    cases.push_back({ws_encode({true, op, "hi"}), "unknown opcode"});
  }
  for (const bad_case& c : cases) {
    for (const bool after_good_frame : {false, true}) {
      ws_filter f = make_filter();
      const std::string good = after_good_frame ? ws_encode({true, 1, "ok "}) : "";
      std::string out;
      const ws_filter::result res = f.feed(good + c.stream, out);
      ASSERT_TRUE(res.error) << c.reason;
      EXPECT_NE(res.reason.find(c.reason), std::string_view::npos) << res.reason;
      // What went out before is whole and scrubbed; nothing of the bad frame follows.
      EXPECT_EQ(out, good + (c.reason == "inside a fragmented" ? ws_encode({false, 1, "."}) : ""));
      // And it stays failed: the frames after it cannot be found again.
      const std::string before = out;
      const ws_filter::result again = f.feed(ws_encode({true, 1, "more"}), out);
      EXPECT_TRUE(again.error);
      EXPECT_EQ(again.reason, res.reason);
      EXPECT_EQ(out, before);
    }
  }
}

// A bad frame is refused from its first bytes, before the rest of its head arrives.
TEST(ws_filter_frames, errors_are_found_from_a_partial_head) {
  for (const std::string_view head :
       {std::string_view("\xc1"), std::string_view("\x83"), std::string_view("\x09"),
        std::string_view("\x81\x85"), std::string_view("\x89\x7e"), std::string_view("\x80")}) {
    ws_filter f = make_filter();
    std::string out;
    EXPECT_TRUE(f.feed(head, out).error) << static_cast<int>(head[0]);
    EXPECT_EQ(out, "");
  }
}

TEST(ws_filter_frames, partial_heads_and_control_frames_are_not_consumed) {
  const std::string big = ws_encode({true, 2, std::string(70000, '.')});
  const std::string ping = ws_encode({true, 9, std::string(125, '.')});
  for (std::size_t n = 0; n < 10; ++n) {
    ws_filter f = make_filter();
    std::string out;
    const ws_filter::result res = f.feed(std::string_view(big).substr(0, n), out);
    EXPECT_FALSE(res.error);
    EXPECT_EQ(res.consumed, 0U) << n;
    EXPECT_EQ(out, "");
  }
  for (std::size_t n = 0; n < ping.size(); ++n) {
    ws_filter f = make_filter();
    std::string out;
    const std::string good = ws_encode({true, 1, "ok "});
    const ws_filter::result res = f.feed(good + ping.substr(0, n), out);
    EXPECT_FALSE(res.error);
    EXPECT_EQ(res.consumed, good.size()) << n;
    EXPECT_EQ(out, good);
    out.clear();
    EXPECT_EQ(f.feed(ping, out).consumed, ping.size());
    EXPECT_EQ(out, ping);
  }
  // A data frame's payload is not waited for: what there is is used, and sent.
  ws_filter f = make_filter();
  std::string out;
  EXPECT_EQ(f.feed(std::string_view(big).substr(0, 1000), out).consumed, 1000U);
  EXPECT_EQ(out, ws_encode({false, 2, std::string(1000 - 10, '.')}));
  std::string nothing;
  EXPECT_EQ(f.feed("", nothing).consumed, 0U);
  EXPECT_EQ(nothing, "");
}

TEST(ws_filter_frames, bytes_after_close_are_dropped) {
  ws_filter f = make_filter();
  const std::string close = ws_encode({true, 8, testing::ws_close_payload(1000, "done")});
  const std::string after = ws_encode({true, 1, std::string(key)}) + "\xc1 garbage";
  std::string out;
  const ws_filter::result res = f.feed(close + after, out);
  EXPECT_FALSE(res.error);
  EXPECT_EQ(res.consumed, close.size() + after.size());
  EXPECT_EQ(out, close);
  EXPECT_TRUE(f.closed());
  const ws_filter::result later = f.feed(after, out);
  EXPECT_FALSE(later.error);
  EXPECT_EQ(later.consumed, after.size());
  EXPECT_EQ(out, close);
}

TEST(ws_filter_frames, empty_fragments_are_not_sent_but_empty_messages_are) {
  ws_filter f = make_filter();
  std::string out;
  const std::string stream = ws_encode({false, 1, ""}) + ws_encode({false, 0, ""}) +
                             ws_encode({false, 0, "abc "}) + ws_encode({false, 0, ""}) +
                             ws_encode({true, 0, ""}) + ws_encode({true, 2, ""});
  ASSERT_FALSE(f.feed(stream, out).error);
  EXPECT_EQ(out,
            ws_encode({false, 1, "abc "}) + ws_encode({true, 0, ""}) + ws_encode({true, 2, ""}));
  // All of a first fragment held back: the frame that ends the message opens it.
  out.clear();
  const std::string start(key.substr(0, 12));
  ASSERT_FALSE(f.feed(ws_encode({false, 2, start}) + ws_encode({true, 0, ""}), out).error);
  EXPECT_EQ(out, ws_encode({true, 2, start}));
}

TEST(ws_filter_frames, replacements_sum_over_messages_and_control_frames) {
  ws_filter f = make_filter();
  std::string out;
  const std::string k(key);
  ASSERT_FALSE(f.feed(ws_encode({true, 1, k}) + ws_encode({true, 9, k}) +
                          ws_encode({false, 2, k.substr(0, 5)}) + ws_encode({true, 0, k.substr(5)}),
                      out)
                   .error);
  EXPECT_EQ(f.replacements(), 3U);
  EXPECT_EQ(out.find(k), std::string::npos);
}

// A frame far larger than a read (its length in 64 bits) goes out as it comes, one fragment
// per read, never more than the read plus the bytes held back and a frame head; the key is
// masked where it crosses a read, and the start of it left incomplete goes out as it was.
TEST(ws_filter_frames, huge_frame_streams_in_bounded_pieces) {
  constexpr std::size_t piece = 16 << 10;
  constexpr std::size_t size = 32 << 20;
  const auto a = automaton();
  std::mt19937 rng(18);
  static constexpr std::string_view quiet = "!#$&()*,.;<>?@[]^`{|}~ \r\n";
  std::string payload(size, ' ');
  for (char& c : payload) {
    c = quiet[rng() % quiet.size()];
  }
  std::string want = payload;
  // The stream has a 10-byte head: payload offset p is stream offset p + 10.
  for (const std::size_t at : {std::size_t{100}, piece - 10 - 7, std::size_t{5} << 20,
                               3 * piece - 10 - 1, size - key.size()}) {
    payload.replace(at, key.size(), key);
    want.replace(at, key.size(), key.size(), '*');
  }
  const std::size_t start_at = 7 * piece - 10 - 6;  // 12 bytes of it, across a read
  payload.replace(start_at, 12, key.substr(0, 12));
  want.replace(start_at, 12, key.substr(0, 12));
  const std::string stream =
      ws_encode({true, 2, ""}, 8).substr(0, 2) + std::string("\0\0\0\0\x02\0\0\0", 8) + payload;
  ASSERT_EQ(stream.size(), size + 10);

  ws_filter f(a);
  testing::ws_reader reader;
  std::string out;
  std::size_t feeds = 0;
  for (std::size_t at = 0; at < stream.size(); at += piece, ++feeds) {
    const std::string_view in = std::string_view(stream).substr(at, piece);
    const ws_filter::result res = f.feed(in, out);
    ASSERT_FALSE(res.error);
    ASSERT_EQ(res.consumed, in.size());
    ASSERT_LE(out.size(), in.size() + a->longest() + 10);
    const std::size_t frames = reader.frames();
    ASSERT_EQ(reader.read(out), "");
    ASSERT_LE(reader.frames(), frames + 1);
    out.clear();
  }
  ASSERT_EQ(reader.events.size(), 1U);
  EXPECT_EQ(reader.events[0].opcode, 2);
  EXPECT_TRUE(reader.events[0].payload == want);  // not EXPECT_EQ: 32 MiB in a failure message
  EXPECT_EQ(f.replacements(), 5U);
  EXPECT_LE(reader.frames(), feeds);
  EXPECT_GE(reader.frames(), feeds - 2);
}

TEST(ws_filter_frames, append_close_writes_a_close_frame) {
  std::string out = "x";
  ws_filter::append_close(out, 1002, "bad frame");
  EXPECT_EQ(out, std::string("x").append(
                     ws_encode({true, 8, testing::ws_close_payload(1002, "bad frame")})));
  out.clear();
  ws_filter::append_close(out, 1011, std::string(200, 'r'));
  EXPECT_EQ(out, ws_encode({true, 8, testing::ws_close_payload(1011, std::string(123, 'r'))}));
}

}  // namespace
}  // namespace airlock::proxy

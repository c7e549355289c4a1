// WebSocket frames from a credential host are scrubbed before the agent reads them (issue
// 18): an upstream that echoes a request header over a WebSocket would otherwise hand the
// agent the real key. Each message is one scrubber stream, so a secret cut across fragments,
// across reads or around a ping is still masked; frames without a secret pass byte for byte;
// a huge frame streams. What the filter sends is read back by a strict reader
// (tests/support/ws_frames.hpp) and compared with the reference scrubber's output.

#include "proxy/filter/ws_filter.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/ws_frames.hpp"

namespace airlock::proxy {
namespace {

using namespace testing;  // NOLINT: the encoders and the frame reader

constexpr std::string_view key = "sk-ant-api03-Zx9/Qw+Rt_Yu-Io";

std::vector<std::shared_ptr<const scrub_automaton>> engines(std::vector<std::string_view> values) {
  return {scrub_automaton::build(values), scrub_automaton::build(values, 1)};
}

struct run_result {
  ws_reader reader;
  std::string error;
  std::size_t left = 0;  // bytes the filter never consumed
};

// Feeds `stream` cut at `cuts` as the tunnel would: what a feed leaves unconsumed stays in
// the buffer and goes again with the next piece; each feed's output is read and cleared.
run_result run(ws_filter& f, std::string_view stream, std::vector<std::size_t> cuts,
               std::size_t longest) {
  run_result r;
  std::string buf;
  std::string out;
  std::size_t from = 0;
  cuts.push_back(stream.size());
  for (const std::size_t cut : cuts) {
    buf.append(stream.substr(from, cut - from));
    from = cut;
    const ws_filter::result res = f.feed(buf, out);
    const std::size_t frames_before = r.reader.frames();
    EXPECT_EQ(r.reader.read(out), "");
    if (res.error) {
      r.error = res.reason;
      return r;
    }
    EXPECT_LE(buf.size() - res.consumed, 127U);
    EXPECT_LE(out.size(), buf.size() + longest + 10 * (r.reader.frames() - frames_before));
    buf.erase(0, res.consumed);
    out.clear();
  }
  r.left = buf.size();
  return r;
}

run_result run_whole(ws_filter& f, std::string_view stream, std::size_t longest) {
  return run(f, stream, {}, longest);
}

std::string encode_all(const std::vector<ws_frame>& frames) {
  std::string s;
  for (const ws_frame& f : frames) {
    s += ws_encode(f);
  }
  return s;
}

// Bytes that begin no spelling of the key, so nothing is held after them.
std::string filler(std::mt19937& rng, std::size_t n) {
  static constexpr std::string_view quiet = "!#$&()*,.;<>?@[]^`{|}~ \r\n\x01\x7f\x80\xfe\xff";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += quiet[rng() % quiet.size()];
  }
  return s;
}

std::vector<std::string> key_forms() {
  return {std::string(key), base64_encode(key, false, true), json_escape(key)};
}

void expect_no_form(std::string_view out) {
  for (const std::string& form : concrete_spellings(key)) {
    EXPECT_EQ(out.find(form), std::string_view::npos) << form;
  }
}

TEST(ws_filter, frames_without_a_secret_pass_byte_for_byte) {
  std::mt19937 rng(6455);
  const std::vector<ws_frame> frames{
      {true, 1, "{\"type\":\"hello\"} "},
      {true, 2, filler(rng, 125)},
      {true, 2, filler(rng, 126)},
      {true, 1, ""},
      {true, 9, "are you there?"},
      {false, 1, "part one, "},
      {true, 10, "pong!"},
      {false, 0, filler(rng, 300)},
      {true, 0, "end."},
      {true, 2, filler(rng, 70000)},
      {true, 8, ws_close_payload(1000, "bye")},
  };
  const std::string stream = encode_all(frames);
  for (const auto& a : engines({key})) {
    ws_filter f(a);
    std::string out;
    const ws_filter::result res = f.feed(stream, out);
    EXPECT_FALSE(res.error);
    EXPECT_EQ(res.consumed, stream.size());
    EXPECT_EQ(out, stream);
    EXPECT_EQ(f.replacements(), 0U);
    EXPECT_TRUE(f.closed());
  }
}

TEST(ws_filter, lengths_in_16_and_64_bits_are_read_and_sent_minimal) {
  std::mt19937 rng(16);
  const auto a = scrub_automaton::build(std::vector<std::string_view>{key});
  for (const std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{125}, std::size_t{126},
                              std::size_t{65535}, std::size_t{65536}, std::size_t{100000}}) {
    const ws_frame frame{true, 2, filler(rng, n)};
    for (const int length_bytes : {1, 2, 8}) {
      if ((length_bytes == 1 && n > 125) || (length_bytes == 2 && n > 0xffff)) {
        continue;
      }
      ws_filter f(a);
      std::string out;
      const ws_filter::result res = f.feed(ws_encode(frame, length_bytes), out);
      ASSERT_FALSE(res.error);
      EXPECT_EQ(out, ws_encode(frame)) << n << " in " << length_bytes;
    }
  }
}

TEST(ws_filter, secret_in_one_frame_is_masked_in_each_form) {
  for (const auto& a : engines({key})) {
    std::mt19937 rng(1);
    for (const std::string& form : key_forms()) {
      for (const std::uint8_t op : {std::uint8_t{1}, std::uint8_t{2}}) {
        const std::string payload = "{\"echo\":\"" + form + "\"} " + filler(rng, 200);
        const std::vector<ws_frame> frames{{true, op, payload}};
        ws_filter f(a);
        const run_result r = run_whole(f, encode_all(frames), a->longest());
        ASSERT_EQ(r.error, "");
        ASSERT_EQ(r.reader.events, ws_expected({key}, frames)) << form;
        EXPECT_NE(r.reader.events[0].payload, payload);
        expect_no_form(r.reader.events[0].payload);
        EXPECT_EQ(f.replacements(), 1U) << form;
      }
    }
  }
}

TEST(ws_filter, secret_split_across_two_fragments_is_masked) {
  for (const auto& a : engines({key})) {
    for (const std::string& form : key_forms()) {
      const std::string message = "echo: " + form + " !";
      for (std::size_t cut = 1; cut < message.size(); ++cut) {
        const std::vector<ws_frame> frames{{false, 1, message.substr(0, cut)},
                                           {true, 0, message.substr(cut)}};
        ws_filter f(a);
        const run_result r = run_whole(f, encode_all(frames), a->longest());
        ASSERT_EQ(r.error, "");
        ASSERT_EQ(r.reader.events, ws_expected({key}, frames)) << form << " @" << cut;
        EXPECT_EQ(r.reader.events[0].payload, "echo: " + std::string(form.size(), '*') + " !");
      }
    }
  }
}

// A stream of fragments, control frames and whole messages, with the key in each form cut
// across fragments and in a ping, fed in two pieces cut at every byte, and a byte at a time.
TEST(ws_filter, secret_split_at_every_byte_boundary_of_the_input) {
  for (const auto& a : engines({key})) {
    for (const std::string& form : key_forms()) {
      const std::string m = "{\"header\":\"" + form + "\"}";
      const std::size_t third = m.size() / 3;
      const std::vector<ws_frame> frames{
          {false, 1, m.substr(0, 12)},
          {true, 9, "ping " + form},
          {false, 0, m.substr(12, third)},
          {true, 0, m.substr(12 + third)},
          {true, 2, std::string(130, ' ') + form},
          {true, 10, ""},
      };
      const std::string stream = encode_all(frames);
      const auto want = ws_expected({key}, frames);
      for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        ws_filter f(a);
        const run_result r = run(f, stream, {cut}, a->longest());
        ASSERT_EQ(r.error, "");
        ASSERT_EQ(r.reader.events, want) << form << " @" << cut;
        ASSERT_EQ(r.left, 0U);
        EXPECT_EQ(f.replacements(), 3U);
      }
      std::vector<std::size_t> every;
      for (std::size_t i = 1; i < stream.size(); ++i) {
        every.push_back(i);
      }
      ws_filter f(a);
      const run_result r = run(f, stream, every, a->longest());
      EXPECT_EQ(r.reader.events, want) << form;
      for (const ws_event& e : r.reader.events) {
        expect_no_form(e.payload);
      }
    }
  }
}

// The first fragment ends with the start of the key: those bytes are held back, and the ping
// that comes next goes out after what was released, without them.
TEST(ws_filter, control_frame_between_fragments_keeps_the_held_bytes_held) {
  const auto a = scrub_automaton::build(std::vector<std::string_view>{key});
  ws_filter f(a);
  std::string out;
  const std::string first = "data: " + std::string(key.substr(0, 10));
  const std::string stream = ws_encode({false, 1, first}) + ws_encode({true, 9, "hb"});
  ASSERT_FALSE(f.feed(stream, out).error);
  EXPECT_EQ(out, ws_encode({false, 1, "data: "}) + ws_encode({true, 9, "hb"}));
  out.clear();
  ASSERT_FALSE(f.feed(ws_encode({true, 0, std::string(key.substr(10)) + "."}), out).error);
  EXPECT_EQ(out, ws_encode({true, 0, std::string(key.size(), '*') + "."}));
  EXPECT_EQ(f.replacements(), 1U);

  // The start of the key then not completed: released as it was when the message ends.
  out.clear();
  const std::string start(key.substr(0, 10));
  ASSERT_FALSE(f.feed(ws_encode({false, 1, start}) + ws_encode({true, 10, ""}), out).error);
  EXPECT_EQ(out, ws_encode({true, 10, ""}));
  out.clear();
  ASSERT_FALSE(f.feed(ws_encode({true, 0, "!"}), out).error);
  EXPECT_EQ(out, ws_encode({true, 1, start + "!"}));
}

TEST(ws_filter, ping_pong_and_close_payloads_are_scrubbed) {
  for (const auto& a : engines({key})) {
    for (const std::string& form : key_forms()) {
      const std::vector<ws_frame> frames{
          {true, 9, "ping:" + form},
          {true, 10, form},
          {true, 8, ws_close_payload(1000, form)},
      };
      ws_filter f(a);
      const run_result r = run_whole(f, encode_all(frames), a->longest());
      ASSERT_EQ(r.error, "");
      ASSERT_EQ(r.reader.events, ws_expected({key}, frames)) << form;
      EXPECT_EQ(r.reader.events[1].payload, std::string(form.size(), '*'));
      EXPECT_EQ(r.reader.events[2].payload, ws_close_payload(1000, std::string(form.size(), '*')));
      EXPECT_EQ(f.replacements(), 3U);
    }
  }
}

// Random messages, fragments and control frames with the key planted anywhere (so often cut
// across fragments), fed in random pieces: what the agent reads is exactly the reference.
TEST(ws_filter, random_frames_and_cuts_match_the_reference) {
  const std::string_view other = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
  for (const auto& a : engines({key, other})) {
    std::mt19937 rng(2024);
    const auto spellings = concrete_spellings(key);
    for (int round = 0; round < 150; ++round) {
      std::vector<ws_frame> frames;
      for (int m = 1 + static_cast<int>(rng() % 4); m > 0; --m) {
        std::string body;
        for (int k = static_cast<int>(rng() % 4); k > 0; --k) {
          body += filler(rng, rng() % 50);
          body += spellings[rng() % spellings.size()];
        }
        body += filler(rng, rng() % 300);
        const std::uint8_t op = 1 + rng() % 2;
        for (std::size_t at = 0, i = 0;; ++i) {
          const std::size_t n = std::min<std::size_t>(rng() % 80, body.size() - at);
          const bool fin = at + n == body.size() && rng() % 2 == 0;
          frames.push_back({fin, i == 0 ? op : std::uint8_t{0}, body.substr(at, n)});
          at += n;
          if (fin) {
            break;
          }
          if (rng() % 3 == 0) {
            // A control frame carries at most 125 bytes: the longer spellings only in data.
            std::string ping = rng() % 2 == 0 ? spellings[rng() % spellings.size()] : "";
            ping = ping.size() > 125 ? "" : ping;
            frames.push_back({true, static_cast<std::uint8_t>(9 + rng() % 2), ping});
          }
        }
      }
      const std::string stream = encode_all(frames);
      std::vector<std::size_t> cuts;
      for (std::size_t at = rng() % 200; at < stream.size(); at += 1 + rng() % 200) {
        cuts.push_back(at);
      }
      ws_filter f(a);
      const run_result r = run(f, stream, cuts, a->longest());
      ASSERT_EQ(r.error, "");
      std::size_t occurrences = 0;
      ASSERT_EQ(r.reader.events, ws_expected({key, other}, frames, &occurrences)) << round;
      EXPECT_EQ(f.replacements(), occurrences);
      for (const ws_event& e : r.reader.events) {
        expect_no_form(e.payload);
      }
    }
  }
}

// A rotation while the WebSocket stays open: frames after it are scanned for the new value,
// a message open across it included.
TEST(ws_filter, a_rotation_while_open_masks_the_new_value_from_then_on) {
  constexpr std::string_view rotated = "sk-ant-api03-Mn4_Lk8+Jh/Gf-Ds";
  const auto old_engines = engines({key});
  const auto new_engines = engines({rotated});
  for (std::size_t e = 0; e < old_engines.size(); ++e) {
    ws_filter f(old_engines[e]);
    std::string out;
    ws_reader reader;
    ASSERT_EQ(f.feed(ws_encode(ws_frame{false, 1, "waiting sk-ant-"}), out).consumed, 17U);
    f.rekey(new_engines[e]);
    const std::string rest = ws_encode(ws_frame{true, 0, "got " + std::string(rotated)});
    ASSERT_EQ(f.feed(rest, out).consumed, rest.size());
    EXPECT_EQ(reader.read(out), "");
    std::string text;
    for (const auto& ev : reader.events) {
      text += ev.payload;
    }
    EXPECT_EQ(text, "waiting sk-ant-got " + std::string(rotated.size(), '*'));
  }
}

}  // namespace
}  // namespace airlock::proxy

// Streams stay streams (issue 18): the scrubber holds back only the bytes that could still
// begin a spelling of a secret, at most the longest spelling less one, and lets them go as
// soon as the next bytes rule that out; bytes that begin nothing go out at once, unchanged
// and uncopied. A scrubber that held too much would stall SSE; one that held too little
// would let the start of a secret out before its end arrived.

#include <gtest/gtest.h>

#include <random>

#include "proxy/policy/scrubber.hpp"
#include "tests/support/scrub_reference.hpp"

namespace airlock::proxy {
namespace {

constexpr std::string_view key = "sk-ant-api03-Zx9/Qw+Rt_Yu-Io";

// Each case on the DFA and on the NFA the scrubber falls back to (a budget of one byte).
std::vector<std::shared_ptr<const scrub_automaton>> engines(std::vector<std::string_view> values) {
  return {scrub_automaton::build(values), scrub_automaton::build(values, 1)};
}

TEST(scrubber_stream, text_without_a_secret_goes_out_at_once_uncopied) {
  for (const auto& a : engines({key})) {
    scrubber s(a);
    const std::string event = "data: {\"type\":\"content_block_delta\",\"text\":\"Hello\"}\n\n";
    for (int i = 0; i < 3; ++i) {
      const std::string_view out = s.feed(event);
      EXPECT_EQ(out, event);
      EXPECT_EQ(out.data(), event.data());  // a view of the input: no copy
      EXPECT_EQ(s.held(), 0U);
    }
    EXPECT_EQ(s.finish(), "");
    EXPECT_EQ(s.replacements(), 0U);
  }
}

TEST(scrubber_stream, random_bytes_without_a_secret_pass_byte_for_byte) {
  for (const auto& a : engines({key, "ghp_0123456789abcdefghijklmnopqrstuvwxyz"})) {
    std::mt19937 rng(7);
    std::string body(1 << 16, '\0');
    for (char& c : body) {
      c = static_cast<char>(rng() & 0xff);
    }
    ASSERT_EQ(testing::reference_scrub({key}, body.substr(0, 4096)), body.substr(0, 4096));
    scrubber s(a);
    std::string out;
    for (std::size_t at = 0; at < body.size();) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 3000, body.size() - at);
      out += s.feed(std::string_view(body).substr(at, n));
      at += n;
      // Whatever is held is a prefix of a spelling: never more than the longest spelling less one.
      ASSERT_LT(s.held(), a->longest());
      ASSERT_EQ(out.size() + s.held(), at);
    }
    out += s.finish();
    EXPECT_EQ(out, body);
  }
}

// Long reads take the vector fast path (32 bytes at a time, and its dense variant on escaped
// JSON); every planted spelling is still found, wherever the reads are cut, and nothing else
// is touched.
TEST(scrubber_stream, long_reads_with_secrets_planted_match_the_reference) {
  const std::string_view other = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
  for (const auto& a : engines({key, other})) {
    std::mt19937 rng(11);
    const auto spellings = testing::concrete_spellings(key);
    std::string body;
    while (body.size() < (24U << 10)) {
      static constexpr std::string_view text =
          "data: {\"delta\":\"the quick brown fox \\u00e9 %20 \\n sk-an ghp_ 0x7f\"}\n\n";
      body += text.substr(rng() % text.size());
      // And text the way json.dumps escapes it, where most bytes pass the first filter.
      for (std::size_t k = rng() % 40; k > 0; --k) {
        static constexpr std::string_view hex = "0123456789abcdef";
        body += "\\u";
        body += hex[4 + rng() % 6];
        for (int d = 0; d < 3; ++d) {
          body += hex[rng() % 16];
        }
      }
      if (rng() % 4 == 0) {
        body += spellings[rng() % spellings.size()];
      }
    }
    std::size_t planted = 0;
    const std::string want = testing::reference_scrub({key, other}, body, &planted);
    ASSERT_GT(planted, 20U);
    scrubber s(a);
    std::string out;
    for (std::size_t at = 0; at < body.size();) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 5000, body.size() - at);
      out += s.feed(std::string_view(body).substr(at, n));
      at += n;
    }
    out += s.finish();
    EXPECT_EQ(out, want);
    EXPECT_EQ(s.replacements(), planted);
  }
}

TEST(scrubber_stream, holds_exactly_the_tail_that_could_begin_a_spelling) {
  for (const auto& a : engines({key})) {
    struct tail_case {
      std::string_view text;
      std::size_t held;
    };
    for (const tail_case& c : {
             tail_case{"hello", 0},        // 'o' begins nothing
             tail_case{"hello sk-an", 5},  // the key's first five bytes
             tail_case{"hello %", 1},      // may become %73 ('s')
             tail_case{"hello %7", 2},     // "%73"
             tail_case{"hello %6", 2},     // "%63" ('c', base64 of "sk-" at alignment 0)
             tail_case{"hello %5", 0},     // no form starts with a byte 0x5_
             tail_case{"hello \\", 1},     // a JSON escape
             tail_case{"hello \\u00", 4},  // \u0073 ('s')
             tail_case{"hello \\u01", 0},  // no \u01HH is spelled
             tail_case{"x\\\\", 1},        // an escaped backslash may still begin \u0073
         }) {
      scrubber s(a);
      const std::string_view out = s.feed(c.text);
      const std::string expect_held(c.text.substr(c.text.size() - c.held));
      EXPECT_EQ(s.held(), c.held) << c.text;
      EXPECT_EQ(out, c.text.substr(0, c.text.size() - c.held)) << c.text;
      // The body ends: the held bytes complete nothing and go out as they are.
      EXPECT_EQ(s.finish(), expect_held) << c.text;
    }
  }
}

TEST(scrubber_stream, held_bytes_go_out_as_soon_as_the_next_bytes_rule_them_out) {
  for (const auto& a : engines({key})) {
    scrubber s(a);
    EXPECT_EQ(s.feed("data: sk-ant-"), "data: ");
    EXPECT_EQ(s.held(), 7U);
    EXPECT_EQ(s.feed("x"), "sk-ant-x");  // not the key after all
    EXPECT_EQ(s.held(), 0U);
    EXPECT_EQ(s.feed(" sk-ant-api03-Zx9/Qw+"), " ");
    EXPECT_EQ(s.feed("Rt_Yu-Io\n\n"), std::string(key.size(), '*') + "\n\n");
    EXPECT_EQ(s.replacements(), 1U);
  }
}

TEST(scrubber_stream, an_sse_event_split_across_two_reads_is_masked_whole) {
  for (const auto& a : engines({key})) {
    scrubber s(a);
    const std::string first = "data: {\"echo\":\"" + std::string(key.substr(0, 12));
    const std::string second = std::string(key.substr(12)) + "\"}\n\n";
    std::string out(s.feed(first));
    EXPECT_EQ(out, "data: {\"echo\":\"");
    out += s.feed(second);
    EXPECT_EQ(out, "data: {\"echo\":\"" + std::string(key.size(), '*') + "\"}\n\n");
    EXPECT_EQ(s.held(), 0U);
  }
}

TEST(scrubber_stream, the_longest_spelling_less_one_is_the_most_ever_held) {
  for (const auto& a : engines({key})) {
    // The hex form, every digit as \u00HH: the longest spelling.
    const std::string spelled = testing::json_u_all(testing::hex_encode(key, false), true);
    ASSERT_EQ(spelled.size(), a->longest());
    scrubber s(a);
    EXPECT_EQ(s.feed(std::string_view(spelled).substr(0, spelled.size() - 1)), "");
    EXPECT_EQ(s.held(), a->longest() - 1);
    EXPECT_EQ(s.feed(std::string_view(spelled).substr(spelled.size() - 1)),
              std::string(spelled.size(), '*'));
  }
}

TEST(scrubber_stream, a_mask_reaching_into_held_bytes_is_applied_when_they_go) {
  for (const auto& a : engines({key})) {
    scrubber s(a);
    // The base64 middle is masked first; its padded ending decides later how far the mask goes.
    const std::string b64 = testing::base64_encode(key, true, true);
    std::string out(s.feed("v=" + b64.substr(0, b64.size() - 2)));
    out += s.feed(b64.substr(b64.size() - 2) + ";");
    out += s.finish();
    EXPECT_EQ(out, "v=" + std::string(b64.size(), '*') + ";");
    EXPECT_EQ(s.replacements(), 1U);
  }
}

TEST(scrubber_stream, counts_accumulate_and_finish_readies_the_next_body) {
  for (const auto& a : engines({key})) {
    scrubber s(a);
    std::string out(s.feed(std::string(key) + "," + testing::percent_all(key, false)));
    out += s.finish();
    EXPECT_EQ(out.find_first_not_of('*'), key.size());
    EXPECT_EQ(s.replacements(), 2U);
    EXPECT_EQ(s.feed("plain"), "plain");
    EXPECT_EQ(s.finish(), "");
  }
}

TEST(scrubber_stream, no_values_pass_everything) {
  for (const auto& a : engines({})) {
    scrubber s(a);
    EXPECT_EQ(s.feed("anything %41 \\u0041"), "anything %41 \\u0041");
    EXPECT_EQ(s.held(), 0U);
  }
}

// A secret rotated while a stream is open (an event stream from a request bin): what comes
// after the rotation is scanned for the new value; what the old automaton held back (the
// start of an old value's spelling) goes out with the next feed.
TEST(scrubber_stream, a_rotation_mid_stream_masks_the_new_value_from_then_on) {
  constexpr std::string_view rotated = "sk-ant-api03-Mn4_Lk8+Jh/Gf-Ds";
  const auto old_engines = engines({key});
  const auto new_engines = engines({rotated});
  for (std::size_t e = 0; e < old_engines.size(); ++e) {
    scrubber s(old_engines[e]);
    std::string out(s.feed("data: sk-ant-"));
    EXPECT_GT(s.held(), 0U);
    s.rekey(new_engines[e]);
    out += s.feed(" now " + std::string(rotated) + " end");
    out += s.finish();
    EXPECT_EQ(out, "data: sk-ant- now " + std::string(rotated.size(), '*') + " end");
    EXPECT_EQ(s.replacements(), 1U);
    s.rekey(new_engines[e]);  // the same automaton: nothing changes
    std::string again(s.feed(rotated));
    again += s.finish();
    EXPECT_EQ(again, std::string(rotated.size(), '*'));
  }
}

}  // namespace
}  // namespace airlock::proxy

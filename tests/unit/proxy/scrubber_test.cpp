// The scrubber masks every form of a secret in every spelling, wherever the stream is cut
// (issue 18). Each case is what an upstream echoing the request would send back; the
// expected output is computed from where the test planted the secret, and cross-checked
// against the slow reference scrubber (tests/support/scrub_reference.hpp).

#include "proxy/policy/scrubber.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/scrub_reference.hpp"

namespace airlock::proxy {
namespace {

using namespace testing;  // NOLINT: the encoders

constexpr std::string_view key = "sk-ant-api03-Zx9/Qw+Rt_Yu-Io";

// The same values compiled both ways: as the DFA, and as the NFA the scrubber falls back to
// when a DFA would not fit its budget (here a budget of one byte). Every case runs on both.
std::vector<std::shared_ptr<const scrub_automaton>> engines(std::vector<std::string_view> values) {
  auto dfa = scrub_automaton::build(values);
  auto nfa = scrub_automaton::build(values, 1);
  EXPECT_TRUE(dfa->deterministic());
  EXPECT_FALSE(nfa->deterministic());
  return {dfa, nfa};
}

// The whole output for `body` fed in the given pieces.
std::string scrub_pieces(const std::shared_ptr<const scrub_automaton>& a,
                         const std::vector<std::string_view>& pieces,
                         std::uint64_t* count = nullptr) {
  scrubber s(a);
  std::string out;
  for (const std::string_view p : pieces) {
    out += s.feed(p);
    EXPECT_LE(s.held(), a->longest() == 0 ? 0 : a->longest() - 1);
  }
  out += s.finish();
  if (count != nullptr) {
    *count = s.replacements();
  }
  return out;
}

std::string scrub_whole(const std::shared_ptr<const scrub_automaton>& a, std::string_view body,
                        std::uint64_t* count = nullptr) {
  return scrub_pieces(a, {body}, count);
}

// body with bytes [at, at + n) masked.
std::string masked(std::string body, std::size_t at, std::size_t n) {
  return body.replace(at, n, n, '*');
}

// Bytes that begin no spelling of this test's key.
std::string filler(std::mt19937& rng, std::size_t n) {
  static constexpr std::string_view quiet = "!#$&()*,.;<>?@[]^`{|}~ \r\n\x01\x7f\x80\xfe\xff";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += quiet[rng() % quiet.size()];
  }
  return s;
}

// Every concrete spelling of the key, planted between filler: masked exactly, counted once,
// and the same whether the body comes whole, cut at any one byte, or a byte at a time.
TEST(scrubber, every_spelling_is_masked_wherever_the_body_is_cut) {
  for (const auto& a : engines({key})) {
    std::mt19937 rng(18);
    for (const std::string& form : concrete_spellings(key)) {
      const std::string before = filler(rng, 7);
      const std::string body = before + form + filler(rng, 5);
      const std::string want = masked(body, before.size(), form.size());
      std::uint64_t count = 0;
      EXPECT_EQ(scrub_whole(a, body, &count), want) << form;
      EXPECT_EQ(count, 1U) << form;
      EXPECT_EQ(reference_scrub({key}, body), want) << form;
      for (std::size_t cut = 0; cut <= body.size(); ++cut) {
        const std::string_view b(body);
        ASSERT_EQ(scrub_pieces(a, {b.substr(0, cut), b.substr(cut)}), want) << form << " @" << cut;
      }
      std::vector<std::string_view> bytes;
      for (std::size_t i = 0; i < body.size(); ++i) {
        bytes.push_back(std::string_view(body).substr(i, 1));
      }
      EXPECT_EQ(scrub_pieces(a, bytes), want) << form;
    }
  }
}

TEST(scrubber, random_surroundings_leave_the_secret_masked_and_the_rest_alone) {
  for (const auto& a : engines({key})) {
    std::mt19937 rng(1918);
    for (int round = 0; round < 200; ++round) {
      const auto forms = concrete_spellings(key);
      const std::string& form = forms[rng() % forms.size()];
      std::string body;
      for (std::size_t i = rng() % 40; i > 0; --i) {
        body += static_cast<char>(rng() & 0xff);
      }
      const std::size_t at = body.size();
      body += form;
      for (std::size_t i = rng() % 40; i > 0; --i) {
        body += static_cast<char>(rng() & 0xff);
      }
      const std::string want = reference_scrub({key}, body);
      ASSERT_EQ(want.substr(at, form.size()), std::string(form.size(), '*')) << form;
      const std::size_t cut = rng() % (body.size() + 1);
      const std::string_view b(body);
      ASSERT_EQ(scrub_pieces(a, {b.substr(0, cut), b.substr(cut)}), want) << form << " @" << cut;
    }
  }
}

// A JSON document that carries the key, base64-encoded inside a larger JSON blob (a JWT-like
// field, a data: URL): the key starts at each offset mod 3 of what was encoded.
TEST(scrubber, secret_inside_base64_of_a_json_blob_at_each_alignment) {
  for (const auto& a : engines({key})) {
    for (unsigned align = 0; align < 3; ++align) {
      for (const bool url : {false, true}) {
        for (const bool at_end : {false, true}) {
          const std::string_view head = R"({"user":"ab",)";  // 13 bytes
          const std::string_view field = R"("key":")";       // 7 bytes
          std::string inner(head);
          inner.append((3 + align - (head.size() + field.size()) % 3) % 3, ' ');
          inner += field;
          const std::size_t key_at = inner.size();
          inner += key;
          if (!at_end) {
            inner += R"(","n":42})";
          }
          const std::string encoded = base64_encode(inner, url, true);
          const std::string body = R"({"blob":")" + encoded + R"("})";
          const std::string out = scrub_whole(a, body);
          ASSERT_EQ(out.size(), body.size());
          const std::string middle = base64_middle(key, key_at % 3, url);
          const std::size_t where = body.find(middle);
          ASSERT_NE(where, std::string::npos);
          EXPECT_EQ(out.substr(where, middle.size()), std::string(middle.size(), '*'))
              << align << url << at_end;
          EXPECT_EQ(out.find(middle), std::string::npos);
          EXPECT_EQ(out, reference_scrub({key}, body)) << align << url << at_end;
          if (at_end) {
            // Nothing of the encoded key survives after its middle: the last digit and "=".
            const std::size_t tail = body.find(R"("})", where);
            EXPECT_EQ(out.substr(where, tail - where), std::string(tail - where, '*'));
          }
        }
      }
    }
  }
}

TEST(scrubber, percent_encoding_in_mixed_case_and_partly_encoded) {
  const std::string_view spaced = "my secret value/with+signs";
  for (const auto& a : engines({spaced})) {
    for (const std::string& form : {
             std::string("my%20SeCrEt%20value%2fwith%2Bsigns"),  // not valid: 'S', 'C', 'E' differ
             std::string("%6d%79%20%73%65%63%52%65%74"),         // nor this: 'R' is not 'r'
         }) {
      EXPECT_EQ(scrub_whole(a, form), form);  // case of the secret's own letters matters
    }
    for (const std::string& form : {
             std::string("my+secret+value%2fwith%2Bsigns"),
             std::string("my%20secret%20value/with%2bsigns"),
             std::string(
                 "%6D%79%20%73%65%63%72%65%74%20%76%61%6c%75%65%2F%77%69%74%68%2b%73%69%67%6E%73"),
             std::string("my secret value%2Fwith+signs"),
         }) {
      EXPECT_EQ(scrub_whole(a, "?q=" + form + "&x"), "?q=" + std::string(form.size(), '*') + "&x")
          << form;
    }
  }
}

TEST(scrubber, json_escapes_u0041_style_and_short_in_either_case) {
  const std::string_view s = "A/B\"C\\D\nEFGH";
  for (const auto& a : engines({s})) {
    for (const std::string& form : {
             std::string(R"(A\/B\"C\\D\nEFGH)"),
             std::string(R"(\u0041\u002fB\u0022C\u005CD\u000aEFGH)"),
             std::string(R"(\u0041/B\"C\\D\u000AE\u0046GH)"),
             std::string(R"(A\u002FB\u0022C\u005cD\nEFG\u0048)"),
         }) {
      EXPECT_EQ(scrub_whole(a, R"({"echo":")" + form + R"("})"),
                R"({"echo":")" + std::string(form.size(), '*') + R"("})")
          << form;
    }
    // A backslash that is itself escaped does not hide the spelling after it.
    const std::string body = R"(\\\u0041\/B\"C\\D\nEFGH)";
    EXPECT_EQ(scrub_whole(a, body), body.substr(0, 2) + std::string(body.size() - 2, '*'));
  }
}

TEST(scrubber, hex_in_either_and_mixed_case) {
  for (const auto& a : engines({key})) {
    std::string mixed = hex_encode(key, false);
    for (std::size_t i = 0; i < mixed.size(); i += 3) {
      mixed[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[i])));
    }
    for (const std::string& form : {hex_encode(key, false), hex_encode(key, true), mixed}) {
      EXPECT_EQ(scrub_whole(a, "sha=" + form + ";"), "sha=" + std::string(form.size(), '*') + ";");
    }
  }
}

TEST(scrubber, overlapping_forms_are_masked_as_their_union_and_counted_once) {
  const std::string_view first = "abcdefgh12345678";
  const std::string_view second = "12345678zyxwvuts";
  for (const auto& a : engines({first, second})) {
    std::uint64_t count = 0;
    EXPECT_EQ(scrub_whole(a, "<abcdefgh12345678zyxwvuts>", &count), "<************************>");
    EXPECT_EQ(count, 1U);
  }
}

TEST(scrubber, a_secret_next_to_itself_is_masked_twice) {
  for (const auto& a : engines({key})) {
    std::uint64_t count = 0;
    const std::string twice = std::string(key) + std::string(key);
    EXPECT_EQ(scrub_whole(a, twice, &count), std::string(twice.size(), '*'));
    EXPECT_EQ(count, 2U);
    // Its own first bytes after it: the copy is masked, the partial repeat goes out as it is.
    const std::string partial = std::string(key) + std::string(key.substr(0, 10));
    EXPECT_EQ(scrub_whole(a, partial),
              std::string(key.size(), '*') + std::string(key.substr(0, 10)));
  }
}

TEST(scrubber, a_short_secret_is_masked_raw_but_not_its_base64) {
  for (const auto& a : engines({"pw12345"})) {
    EXPECT_EQ(scrub_whole(a, "x=pw12345&y=%70w12345"), "x=*******&y=*********");
    const std::string b64 = base64_encode("pw12345", false, true);
    EXPECT_EQ(scrub_whole(a, b64), b64);
  }
}

TEST(scrubber, a_location_header_built_from_a_query_credential) {
  for (const auto& a : engines({"AIzaSyD-0123456789_abcdefghijk"})) {
    const std::string loc = "https://api.test/dir/?page=1&key=AIzaSyD-0123456789_abcdefghijk";
    scrubber s(a);
    std::string out(s.feed(loc));
    out += s.finish();
    EXPECT_EQ(out, "https://api.test/dir/?page=1&key=" + std::string(30, '*'));
    EXPECT_EQ(s.replacements(), 1U);
  }
}

}  // namespace
}  // namespace airlock::proxy

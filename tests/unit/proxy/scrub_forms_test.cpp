// The forms of a secret a response must not carry (issue 18), checked against encoders
// written independently (tests/support/scrub_reference.hpp): a form that is wrong would let
// that encoding of the key through to the agent.

#include "proxy/policy/scrub_forms.hpp"

#include <gtest/gtest.h>

#include "proxy/policy/scrub_automaton.hpp"
#include "tests/support/scrub_reference.hpp"

namespace airlock::proxy {
namespace {

using testing::base64_encode;
using testing::base64_middle;

// The units of a form as text: the first accepted byte of each, and (for pairs) the second.
std::string first_bytes(const scrub_form& f, std::size_t units) {
  std::string s;
  for (std::size_t i = 0; i < units; ++i) {
    s += static_cast<char>(f.units[i].a);
  }
  return s;
}
std::string second_bytes(const scrub_form& f, std::size_t units) {
  std::string s;
  for (std::size_t i = 0; i < units; ++i) {
    s += static_cast<char>(f.units[i].b);
  }
  return s;
}

std::vector<scrub_form> forms_of(std::string_view v) {
  const std::vector<std::string_view> values{v};
  return scrub_forms(values);
}

const scrub_form* find(const std::vector<scrub_form>& forms, scrub_form_kind kind,
                       unsigned alignment = 0) {
  for (const auto& f : forms) {
    if (f.kind == kind && f.alignment == alignment) {
      return &f;
    }
  }
  return nullptr;
}

constexpr std::string_view key = "sk-ant-api03-Zx9/Qw+Rt_Yu-Io";

TEST(scrub_forms, raw_is_the_bytes_themselves) {
  const auto forms = forms_of(key);
  const scrub_form* raw = find(forms, scrub_form_kind::raw);
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(first_bytes(*raw, raw->units.size()), key);
  EXPECT_EQ(second_bytes(*raw, raw->units.size()), key);
  EXPECT_EQ(raw->ends, std::vector<std::uint32_t>{static_cast<std::uint32_t>(key.size())});
}

TEST(scrub_forms, hex_accepts_each_digit_in_either_case) {
  const auto forms = forms_of(key);
  const scrub_form* hex = find(forms, scrub_form_kind::hex);
  ASSERT_NE(hex, nullptr);
  EXPECT_EQ(first_bytes(*hex, hex->units.size()), testing::hex_encode(key, false));
  EXPECT_EQ(second_bytes(*hex, hex->units.size()), testing::hex_encode(key, true));
}

TEST(scrub_forms, base64_middle_is_what_every_surrounding_gives_at_each_alignment) {
  const auto forms = forms_of(key);
  for (unsigned a = 0; a < 3; ++a) {
    const scrub_form* b64 = find(forms, scrub_form_kind::base64, a);
    ASSERT_NE(b64, nullptr) << a;
    const std::size_t middle = b64->ends.front();
    // Standard alphabet in the first byte of each unit, URL-safe in the second.
    EXPECT_EQ(first_bytes(*b64, middle), base64_middle(key, a, false)) << a;
    EXPECT_EQ(second_bytes(*b64, middle), base64_middle(key, a, true)) << a;
    // The middle really is stable: other bytes before and after leave it in place.
    for (const std::string_view around :
         {std::string_view("\x00\x01\x02", 3), std::string_view("\xff\xfe\xfd"),
          std::string_view("abc")}) {
      const std::string whole = base64_encode(
          std::string(around.substr(0, a)) + std::string(key) + std::string(around), false, true);
      EXPECT_NE(whole.find(base64_middle(key, a, false)), std::string::npos) << a;
    }
  }
}

TEST(scrub_forms, base64_of_the_value_alone_is_masked_to_its_padding) {
  // 28 bytes: one byte past a group, so the whole encoding ends in a zero-filled digit and "==".
  const auto forms = forms_of(key);
  const scrub_form* b64 = find(forms, scrub_form_kind::base64, 0);
  ASSERT_NE(b64, nullptr);
  ASSERT_EQ(b64->ends.size(), 3U);
  EXPECT_EQ(first_bytes(*b64, b64->ends[1]), base64_encode(key, false, false));
  EXPECT_EQ(first_bytes(*b64, b64->ends[2]), base64_encode(key, false, true));
  EXPECT_EQ(second_bytes(*b64, b64->ends[2]), base64_encode(key, true, true));
}

TEST(scrub_forms, a_value_a_multiple_of_three_long_has_no_separate_ending) {
  const auto forms = forms_of("123456789");
  const scrub_form* b64 = find(forms, scrub_form_kind::base64, 0);
  ASSERT_NE(b64, nullptr);
  EXPECT_EQ(b64->ends, std::vector<std::uint32_t>{12});
  EXPECT_EQ(first_bytes(*b64, 12), base64_encode("123456789", false, true));
}

TEST(scrub_forms, basic_auth_pair_base64_is_the_authorization_value) {
  const std::vector<std::string_view> values{"hunter2-password", "alice:hunter2-password"};
  const auto forms = scrub_forms(values);
  const std::string header = base64_encode("alice:hunter2-password", false, true);
  bool found = false;
  for (const auto& f : forms) {
    if (f.kind == scrub_form_kind::base64 && f.alignment == 0 &&
        first_bytes(f, f.ends.back()) == header) {
      found = true;
    }
  }
  EXPECT_TRUE(found) << header;
}

TEST(scrub_forms, a_short_value_is_matched_raw_only) {
  const auto forms = forms_of("abc1234");  // 7 bytes: below scrub_min_derived_length
  ASSERT_EQ(forms.size(), 1U);
  EXPECT_EQ(forms[0].kind, scrub_form_kind::raw);
  EXPECT_EQ(forms_of("abc12345").size(), 5U);  // 8 bytes: raw, hex, three base64
}

TEST(scrub_forms, empty_values_are_ignored_and_duplicates_merged) {
  const std::vector<std::string_view> values{"", "sk-live-0123456789", "sk-live-0123456789"};
  EXPECT_EQ(scrub_forms(values).size(), 5U);
  const std::vector<std::string_view> none{""};
  EXPECT_TRUE(scrub_forms(none).empty());
}

TEST(scrub_forms, spellings_cost_at_most_six_bytes_a_unit) {
  EXPECT_EQ(longest_spelling(scrub_unit{'A', 'A'}), 6U);    // \u0041
  EXPECT_EQ(longest_spelling(scrub_unit{0xc3, 0xc3}), 3U);  // %C3: JSON escapes code points
  const auto forms = forms_of("abcdefgh");
  EXPECT_EQ(longest_spelling(*find(forms, scrub_form_kind::raw)), 48U);
}

TEST(scrub_automaton, a_dfa_past_its_budget_leaves_the_nfa) {
  const std::vector<std::string_view> values{key, "ghp_0123456789abcdefghijklmnopqrstuvwxyz"};
  const auto a = scrub_automaton::build(values);
  EXPECT_TRUE(a->deterministic());
  EXPECT_GT(a->state_count(), 1U);
  EXPECT_LE(a->table_bytes(), scrub_automaton::default_max_dfa_bytes);
  // Too small a budget: the NFA, which the scrubber follows thread by thread (never no
  // automaton, which would leave the caller a choice between failing and leaking).
  const auto b = scrub_automaton::build(values, 4096);
  EXPECT_FALSE(b->deterministic());
  EXPECT_EQ(b->nfa_size(), a->nfa_size());
}

TEST(scrub_automaton, a_self_repeating_value_falls_back_instead_of_exploding) {
  // Found by the fuzzer: zero bytes make base64 "AAAA...", and "%41" holds a '1' that may
  // begin the form again, so every subset of positions is a DFA state (2.5x per byte).
  const std::string value("u\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
  const std::vector<std::string_view> values{value};
  const auto a = scrub_automaton::build(values);
  EXPECT_FALSE(a->deterministic());
  EXPECT_FALSE(a->forms().empty());
}

TEST(scrub_automaton, no_values_match_nothing) {
  const auto a = scrub_automaton::build({});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->longest(), 0U);
  for (unsigned c = 0; c < 256; ++c) {
    EXPECT_EQ(a->step(0, static_cast<std::uint8_t>(c)), 0U);
  }
}

}  // namespace
}  // namespace airlock::proxy

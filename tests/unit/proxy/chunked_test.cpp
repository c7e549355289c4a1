#include "proxy/http/chunked.hpp"

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace airlock::proxy::http {
namespace {

using namespace std::string_literals;

const std::string next_request = "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n";

struct fed {
  std::size_t consumed = 0;
  bool done = false;
  bool error = false;
};

// Feeds pieces in order as a session would: after each feed, unconsumed bytes stay in the
// buffer and are offered again with the next piece.
fed feed_pieces(chunked_scanner& s, const std::vector<std::string>& pieces) {
  fed out;
  std::string pending;
  for (const auto& p : pieces) {
    pending += p;
    const auto r = s.feed(pending);
    out.consumed += r.consumed;
    pending.erase(0, r.consumed);
    out.done = r.done;
    out.error = r.error;
    if (r.done || r.error) {
      break;
    }
  }
  return out;
}

fed feed_all(std::string_view data) {
  chunked_scanner s;
  const auto r = s.feed(data);
  return fed{r.consumed, r.done, r.error};
}

// ---------------------------------------------------------------------------------------------
// Valid bodies

class chunked_valid : public testing::TestWithParam<std::string> {};

TEST_P(chunked_valid, consumes_exactly_the_body) {
  const std::string& body = GetParam();
  const auto r = feed_all(body);
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.consumed, body.size());
}

TEST_P(chunked_valid, stops_at_the_end_of_the_message_when_pipelined) {
  const std::string& body = GetParam();
  chunked_scanner s;
  const auto r = s.feed(body + next_request);
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.consumed, body.size());
  EXPECT_TRUE(s.done());

  // Another message of the same kind right behind is not eaten either.
  chunked_scanner s2;
  const auto r2 = s2.feed(body + body);
  EXPECT_TRUE(r2.done);
  EXPECT_EQ(r2.consumed, body.size());
}

TEST_P(chunked_valid, every_split_point_gives_the_same_total) {
  const std::string& body = GetParam();
  const std::string data = body + next_request;
  for (std::size_t k = 0; k <= data.size(); ++k) {
    chunked_scanner s;
    const auto first = s.feed(std::string_view(data).substr(0, k));
    ASSERT_FALSE(first.error) << "split at " << k;
    if (k < body.size()) {
      // Nothing is held back: every byte offered before the end is part of the body.
      EXPECT_EQ(first.consumed, k) << "split at " << k;
      EXPECT_FALSE(first.done) << "split at " << k;
      const auto second = s.feed(std::string_view(data).substr(first.consumed));
      ASSERT_FALSE(second.error) << "split at " << k;
      EXPECT_TRUE(second.done) << "split at " << k;
      EXPECT_EQ(first.consumed + second.consumed, body.size()) << "split at " << k;
    } else {
      EXPECT_TRUE(first.done) << "split at " << k;
      EXPECT_EQ(first.consumed, body.size()) << "split at " << k;
    }
  }
}

TEST_P(chunked_valid, byte_at_a_time) {
  const std::string& body = GetParam();
  chunked_scanner s;
  std::size_t total = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    ASSERT_FALSE(s.done()) << "done early at byte " << i;
    const auto r = s.feed(std::string_view(body).substr(i, 1));
    ASSERT_FALSE(r.error) << "byte " << i;
    total += r.consumed;
  }
  EXPECT_TRUE(s.done());
  EXPECT_EQ(total, body.size());
}

TEST_P(chunked_valid, three_way_splits) {
  const std::string& body = GetParam();
  if (body.size() > 64) {
    GTEST_SKIP() << "quadratic in size";
  }
  for (std::size_t a = 0; a <= body.size(); ++a) {
    for (std::size_t b = a; b <= body.size(); ++b) {
      chunked_scanner s;
      const auto r =
          feed_pieces(s, {body.substr(0, a), body.substr(a, b - a), body.substr(b) + next_request});
      ASSERT_TRUE(r.done) << a << "," << b;
      ASSERT_FALSE(r.error) << a << "," << b;
      ASSERT_EQ(r.consumed, body.size()) << a << "," << b;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    bodies, chunked_valid,
    testing::Values(
        "0\r\n\r\n"s, "5\r\nhello\r\n0\r\n\r\n"s, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"s,
        "a\r\n0123456789\r\n0\r\n\r\n"s, "A\r\n0123456789\r\n0\r\n\r\n"s,
        "00005\r\nhello\r\n000\r\n\r\n"s,
        // Data that looks like framing is just data.
        "7\r\n0\r\n\r\n\r\n\r\n0\r\n\r\n"s, "2\r\n\r\n\r\n0\r\n\r\n"s,
        // Binary data, NUL and bare CR/LF included.
        "4\r\n\0\r\n\xff\r\n0\r\n\r\n"s,
        // Extensions (RFC 9112 7.1.1): names and token values, quoted-strings with
        // quoted-pairs and obs-text, BWS before ";" and around "=".
        "5;name=value\r\nhello\r\n0\r\n\r\n"s, "5;a;b=c;d=\"q;\\\"x\"\r\nhello\r\n0\r\n\r\n"s,
        "5 ;\text =\tspaced\t; x = \"a b\"\r\nhello\r\n0;last\r\n\r\n"s,
        "5;q=\"\xc3\xa9\"\r\nhello\r\n0\r\n\r\n"s, "5;e=\"\"\r\nhello\r\n0\r\n\r\n"s,
        "5;!#$%&'*+-.^_`|~09aZ=!#$%&'*+-.^_`|~09aZ\r\nhello\r\n0\r\n\r\n"s,
        "5;p=\"\\\t\\ \\\xff\\\\\\\"\"\r\nhello\r\n0\r\n\r\n"s,
        // Trailers: field lines, any value bytes a field may hold.
        "0\r\nX-Checksum: abc\r\n\r\n"s, "5\r\nhello\r\n0\r\nX-A: 1\r\nX-B: two words\r\n\r\n"s,
        "3;e\r\nabc\r\n0;f=1\r\nTrailer-X: \xc3\xa9 v\r\n\r\n"s, "0\r\nX:\r\nY:v\t\r\n\r\n"s,
        // Larger chunks.
        "1000\r\n"s + std::string(0x1000, 'x') + "\r\n0\r\n\r\n"s));

TEST(chunked_scanner, large_declared_chunk_is_counted_down) {
  chunked_scanner s;
  auto r = s.feed("100000\r\n");
  EXPECT_EQ(r.consumed, 8u);
  std::size_t sent = 0;
  const std::string block(4096, 'z');
  while (sent < 0x100000) {
    r = s.feed(block);
    ASSERT_FALSE(r.error);
    ASSERT_FALSE(r.done);
    EXPECT_EQ(r.consumed, block.size());
    sent += block.size();
  }
  r = s.feed("\r\n0\r\n\r\nnext");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.consumed, 7u);
}

TEST(chunked_scanner, largest_allowed_size_is_accepted) {
  // 2^60 fits; the scanner only counts, so no data is needed to check the size line.
  chunked_scanner s;
  const auto r = s.feed("1000000000000000\r\n");
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.consumed, 18u);
}

TEST(chunked_scanner, after_done_nothing_more_is_consumed) {
  chunked_scanner s;
  ASSERT_TRUE(s.feed("0\r\n\r\n").done);
  const auto r = s.feed("5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.error);
}

TEST(chunked_scanner, empty_feed_changes_nothing) {
  chunked_scanner s;
  auto r = s.feed("");
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_FALSE(r.done);
  EXPECT_FALSE(r.error);
  r = s.feed("0\r\n\r\n");
  EXPECT_TRUE(r.done);
}

TEST(chunked_scanner, reset_starts_a_new_message) {
  chunked_scanner s;
  ASSERT_TRUE(s.feed("0\r\n\r\n").done);
  s.reset();
  EXPECT_FALSE(s.done());
  auto r = s.feed("3\r\nabc\r\n0\r\n\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.consumed, 13u);

  s.reset();
  ASSERT_TRUE(s.feed("zz").error);
  s.reset();
  r = s.feed("0\r\n\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.error);
}

// ---------------------------------------------------------------------------------------------
// Malformed bodies

struct bad_case {
  const char* name;
  std::string data;
};

void PrintTo(const bad_case& c, std::ostream* os) {
  *os << c.name;
}

class chunked_invalid : public testing::TestWithParam<bad_case> {};

TEST_P(chunked_invalid, is_an_error) {
  const auto& data = GetParam().data;
  const auto r = feed_all(data);
  EXPECT_TRUE(r.error);
  EXPECT_FALSE(r.done);
  EXPECT_LE(r.consumed, data.size());
}

TEST_P(chunked_invalid, is_an_error_however_split) {
  const auto& data = GetParam().data;
  for (std::size_t k = 0; k <= data.size(); ++k) {
    chunked_scanner s;
    const auto r = feed_pieces(s, {data.substr(0, k), data.substr(k)});
    EXPECT_TRUE(r.error) << "split at " << k;
    EXPECT_FALSE(r.done) << "split at " << k;
  }
}

TEST_P(chunked_invalid, error_is_sticky) {
  chunked_scanner s;
  ASSERT_TRUE(s.feed(GetParam().data).error);
  const auto r = s.feed("0\r\n\r\n");
  EXPECT_TRUE(r.error);
  EXPECT_FALSE(r.done);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_FALSE(s.done());
}

INSTANTIATE_TEST_SUITE_P(
    all, chunked_invalid,
    testing::Values(
        // Size line.
        bad_case{"empty_size", "\r\n0\r\n\r\n"}, bad_case{"not_hex", "g\r\nabc\r\n0\r\n\r\n"},
        bad_case{"hex_prefix", "0x5\r\nhello\r\n0\r\n\r\n"},
        bad_case{"plus_sign", "+5\r\nhello\r\n0\r\n\r\n"},
        bad_case{"minus_sign", "-5\r\nhello\r\n0\r\n\r\n"},
        bad_case{"leading_space", " 5\r\nhello\r\n0\r\n\r\n"},
        bad_case{"trailing_space", "5 \r\nhello\r\n0\r\n\r\n"},
        bad_case{"trailing_tab", "5\t\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_without_size", ";x\r\n0\r\n\r\n"},
        bad_case{"size_bare_lf", "5\nhello\r\n0\r\n\r\n"},
        bad_case{"size_bare_cr", "5\rhello\r\n0\r\n\r\n"},
        bad_case{"size_cr_cr_lf", "5\r\r\nhello\r\n0\r\n\r\n"},
        bad_case{"last_size_bare_lf", "0\n\r\n"},
        bad_case{"overflow_2_64", "10000000000000000\r\n"},
        bad_case{"overflow_all_f", "FFFFFFFFFFFFFFFF\r\n"},
        bad_case{"over_2_60", "2000000000000000\r\n"},
        bad_case{"overflow_many_digits", "123456789abcdef0123\r\n"},
        bad_case{"size_line_too_long", std::string(4097, '0') + "5\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_line_too_long",
                 "5;" + std::string(5000, 'e') + "\r\nhello\r\n0\r\n\r\n"},
        // Extensions with control bytes.
        bad_case{"extension_bare_lf", "5;a\nb\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_lf_only", "5;a\n"},
        bad_case{"extension_nul", "5;a\0b\r\nhello\r\n0\r\n\r\n"s},
        bad_case{"extension_ctl", "5;a\x01\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_del", "5;a\x7f\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_esc", "5;a\x1b\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_bare_cr", "5;a\rb\r\nhello\r\n0\r\n\r\n"},
        // Extensions that break the grammar: every way a lenient parser could read them
        // differently from the next one.
        bad_case{"extension_bare_semicolon", "5;\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_semicolon_space_only", "5; \r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_double_semicolon", "5;;a\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_trailing_semicolon", "5;a;\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_empty_name", "5;=v\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_empty_value", "5;a=\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_double_equals", "5;a==b\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_unterminated_quote", "5;a=\"abc\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_unterminated_quote_pair", "5;a=\"abc\\\"\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_quote_in_token", "5;a=b\"c\"\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_junk_after_quote", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_quoted_name", "5;\"a\"=b\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_space_in_name", "5;a b\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_space_in_value", "5;a=b c\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_trailing_space", "5;a \r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_value_trailing_tab", "5;a=b\t\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_quoted_trailing_space", "5;a=\"b\" \r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_separator_in_name", "5;a/b\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_comma_in_name", "5;a,b\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_separator_in_value", "5;a=(b)\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_comma_in_value", "5;a=b,c\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_obs_text_name", "5;\xc3\xa9\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_obs_text_token", "5;a=\xc3\xa9\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_quoted_ctl", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_quoted_del", "5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_quoted_nul", "5;a=\"\0\"\r\nhello\r\n0\r\n\r\n"s},
        bad_case{"extension_quoted_bare_lf", "5;a=\"x\ny\"\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_quoted_bare_cr", "5;a=\"x\ry\"\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_quoted_pair_ctl", "5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_quoted_pair_cr", "5;a=\"\\\r\n\"\r\nhello\r\n0\r\n\r\n"},
        bad_case{"extension_on_last_chunk", "5\r\nhello\r\n0;\r\n\r\n"},
        bad_case{"size_space_then_junk", "5 a\r\nhello\r\n0\r\n\r\n"},
        bad_case{"size_space_then_digit", "5 5\r\nhello\r\n0\r\n\r\n"},
        bad_case{"size_upper_hex_prefix", "0X5\r\nhello\r\n0\r\n\r\n"},
        bad_case{"size_underscore", "5_0\r\nhello\r\n0\r\n\r\n"},
        bad_case{"size_leading_tab", "\t5\r\nhello\r\n0\r\n\r\n"},
        bad_case{"size_nul", "5\0\r\nhello\r\n0\r\n\r\n"s},
        bad_case{"size_fullwidth_digit", "\xef\xbc\x95\r\nhello\r\n0\r\n\r\n"},
        // Data terminator.
        bad_case{"data_too_long", "5\r\nhelloX\r\n0\r\n\r\n"},
        bad_case{"data_missing_crlf", "5\r\nhello0\r\n\r\n"},
        bad_case{"data_bare_lf", "5\r\nhello\n0\r\n\r\n"},
        bad_case{"data_bare_cr", "5\r\nhello\r0\r\n\r\n"},
        bad_case{"data_cr_cr", "5\r\nhello\r\r\n0\r\n\r\n"},
        bad_case{"data_too_short", "5\r\nhell\r\n0\r\n\r\n"},
        // Trailers and the final line.
        bad_case{"final_bare_lf", "0\r\n\n"}, bad_case{"final_bare_cr", "0\r\n\rX"},
        bad_case{"trailer_bare_lf", "0\r\nX: a\nY: b\r\n\r\n"},
        bad_case{"trailer_bare_cr", "0\r\nX: a\rb\r\n\r\n"},
        bad_case{"trailer_nul", "0\r\nX: a\0b\r\n\r\n"s},
        bad_case{"trailer_ctl", "0\r\nX: \x01\r\n\r\n"},
        bad_case{"trailer_del", "0\r\nX: \x7f\r\n\r\n"},
        bad_case{"trailer_obs_fold_space", "0\r\nX: a\r\n b\r\n\r\n"},
        bad_case{"trailer_obs_fold_tab", "0\r\nX: a\r\n\tb\r\n\r\n"},
        bad_case{"trailer_leading_space", "0\r\n X: a\r\n\r\n"},
        bad_case{"trailer_end_bare_lf", "0\r\nX: a\r\n\n"},
        // Trailer lines that are not field lines.
        bad_case{"trailer_without_colon", "0\r\nX-T\r\n\r\n"},
        bad_case{"trailer_empty_name", "0\r\n: v\r\n\r\n"},
        bad_case{"trailer_space_before_colon", "0\r\nX-T : v\r\n\r\n"},
        bad_case{"trailer_tab_before_colon", "0\r\nX-T\t: v\r\n\r\n"},
        bad_case{"trailer_separator_in_name", "0\r\nX(T): v\r\n\r\n"},
        bad_case{"trailer_obs_text_name", "0\r\nX-\xc3\xa9: v\r\n\r\n"},
        bad_case{"trailer_line_bare_lf", "0\r\nX: v\n\r\n"},
        bad_case{"trailer_final_cr_cr", "0\r\n\r\r\n"},
        bad_case{"trailer_fold_after_empty_value", "0\r\nX:\r\n\tv\r\n\r\n"},
        bad_case{"trailers_too_large",
                 "0\r\n" + std::string(20, 'X') + ": " + std::string(17 * 1024, 'v') + "\r\n\r\n"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(chunked_scanner, many_small_trailers_are_bounded_too) {
  std::string data = "0\r\n";
  while (data.size() < 20 * 1024) {
    data += "X-T: 0123456789\r\n";
  }
  data += "\r\n";
  EXPECT_TRUE(feed_all(data).error);
}

TEST(chunked_scanner, line_limits_are_inclusive) {
  // 4096 size-line bytes pass; one more fails.
  EXPECT_TRUE(feed_all(std::string(4095, '0') + "5\r\nhello\r\n0\r\n\r\n").done);
  EXPECT_TRUE(feed_all(std::string(4096, '0') + "5\r\nhello\r\n0\r\n\r\n").error);
}

// The header comment promises that sizes over 2^60 are errors. The check runs before the last
// digit is shifted in, so anything up to 2^60 + 15 passes.
TEST(chunked_scanner, size_just_over_2_60_is_an_error) {
  EXPECT_TRUE(feed_all("1000000000000001\r\n").error);
  EXPECT_TRUE(feed_all("100000000000000F\r\n").error);
}

}  // namespace
}  // namespace airlock::proxy::http

namespace airlock::proxy::http {
namespace {

// A request carrying an injected credential must not smuggle a second copy of the
// field in a trailer: the scanner stops before the trailer's first byte.
TEST(chunked_scanner_reject_trailers, trailer_is_an_error_before_it_is_consumed) {
  const std::string body = "5\r\nhello\r\n0\r\n";
  chunked_scanner sc;
  sc.reject_trailers();
  const auto r = sc.feed(body + "x-api-key: stolen\r\n\r\n");
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.consumed, body.size());
}

TEST(chunked_scanner_reject_trailers, body_without_trailers_is_fine) {
  chunked_scanner sc;
  sc.reject_trailers();
  const auto r = sc.feed("5\r\nhello\r\n0\r\n\r\nNEXT");
  EXPECT_FALSE(r.error);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.consumed, 15u);
}

}  // namespace
}  // namespace airlock::proxy::http

#include "proxy/http/head.hpp"

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace airlock::proxy::http {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

using scan_state = head_scan::state;

head_scan scan(std::string_view data, std::size_t resume = 0, head_limits limits = {}) {
  return scan_head(data, resume, limits);
}

// Feeds the buffer as it would grow one byte at a time, resuming from each `scanned`.
head_scan scan_growing(std::string_view data, const head_limits& limits = {}) {
  std::size_t resume = 0;
  head_scan last;
  for (std::size_t n = 0; n <= data.size(); ++n) {
    last = scan_head(data.substr(0, n), resume, limits);
    if (last.st != scan_state::incomplete) {
      return last;
    }
    EXPECT_LE(last.scanned, n);
    resume = last.scanned;
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// scan_head

TEST(scan_head, finds_the_end_of_a_complete_head) {
  const std::string head = "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n";
  const auto r = scan(head);
  ASSERT_EQ(r.st, scan_state::complete);
  EXPECT_EQ(r.skip, 0u);
  EXPECT_EQ(r.length, head.size());
  EXPECT_FALSE(r.error);
}

TEST(scan_head, head_without_fields_is_complete) {
  const std::string head = "GET http://a/ HTTP/1.0\r\n\r\n";
  const auto r = scan(head);
  ASSERT_EQ(r.st, scan_state::complete);
  EXPECT_EQ(r.length, head.size());
}

TEST(scan_head, length_stops_at_the_empty_line_and_leaves_the_body) {
  const std::string head = "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n";
  const auto r = scan(head + "body\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(r.st, scan_state::complete);
  EXPECT_EQ(r.length, head.size());
}

TEST(scan_head, leading_empty_lines_are_skipped) {
  const std::string head = "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n";
  for (int lines = 1; lines <= 32; ++lines) {
    std::string data;
    for (int i = 0; i < lines; ++i) {
      data += "\r\n";
    }
    data += head;
    const auto r = scan(data);
    ASSERT_EQ(r.st, scan_state::complete) << lines;
    EXPECT_EQ(r.skip, static_cast<std::size_t>(2 * lines));
    EXPECT_EQ(r.length, head.size());
    EXPECT_EQ(data.substr(r.skip, r.length), head);
  }
}

TEST(scan_head, skipping_is_bounded) {
  // At most 32 leading CRLFs are skipped; the rest count as the head, which then ends at the
  // first empty line and is no request. Bounded work, and a 400 rather than a hang.
  std::string data;
  for (int i = 0; i < 40; ++i) {
    data += "\r\n";
  }
  data += "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n";
  const auto r = scan(data);
  EXPECT_EQ(r.skip, 64u);
  ASSERT_EQ(r.st, scan_state::complete);
  EXPECT_EQ(r.length, 4u);
  request_head req;
  EXPECT_EQ(parse_request(std::string_view(data).substr(r.skip, r.length), {}, req).status, 400);
}

TEST(scan_head, incomplete_heads_ask_for_more) {
  for (std::string_view partial :
       {""sv, "G"sv, "GET / HTTP/1.1"sv, "GET / HTTP/1.1\r"sv, "GET / HTTP/1.1\r\n"sv,
        "GET / HTTP/1.1\r\nHost: a\r\n"sv, "GET / HTTP/1.1\r\nHost: a\r\n\r"sv, "\r\n"sv,
        "\r\n\r\n"sv, "\r"sv}) {
    const auto r = scan(partial);
    EXPECT_EQ(r.st, scan_state::incomplete) << testing::PrintToString(partial);
    EXPECT_LE(r.scanned, partial.size());
    EXPECT_FALSE(r.error);
  }
}

struct bare_lf_case {
  const char* name;
  std::string data;
};

class scan_head_bare_lf : public testing::TestWithParam<bare_lf_case> {};

TEST_P(scan_head_bare_lf, is_an_error_at_once) {
  const auto& data = GetParam().data;
  const auto r = scan(data);
  ASSERT_EQ(r.st, scan_state::error);
  EXPECT_EQ(r.error.status, 400);
  EXPECT_FALSE(r.error.reason.empty());
  // Fed a byte at a time, the error is found too, never a complete head.
  const auto g = scan_growing(data);
  ASSERT_EQ(g.st, scan_state::error);
  EXPECT_EQ(g.error.status, 400);
}

INSTANTIATE_TEST_SUITE_P(
    all, scan_head_bare_lf,
    testing::Values(bare_lf_case{"request_line", "GET / HTTP/1.1\nHost: a\r\n\r\n"},
                    bare_lf_case{"first_byte", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
                    bare_lf_case{"after_skipped_crlf", "\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
                    bare_lf_case{"header_line", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"},
                    bare_lf_case{"inside_value", "GET / HTTP/1.1\r\nHost: a\nb\r\n\r\n"},
                    bare_lf_case{"lf_lf_terminator", "GET / HTTP/1.1\r\nHost: a\n\n"},
                    bare_lf_case{"crlf_lf_terminator", "GET / HTTP/1.1\r\nHost: a\r\n\n"},
                    bare_lf_case{"lf_crlf_terminator", "GET / HTTP/1.1\r\nHost: a\n\r\n"},
                    bare_lf_case{"cr_cr_lf", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n\n"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(scan_head, cr_cr_lf_is_not_an_end_of_head) {
  // "\r\r\n" is a bare CR followed by CRLF: not an empty line. The head goes on.
  const auto r = scan("GET / HTTP/1.1\r\nHost: a\r\r\n");
  EXPECT_EQ(r.st, scan_state::incomplete);
}

TEST(scan_head, head_at_the_size_limit_is_accepted_and_one_byte_more_is_431) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  head_limits limits;
  limits.max_bytes = head.size();
  auto r = scan(head, 0, limits);
  ASSERT_EQ(r.st, scan_state::complete);
  EXPECT_EQ(r.length, head.size());

  limits.max_bytes = head.size() - 1;
  r = scan(head, 0, limits);
  ASSERT_EQ(r.st, scan_state::error);
  EXPECT_EQ(r.error.status, 431);
}

TEST(scan_head, leading_empty_lines_do_not_count_against_the_limit) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  head_limits limits;
  limits.max_bytes = head.size();
  const auto r = scan("\r\n\r\n" + head, 0, limits);
  ASSERT_EQ(r.st, scan_state::complete);
  EXPECT_EQ(r.skip, 4u);
}

TEST(scan_head, incomplete_head_over_the_limit_is_431) {
  head_limits limits;
  limits.max_bytes = 64;
  std::string data = "GET / HTTP/1.1\r\nX: " + std::string(200, 'a');
  auto r = scan(data, 0, limits);
  ASSERT_EQ(r.st, scan_state::error);
  EXPECT_EQ(r.error.status, 431);

  // Exactly at the limit and still incomplete: wait for more.
  r = scan(data.substr(0, 64), 0, limits);
  EXPECT_EQ(r.st, scan_state::incomplete);
  r = scan(data.substr(0, 65), 0, limits);
  ASSERT_EQ(r.st, scan_state::error);
  EXPECT_EQ(r.error.status, 431);
}

TEST(scan_head, many_short_lines_past_the_limit_are_431) {
  head_limits limits;
  limits.max_bytes = 1024;
  std::string data = "GET / HTTP/1.1\r\n";
  while (data.size() <= 2048) {
    data += "X: y\r\n";
  }
  const auto r = scan_growing(data, limits);
  ASSERT_EQ(r.st, scan_state::error);
  EXPECT_EQ(r.error.status, 431);
}

TEST(scan_head, complete_head_longer_than_the_limit_is_431_even_with_body_bytes) {
  head_limits limits;
  limits.max_bytes = 32;
  const std::string head =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(40, 'x') + "\r\n\r\n";
  const auto r = scan(head + "trailing", 0, limits);
  ASSERT_EQ(r.st, scan_state::error);
  EXPECT_EQ(r.error.status, 431);
}

// Every way of splitting a valid head over two reads gives the same result as one read.
class scan_head_split : public testing::TestWithParam<std::string> {};

TEST_P(scan_head_split, every_split_point_gives_the_same_result) {
  const std::string& data = GetParam();
  const auto whole = scan(data);
  ASSERT_EQ(whole.st, scan_state::complete);
  for (std::size_t k = 0; k <= data.size(); ++k) {
    const auto first = scan(std::string_view(data).substr(0, k));
    head_scan second = first;
    if (first.st == scan_state::incomplete) {
      second = scan(data, first.scanned);
    }
    ASSERT_EQ(second.st, scan_state::complete) << "split at " << k;
    EXPECT_EQ(second.skip, whole.skip) << "split at " << k;
    EXPECT_EQ(second.length, whole.length) << "split at " << k;
  }
  const auto grown = scan_growing(data);
  ASSERT_EQ(grown.st, scan_state::complete);
  EXPECT_EQ(grown.skip, whole.skip);
  EXPECT_EQ(grown.length, whole.length);
}

INSTANTIATE_TEST_SUITE_P(
    heads, scan_head_split,
    testing::Values("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"s,
                    "GET http://a/ HTTP/1.0\r\n\r\n"s,
                    "\r\n\r\nPOST http://a/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"s,
                    "\r\nGET http://a/ HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n"s,
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"s,
                    "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\nGET /next HTTP/1.1\r\n\r\n"s));

TEST(scan_head, error_found_whatever_the_split) {
  const std::string data = "GET / HTTP/1.1\r\nHost: a\r\nX: b\nY: c\r\n\r\n";
  for (std::size_t k = 0; k <= data.size(); ++k) {
    const auto first = scan(std::string_view(data).substr(0, k));
    head_scan second = first;
    if (first.st == scan_state::incomplete) {
      second = scan(data, first.scanned);
    }
    EXPECT_EQ(second.st, scan_state::error) << "split at " << k;
  }
}

// ---------------------------------------------------------------------------------------------
// parse_request

request_head parse_ok(const std::string& text, head_limits limits = {}) {
  request_head req;
  const auto err = parse_request(text, limits, req);
  EXPECT_FALSE(err) << err.status << " " << err.reason << " for " << testing::PrintToString(text);
  return req;
}

TEST(parse_request, splits_request_line_and_fields) {
  const std::string text =
      "POST http://example.com/a?b=c HTTP/1.1\r\n"
      "Host: example.com\r\n"
      "X-Spaces:   padded value \t \r\n"
      "X-Empty:\r\n"
      "X-Inner: a  b\r\n"
      "X-Obs-Text: caf\xc3\xa9\r\n"
      "\r\n";
  const auto req = parse_ok(text);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "http://example.com/a?b=c");
  EXPECT_EQ(req.ver, version::http11);
  ASSERT_EQ(req.headers.size(), 5u);
  EXPECT_EQ(req.headers[0].name, "Host");
  EXPECT_EQ(req.headers[0].value, "example.com");
  EXPECT_EQ(req.headers[1].name, "X-Spaces");
  EXPECT_EQ(req.headers[1].value, "padded value");
  EXPECT_EQ(req.headers[2].name, "X-Empty");
  EXPECT_EQ(req.headers[2].value, "");
  EXPECT_EQ(req.headers[3].value, "a  b");
  EXPECT_EQ(req.headers[4].value, "caf\xc3\xa9");
  // Views point into the caller's buffer.
  EXPECT_GE(req.method.data(), text.data());
  EXPECT_LT(req.headers[4].value.data(), text.data() + text.size());
}

TEST(parse_request, http10_and_other_forms) {
  // The views point into the text, so each text outlives its parse.
  const std::string http10 = "GET http://a/ HTTP/1.0\r\n\r\n";
  auto req = parse_ok(http10);
  EXPECT_EQ(req.ver, version::http10);
  EXPECT_TRUE(req.headers.empty());

  const std::string connect = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
  req = parse_ok(connect);
  EXPECT_EQ(req.method, "CONNECT");
  EXPECT_EQ(req.target, "example.com:443");

  const std::string asterisk = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";
  req = parse_ok(asterisk);
  EXPECT_EQ(req.target, "*");

  const std::string odd_method = "M-SEARCH! /x HTTP/1.1\r\nHost: a\r\n\r\n";
  req = parse_ok(odd_method);
  EXPECT_EQ(req.method, "M-SEARCH!");

  const std::string odd_target = "GET /a%20b?x=\"y\"&z=[1] HTTP/1.1\r\nHost: a\r\n\r\n";
  req = parse_ok(odd_target);
  EXPECT_EQ(req.target, "/a%20b?x=\"y\"&z=[1]");
}

TEST(parse_request, header_names_keep_their_case_and_repeat) {
  const std::string text = "GET / HTTP/1.1\r\nhOsT: a\r\nSet-X: 1\r\nset-x: 2\r\n\r\n";
  const auto req = parse_ok(text);
  ASSERT_EQ(req.headers.size(), 3u);
  EXPECT_EQ(req.headers[0].name, "hOsT");
  EXPECT_EQ(req.headers[1].value, "1");
  EXPECT_EQ(req.headers[2].value, "2");
}

TEST(parse_request, reused_output_is_reset) {
  request_head req;
  ASSERT_FALSE(parse_request("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", {}, req));
  ASSERT_EQ(req.headers.size(), 2u);
  ASSERT_FALSE(parse_request("GET / HTTP/1.0\r\nC: 3\r\n\r\n", {}, req));
  ASSERT_EQ(req.headers.size(), 1u);
  EXPECT_EQ(req.headers[0].name, "C");
  EXPECT_EQ(req.ver, version::http10);
}

struct bad_head_case {
  const char* name;
  std::string head;
  int status;
};

void PrintTo(const bad_head_case& c, std::ostream* os) {
  *os << c.name;
}

class parse_request_refuses : public testing::TestWithParam<bad_head_case> {};

TEST_P(parse_request_refuses, with_status) {
  head_limits limits;
  limits.max_headers = 4;
  request_head req;
  const auto err = parse_request(GetParam().head, limits, req);
  EXPECT_EQ(err.status, GetParam().status) << err.reason;
  EXPECT_TRUE(err);
  EXPECT_FALSE(err.reason.empty());
}

const std::string kHost = "Host: a\r\n";

INSTANTIATE_TEST_SUITE_P(
    all, parse_request_refuses,
    testing::Values(
        // Versions.
        bad_head_case{"http20", "GET / HTTP/2.0\r\n" + kHost + "\r\n", 505},
        bad_head_case{"http30", "GET / HTTP/3.0\r\n" + kHost + "\r\n", 505},
        bad_head_case{"http12", "GET / HTTP/1.2\r\n" + kHost + "\r\n", 505},
        bad_head_case{"http09", "GET / HTTP/0.9\r\n" + kHost + "\r\n", 505},
        bad_head_case{"lowercase_http", "GET / http/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"version_no_dot", "GET / HTTP/11\r\n" + kHost + "\r\n", 400},
        bad_head_case{"version_long", "GET / HTTP/1.10\r\n" + kHost + "\r\n", 400},
        bad_head_case{"version_two", "GET / HTTP/2\r\n" + kHost + "\r\n", 400},
        bad_head_case{"version_junk", "GET / FTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"trailing_space", "GET / HTTP/1.1 \r\n" + kHost + "\r\n", 400},
        // Request line shape.
        bad_head_case{"no_version", "GET /\r\n" + kHost + "\r\n", 400},
        bad_head_case{"only_method", "GET\r\n" + kHost + "\r\n", 400},
        bad_head_case{"empty_line", "\r\n" + kHost + "\r\n", 400},
        bad_head_case{"leading_space", " GET / HTTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"double_space", "GET  / HTTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"tab_separator", "GET\t/ HTTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"method_non_tchar", "G@T / HTTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"method_nul", "GE\0T / HTTP/1.1\r\n"s + kHost + "\r\n", 400},
        bad_head_case{"method_bare_cr", "GE\rT / HTTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"target_bare_cr", "GET /a\rb HTTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"target_nul", "GET /a\0b HTTP/1.1\r\n"s + kHost + "\r\n", 400},
        bad_head_case{"target_ctl", "GET /a\x01 HTTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"target_tab", "GET /a\tb HTTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"target_del", "GET /a\x7f HTTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"target_non_ascii", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + kHost + "\r\n", 400},
        bad_head_case{"version_bare_cr", "GET / HTTP/1.1\r\r\n" + kHost + "\r\n", 400},
        bad_head_case{"target_with_space", "GET /a b HTTP/1.1\r\n" + kHost + "\r\n", 400},
        // Header names.
        bad_head_case{"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        bad_head_case{"tab_before_colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400},
        bad_head_case{"space_before_colon_cl",
                      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", 400},
        bad_head_case{"empty_name", "GET / HTTP/1.1\r\n: a\r\n" + kHost + "\r\n", 400},
        bad_head_case{"no_colon", "GET / HTTP/1.1\r\nHosta\r\n\r\n", 400},
        bad_head_case{"name_bare_cr", "GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n", 400},
        bad_head_case{"name_nul", "GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n"s, 400},
        bad_head_case{"name_non_tchar", "GET / HTTP/1.1\r\nX(y): a\r\n" + kHost + "\r\n", 400},
        bad_head_case{"name_non_ascii", "GET / HTTP/1.1\r\nX\xc3\xa9: a\r\n" + kHost + "\r\n", 400},
        bad_head_case{"name_with_space", "GET / HTTP/1.1\r\nX Y: a\r\n" + kHost + "\r\n", 400},
        // Header values.
        bad_head_case{"value_bare_cr", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400},
        bad_head_case{"value_trailing_bare_cr", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 400},
        bad_head_case{"value_nul", "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"s, 400},
        bad_head_case{"value_ctl_01", "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400},
        bad_head_case{"value_ctl_1f", "GET / HTTP/1.1\r\nHost: a\x1f\r\n\r\n", 400},
        bad_head_case{"value_vt", "GET / HTTP/1.1\r\nHost: a\vb\r\n\r\n", 400},
        bad_head_case{"value_ff", "GET / HTTP/1.1\r\nHost: a\fb\r\n\r\n", 400},
        bad_head_case{"value_esc", "GET / HTTP/1.1\r\nHost: a\x1b[0m\r\n\r\n", 400},
        bad_head_case{"value_del", "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", 400},
        // Line folding.
        bad_head_case{"obs_fold_space", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400},
        bad_head_case{"obs_fold_tab", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", 400},
        bad_head_case{"first_field_indented", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
        bad_head_case{"fold_into_cl",
                      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n 0\r\n\r\n", 400},
        // Limits (max_headers is 4 in this suite).
        bad_head_case{"too_many_fields",
                      "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(parse_request, header_count_limit_is_inclusive) {
  head_limits limits;
  limits.max_headers = 4;
  request_head req;
  EXPECT_FALSE(
      parse_request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits, req));
  EXPECT_EQ(req.headers.size(), 4u);
  limits.max_headers = 0;
  EXPECT_FALSE(parse_request("GET / HTTP/1.0\r\n\r\n", limits, req));
  EXPECT_EQ(parse_request("GET / HTTP/1.0\r\nA: 1\r\n\r\n", limits, req).status, 431);
}

TEST(parse_request, default_limit_is_100_fields) {
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i) {
    head += "X-" + std::to_string(i) + ": v\r\n";
  }
  request_head req;
  EXPECT_FALSE(parse_request(head + "\r\n", {}, req));
  EXPECT_EQ(parse_request(head + "X-101: v\r\n\r\n", {}, req).status, 431);
}

TEST(parse_request, allowed_value_bytes) {
  // HTAB inside a value and obs-text are field-value bytes; every other control is not.
  for (int c = 0; c < 256; ++c) {
    if (c == '\r' || c == '\n') {
      continue;
    }
    std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: a";
    head.push_back(static_cast<char>(c));
    head += "b\r\n\r\n";
    request_head req;
    const bool ok = !parse_request(head, {}, req);
    const bool expected = c == '\t' || (c >= 0x20 && c != 0x7f);
    EXPECT_EQ(ok, expected) << "byte " << c;
  }
}

TEST(parse_request, allowed_target_bytes) {
  for (int c = 0; c < 256; ++c) {
    if (c == '\r' || c == '\n' || c == ' ') {
      continue;
    }
    std::string head = "GET /a";
    head.push_back(static_cast<char>(c));
    head += "b HTTP/1.1\r\nHost: a\r\n\r\n";
    request_head req;
    const bool ok = !parse_request(head, {}, req);
    EXPECT_EQ(ok, c > 0x20 && c < 0x7f) << "byte " << c;
  }
}

TEST(parse_request, names_are_exactly_tchar) {
  for (int c = 0; c < 256; ++c) {
    if (c == '\r' || c == '\n' || c == ':') {
      continue;
    }
    std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX";
    head.push_back(static_cast<char>(c));
    head += "Y: v\r\n\r\n";
    request_head req;
    const bool ok = !parse_request(head, {}, req);
    EXPECT_EQ(ok, is_tchar(static_cast<unsigned char>(c))) << "byte " << c;
  }
}

// ---------------------------------------------------------------------------------------------
// parse_response

TEST(parse_response, status_line_and_fields) {
  response_head resp;
  ASSERT_FALSE(
      parse_response("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX:  y \r\n\r\n", {}, resp));
  EXPECT_EQ(resp.ver, version::http11);
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(resp.reason, "Not Found");
  ASSERT_EQ(resp.headers.size(), 2u);
  EXPECT_EQ(resp.headers[0].name, "Content-Length");
  EXPECT_EQ(resp.headers[0].value, "3");
  EXPECT_EQ(resp.headers[1].value, "y");
}

TEST(parse_response, accepted_status_lines) {
  struct row {
    std::string line;
    version ver;
    int status;
    std::string_view reason;
  };
  for (const auto& r : std::vector<row>{
           {"HTTP/1.0 200 OK", version::http10, 200, "OK"},
           {"HTTP/1.1 200", version::http11, 200, ""},
           {"HTTP/1.1 200 ", version::http11, 200, ""},
           {"HTTP/1.1 100 Continue", version::http11, 100, "Continue"},
           {"HTTP/1.1 101 Switching Protocols", version::http11, 101, "Switching Protocols"},
           {"HTTP/1.1 599 Odd\tReason", version::http11, 599, "Odd\tReason"},
           {"HTTP/1.1 200 d\xc3\xa9j\xc3\xa0", version::http11, 200, "d\xc3\xa9j\xc3\xa0"},
       }) {
    response_head resp;
    const std::string text = r.line + "\r\n\r\n";
    const auto err = parse_response(text, {}, resp);
    EXPECT_FALSE(err) << r.line << ": " << err.reason;
    EXPECT_EQ(resp.ver, r.ver) << r.line;
    EXPECT_EQ(resp.status, r.status) << r.line;
    EXPECT_EQ(resp.reason, r.reason) << r.line;
  }
}

class parse_response_refuses : public testing::TestWithParam<bad_head_case> {};

TEST_P(parse_response_refuses, with_status) {
  head_limits limits;
  limits.max_headers = 2;
  response_head resp;
  const auto err = parse_response(GetParam().head, limits, resp);
  EXPECT_EQ(err.status, GetParam().status) << err.reason;
}

INSTANTIATE_TEST_SUITE_P(
    all, parse_response_refuses,
    testing::Values(
        bad_head_case{"http2", "HTTP/2.0 200 OK\r\n\r\n", 505},
        bad_head_case{"lowercase", "http/1.1 200 OK\r\n\r\n", 400},
        bad_head_case{"short", "HTTP/1.1 20\r\n\r\n", 400},
        bad_head_case{"two_digits", "HTTP/1.1 20 OK\r\n\r\n", 400},
        bad_head_case{"four_digits", "HTTP/1.1 2000 OK\r\n\r\n", 400},
        bad_head_case{"below_100", "HTTP/1.1 099 Low\r\n\r\n", 400},
        bad_head_case{"zero", "HTTP/1.1 000 Zero\r\n\r\n", 400},
        bad_head_case{"letters", "HTTP/1.1 2x0 OK\r\n\r\n", 400},
        bad_head_case{"sign", "HTTP/1.1 +20 OK\r\n\r\n", 400},
        bad_head_case{"double_space", "HTTP/1.1  200 OK\r\n\r\n", 400},
        bad_head_case{"no_space", "HTTP/1.1200 OK\r\n\r\n", 400},
        bad_head_case{"tab_after_status", "HTTP/1.1 200\tOK\r\n\r\n", 400},
        bad_head_case{"reason_nul", "HTTP/1.1 200 O\0K\r\n\r\n"s, 400},
        bad_head_case{"reason_bare_cr", "HTTP/1.1 200 O\rK\r\n\r\n", 400},
        bad_head_case{"reason_ctl", "HTTP/1.1 200 OK\x01\r\n\r\n", 400},
        bad_head_case{"reason_del", "HTTP/1.1 200 OK\x7f\r\n\r\n", 400},
        bad_head_case{"obs_fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 400},
        bad_head_case{"space_before_colon", "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n", 400},
        bad_head_case{"value_bare_cr", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", 400},
        bad_head_case{"value_nul", "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"s, 400},
        bad_head_case{"name_bare_cr", "HTTP/1.1 200 OK\r\nX\r: a\r\n\r\n", 400},
        bad_head_case{"too_many_fields", "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431}),
    [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// helpers

TEST(iequals, folds_ascii_case_only) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("TRANSFER-ENCODING", "transfer-encoding"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("host", "hos"));
  EXPECT_FALSE(iequals("host", "hosT "));
  EXPECT_FALSE(iequals("chunked", "chunkeD\0"sv));
  // '@' (0x40) and '`' (0x60) differ by the case bit but are not letters.
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("\xc3\xa9", "\xc3\x89"));
}

TEST(is_tchar, matches_rfc9110) {
  const std::string_view specials = "!#$%&'*+-.^_`|~";
  for (int c = 0; c < 256; ++c) {
    const bool expected = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                          (c >= 'A' && c <= 'Z') ||
                          (c != 0 && specials.find(static_cast<char>(c)) != std::string_view::npos);
    EXPECT_EQ(is_tchar(static_cast<unsigned char>(c)), expected) << c;
  }
}

}  // namespace
}  // namespace airlock::proxy::http

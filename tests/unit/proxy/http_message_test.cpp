#include "proxy/http/message.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace airlock::proxy::http {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

request_head request(version ver, std::vector<header> headers) {
  request_head h;
  h.method = "POST";
  h.target = "http://a/";
  h.ver = ver;
  h.headers = std::move(headers);
  return h;
}

response_head response(version ver, int status, std::vector<header> headers) {
  response_head h;
  h.ver = ver;
  h.status = status;
  h.reason = "X";
  h.headers = std::move(headers);
  return h;
}

const header host{"Host", "a"};

// ---------------------------------------------------------------------------------------------
// parse_content_length

TEST(parse_content_length, accepts_plain_digits) {
  struct row {
    std::string_view text;
    std::uint64_t value;
  };
  for (const auto& r : std::vector<row>{{"0", 0},
                                        {"5", 5},
                                        {"007", 7},
                                        {"1234567890", 1234567890},
                                        {"9999999999999999999", 9999999999999999999ULL}}) {
    std::uint64_t v = 42;
    EXPECT_TRUE(parse_content_length(r.text, v)) << r.text;
    EXPECT_EQ(v, r.value) << r.text;
  }
}

TEST(parse_content_length, refuses_anything_else) {
  for (std::string_view text : {""sv,
                                " "sv,
                                "+5"sv,
                                "-5"sv,
                                " 5"sv,
                                "5 "sv,
                                "5 5"sv,
                                "5,5"sv,
                                "5, 5"sv,
                                "0x5"sv,
                                "5a"sv,
                                "a"sv,
                                "1e3"sv,
                                "5.0"sv,
                                "\t5"sv,
                                "5\0"sv,
                                "18446744073709551615"sv,
                                "18446744073709551616"sv,
                                "99999999999999999999"sv,
                                "00000000000000000000"sv,
                                "\xef\xbc\x95"sv}) {
    std::uint64_t v = 42;
    EXPECT_FALSE(parse_content_length(text, v)) << testing::PrintToString(text);
    EXPECT_EQ(v, 42u) << "output touched on failure";
  }
}

// ---------------------------------------------------------------------------------------------
// analyze_request: framing

TEST(analyze_request, no_framing_fields_means_no_body) {
  const auto req = request(version::http11, {host});  // info.host points into it
  request_info info;
  ASSERT_FALSE(analyze_request(req, info));
  EXPECT_EQ(info.body, body_kind::none);
  EXPECT_EQ(info.content_length, 0u);
  EXPECT_TRUE(info.keep_alive);
  EXPECT_FALSE(info.expect_continue);
  EXPECT_FALSE(info.upgrade);
  ASSERT_NE(info.host, nullptr);
  EXPECT_EQ(info.host->value, "a");
}

TEST(analyze_request, content_length) {
  request_info info;
  ASSERT_FALSE(analyze_request(request(version::http11, {host, {"Content-Length", "10"}}), info));
  EXPECT_EQ(info.body, body_kind::length);
  EXPECT_EQ(info.content_length, 10u);

  ASSERT_FALSE(analyze_request(request(version::http11, {host, {"content-LENGTH", "0"}}), info));
  EXPECT_EQ(info.body, body_kind::none);
  EXPECT_EQ(info.content_length, 0u);

  ASSERT_FALSE(analyze_request(request(version::http10, {{"Content-Length", "3"}}), info));
  EXPECT_EQ(info.body, body_kind::length);
  EXPECT_EQ(info.content_length, 3u);
}

TEST(analyze_request, chunked_in_any_case) {
  for (std::string_view te : {"chunked"sv, "Chunked"sv, "CHUNKED"sv}) {
    request_info info;
    const auto req = request(version::http11, {host, {"transfer-ENCODING", te}});
    ASSERT_FALSE(analyze_request(req, info)) << te;
    EXPECT_EQ(info.body, body_kind::chunked) << te;
    EXPECT_EQ(info.content_length, 0u);
  }
}

TEST(analyze_request, host_points_at_the_field) {
  const auto req = request(version::http11, {{"X", "1"}, {"hOST", "example.com:80"}});
  request_info info;
  ASSERT_FALSE(analyze_request(req, info));
  EXPECT_EQ(info.host, &req.headers[1]);
}

TEST(analyze_request, http10_may_omit_host) {
  request_info info;
  ASSERT_FALSE(analyze_request(request(version::http10, {}), info));
  EXPECT_EQ(info.host, nullptr);
}

struct refusal_case {
  const char* name;
  version ver;
  std::vector<header> headers;
  int status;
};

void PrintTo(const refusal_case& c, std::ostream* os) {
  *os << c.name;
}

class analyze_request_refuses : public testing::TestWithParam<refusal_case> {};

TEST_P(analyze_request_refuses, with_status) {
  const auto& c = GetParam();
  request_info info;
  const auto err = analyze_request(request(c.ver, c.headers), info);
  EXPECT_EQ(err.status, c.status) << err.reason;
  EXPECT_FALSE(err.reason.empty());
}

const header cl5{"Content-Length", "5"};
const header te_chunked{"Transfer-Encoding", "chunked"};

INSTANTIATE_TEST_SUITE_P(
    smuggling, analyze_request_refuses,
    testing::Values(
        // CL.TE and TE.CL in either order and any case.
        refusal_case{"cl_and_te", version::http11, {host, cl5, te_chunked}, 400},
        refusal_case{"te_and_cl", version::http11, {host, te_chunked, cl5}, 400},
        refusal_case{
            "cl0_and_te", version::http11, {host, {"content-length", "0"}, te_chunked}, 400},
        refusal_case{"cl_and_te_identity",
                     version::http11,
                     {host, cl5, {"Transfer-Encoding", "identity"}},
                     400},
        // Content-Length forms.
        refusal_case{"duplicate_cl_same", version::http11, {host, cl5, cl5}, 400},
        refusal_case{
            "duplicate_cl_conflicting", version::http11, {host, cl5, {"Content-Length", "6"}}, 400},
        refusal_case{
            "duplicate_cl_case", version::http11, {host, cl5, {"content-length", "5"}}, 400},
        refusal_case{"cl_list", version::http11, {host, {"Content-Length", "5, 5"}}, 400},
        refusal_case{"cl_list_no_space", version::http11, {host, {"Content-Length", "5,5"}}, 400},
        refusal_case{"cl_plus", version::http11, {host, {"Content-Length", "+5"}}, 400},
        refusal_case{"cl_minus", version::http11, {host, {"Content-Length", "-5"}}, 400},
        refusal_case{"cl_inner_space", version::http11, {host, {"Content-Length", "5 0"}}, 400},
        refusal_case{"cl_leading_space", version::http11, {host, {"Content-Length", " 5"}}, 400},
        refusal_case{"cl_hex", version::http11, {host, {"Content-Length", "0x5"}}, 400},
        refusal_case{"cl_empty", version::http11, {host, {"Content-Length", ""}}, 400},
        refusal_case{"cl_suffix", version::http11, {host, {"Content-Length", "5a"}}, 400},
        refusal_case{"cl_overflow",
                     version::http11,
                     {host, {"Content-Length", "18446744073709551616"}},
                     400},
        refusal_case{
            "cl_huge", version::http11, {host, {"Content-Length", "99999999999999999999999"}}, 400},
        // Transfer-Encoding forms other than exactly "chunked".
        refusal_case{"te_chunked_identity",
                     version::http11,
                     {host, {"Transfer-Encoding", "chunked, identity"}},
                     400},
        refusal_case{
            "te_identity", version::http11, {host, {"Transfer-Encoding", "identity"}}, 400},
        refusal_case{
            "te_xchunked", version::http11, {host, {"Transfer-Encoding", "xchunked"}}, 400},
        refusal_case{
            "te_chunkedx", version::http11, {host, {"Transfer-Encoding", "chunkedx"}}, 400},
        refusal_case{"te_gzip_chunked",
                     version::http11,
                     {host, {"Transfer-Encoding", "gzip, chunked"}},
                     400},
        refusal_case{"te_chunked_chunked",
                     version::http11,
                     {host, {"Transfer-Encoding", "chunked, chunked"}},
                     400},
        refusal_case{
            "te_trailing_comma", version::http11, {host, {"Transfer-Encoding", "chunked,"}}, 400},
        refusal_case{
            "te_quoted", version::http11, {host, {"Transfer-Encoding", "\"chunked\""}}, 400},
        refusal_case{"te_empty", version::http11, {host, {"Transfer-Encoding", ""}}, 400},
        refusal_case{"te_duplicate_fields", version::http11, {host, te_chunked, te_chunked}, 400},
        refusal_case{"te_duplicate_identity",
                     version::http11,
                     {host, te_chunked, {"transfer-encoding", "identity"}},
                     400},
        refusal_case{"te_on_http10", version::http10, {host, te_chunked}, 400},
        refusal_case{"te_on_http10_no_host", version::http10, {te_chunked}, 400},
        // Host.
        refusal_case{"missing_host", version::http11, {}, 400},
        refusal_case{"missing_host_with_cl", version::http11, {cl5}, 400},
        refusal_case{"duplicate_host", version::http11, {host, host}, 400},
        refusal_case{"duplicate_host_different", version::http11, {host, {"host", "b"}}, 400},
        refusal_case{"duplicate_host_http10", version::http10, {host, {"HOST", "b"}}, 400},
        // Expect.
        refusal_case{"expect_other", version::http11, {host, cl5, {"Expect", "200-ok"}}, 417},
        refusal_case{"expect_empty", version::http11, {host, cl5, {"Expect", ""}}, 417},
        refusal_case{
            "expect_list", version::http11, {host, cl5, {"Expect", "100-continue, foo"}}, 417},
        refusal_case{"expect_twice",
                     version::http11,
                     {host, cl5, {"Expect", "100-continue"}, {"expect", "100-continue"}},
                     417},
        refusal_case{"expect_without_body", version::http11, {host, {"Expect", "x"}}, 417}),
    [](const auto& info) { return std::string(info.param.name); });

// The same refusals reached from raw bytes through the whole head pipeline, as a client
// would send them: scan_head, parse_request, analyze_request. 0 means accepted.
struct raw_case {
  const char* name;
  std::string fields;  // between the request line and the empty line
  int status;
  body_kind body = body_kind::none;
};

void PrintTo(const raw_case& c, std::ostream* os) {
  *os << c.name;
}

class raw_request_pipeline : public testing::TestWithParam<raw_case> {};

TEST_P(raw_request_pipeline, status) {
  const auto& c = GetParam();
  const std::string data = "POST http://a/ HTTP/1.1\r\n" + c.fields + "\r\n";
  int status = 0;
  request_head req;
  request_info info;
  const auto scan = scan_head(data, 0, {});
  if (scan.st == head_scan::state::error) {
    status = scan.error.status;
  } else {
    ASSERT_EQ(scan.st, head_scan::state::complete);
    const std::string_view head = std::string_view(data).substr(scan.skip, scan.length);
    if (auto err = parse_request(head, {}, req)) {
      status = err.status;
    } else if (auto aerr = analyze_request(req, info)) {
      status = aerr.status;
    }
  }
  EXPECT_EQ(status, c.status);
  if (status == 0) {
    EXPECT_EQ(info.body, c.body);
  }
}

INSTANTIATE_TEST_SUITE_P(
    smuggling, raw_request_pipeline,
    testing::Values(
        raw_case{"plain_length", "Host: a\r\nContent-Length:  5 \r\n", 0, body_kind::length},
        raw_case{"plain_chunked", "Host: a\r\nTransfer-Encoding:\tchunked\t\r\n", 0,
                 body_kind::chunked},
        raw_case{"underscore_is_another_field", "Host: a\r\nTransfer_Encoding: chunked\r\n", 0,
                 body_kind::none},
        raw_case{"cl_te", "Host: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n", 400},
        raw_case{"te_cl", "Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n", 400},
        raw_case{"te_space_before_colon", "Host: a\r\nTransfer-Encoding : chunked\r\n", 400},
        raw_case{"cl_space_before_colon", "Host: a\r\nContent-Length : 4\r\n", 400},
        raw_case{"te_vertical_tab", "Host: a\r\nTransfer-Encoding:\vchunked\r\n", 400},
        raw_case{"te_form_feed", "Host: a\r\nTransfer-Encoding: \fchunked\r\n", 400},
        raw_case{"te_nul", "Host: a\r\nTransfer-Encoding: chunked\0\r\n"s, 400},
        raw_case{"te_bare_cr", "Host: a\r\nTransfer-Encoding: chunked\r\r\n", 400},
        raw_case{"te_bare_lf_in_value", "Host: a\r\nX: y\nTransfer-Encoding: chunked\r\n", 400},
        raw_case{"te_bare_lf_before_colon", "Host: a\r\nTransfer-Encoding\n: chunked\r\n", 400},
        raw_case{"te_folded_identity", "Host: a\r\nTransfer-Encoding: chunked\r\n identity\r\n",
                 400},
        raw_case{"te_folded_value", "Host: a\r\nTransfer-Encoding:\r\n chunked\r\n", 400},
        raw_case{"te_indented_first", " Transfer-Encoding: chunked\r\nHost: a\r\n", 400},
        raw_case{"te_xchunked", "Host: a\r\nTransfer-Encoding: xchunked\r\n", 400},
        raw_case{"te_chunked_identity", "Host: a\r\nTransfer-Encoding: chunked, identity\r\n", 400},
        raw_case{"te_identity", "Host: a\r\nTransfer-Encoding: identity\r\n", 400},
        raw_case{"te_twice",
                 "Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400},
        raw_case{"cl_twice_same", "Host: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n", 400},
        raw_case{"cl_twice_different", "Host: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n",
                 400},
        raw_case{"cl_list", "Host: a\r\nContent-Length: 1,1\r\n", 400},
        raw_case{"cl_plus", "Host: a\r\nContent-Length: +5\r\n", 400},
        raw_case{"cl_inner_space", "Host: a\r\nContent-Length: 1 0\r\n", 400},
        raw_case{"host_twice", "Host: a\r\nHost: b\r\n", 400},
        raw_case{"host_missing", "Content-Length: 1\r\n", 400},
        raw_case{"expect_unknown", "Host: a\r\nContent-Length: 1\r\nExpect: 100-continuex\r\n",
                 417}),
    [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// analyze_request: persistence, Expect, Upgrade

TEST(analyze_request, keep_alive_defaults_by_version) {
  struct row {
    version ver;
    std::vector<header> headers;
    bool keep_alive;
  };
  const std::vector<row> rows = {
      {version::http11, {host}, true},
      {version::http11, {host, {"Connection", "close"}}, false},
      {version::http11, {host, {"Connection", "CLOSE"}}, false},
      {version::http11, {host, {"Connection", "keep-alive, close"}}, false},
      {version::http11, {host, {"Connection", "x"}, {"Connection", "close"}}, false},
      {version::http11, {host, {"Proxy-Connection", "close"}}, false},
      {version::http11, {host, {"Connection", "closed"}}, true},
      {version::http11, {host, {"Connection", "keep-alive"}}, true},
      {version::http10, {}, false},
      {version::http10, {{"Connection", "keep-alive"}}, true},
      {version::http10, {{"Connection", "Keep-Alive"}}, true},
      {version::http10, {{"Proxy-Connection", "keep-alive"}}, true},
      {version::http10, {{"Connection", "keep-alive, close"}}, false},
      {version::http10, {{"Keep-Alive", "timeout=5"}}, false},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    request_info info;
    info.keep_alive = !rows[i].keep_alive;
    ASSERT_FALSE(analyze_request(request(rows[i].ver, rows[i].headers), info)) << i;
    EXPECT_EQ(info.keep_alive, rows[i].keep_alive) << "row " << i;
  }
}

TEST(analyze_request, connection_tokens_are_collected_trimmed) {
  request_info info;
  ASSERT_FALSE(analyze_request(request(version::http11, {host,
                                                         {"Connection", " X-A ,, x-b\t,"},
                                                         {"Proxy-Connection", "keep-alive"},
                                                         {"connection", "close"}}),
                               info));
  EXPECT_EQ(info.connection_tokens,
            (std::vector<std::string_view>{"X-A", "x-b", "keep-alive", "close"}));

  // A second analysis on the same output starts afresh.
  ASSERT_FALSE(analyze_request(request(version::http11, {host}), info));
  EXPECT_TRUE(info.connection_tokens.empty());
}

TEST(analyze_request, expect_100_continue_only_matters_with_a_body) {
  request_info info;
  ASSERT_FALSE(
      analyze_request(request(version::http11, {host, cl5, {"Expect", "100-continue"}}), info));
  EXPECT_TRUE(info.expect_continue);

  ASSERT_FALSE(analyze_request(
      request(version::http11, {host, te_chunked, {"expect", "100-Continue"}}), info));
  EXPECT_TRUE(info.expect_continue);

  ASSERT_FALSE(analyze_request(request(version::http11, {host, {"Expect", "100-continue"}}), info));
  EXPECT_FALSE(info.expect_continue);

  ASSERT_FALSE(analyze_request(
      request(version::http11, {host, {"Content-Length", "0"}, {"Expect", "100-continue"}}), info));
  EXPECT_FALSE(info.expect_continue);

  // Reusing the output does not leak the previous answer.
  ASSERT_FALSE(
      analyze_request(request(version::http11, {host, cl5, {"Expect", "100-continue"}}), info));
  ASSERT_FALSE(analyze_request(request(version::http11, {host, cl5}), info));
  EXPECT_FALSE(info.expect_continue);
}

TEST(analyze_request, upgrade_needs_the_token_the_field_and_http11) {
  struct row {
    version ver;
    std::vector<header> headers;
    bool upgrade;
  };
  const std::vector<row> rows = {
      {version::http11, {host, {"Connection", "Upgrade"}, {"Upgrade", "websocket"}}, true},
      {version::http11,
       {host, {"Connection", "keep-alive, upgrade"}, {"upgrade", "WebSocket"}},
       true},
      {version::http11, {host, {"Connection", "upgrade"}, {"Upgrade", " websocket ,"}}, true},
      // h2c is never relayed: after its 101 come HTTP/2 frames airlock does not parse.
      {version::http11, {host, {"Connection", "keep-alive, upgrade"}, {"upgrade", "h2c"}}, false},
      {version::http11, {host, {"Connection", "upgrade"}, {"Upgrade", "websocket, h2c"}}, false},
      {version::http11, {host, {"Connection", "upgrade"}, {"Upgrade", "h2c, websocket"}}, false},
      {version::http11,
       {host, {"Connection", "upgrade"}, {"Upgrade", "websocket"}, {"Upgrade", "h2c"}},
       false},
      {version::http11, {host, {"Connection", "upgrade"}, {"Upgrade", "websocket/13"}}, false},
      {version::http11, {host, {"Connection", "upgrade"}, {"Upgrade", ","}}, false},
      {version::http11, {host, {"Upgrade", "websocket"}}, false},
      {version::http11, {host, {"Connection", "upgrade"}}, false},
      {version::http10, {host, {"Connection", "upgrade"}, {"Upgrade", "websocket"}}, false},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    request_info info;
    ASSERT_FALSE(analyze_request(request(rows[i].ver, rows[i].headers), info)) << i;
    EXPECT_EQ(info.upgrade, rows[i].upgrade) << "row " << i;
  }
}

// ---------------------------------------------------------------------------------------------
// analyze_response

struct response_case {
  const char* name;
  version ver;
  int status;
  std::string_view method;
  std::vector<header> headers;
  body_kind body;
  std::uint64_t length;
  bool keep_alive;
};

void PrintTo(const response_case& c, std::ostream* os) {
  *os << c.name;
}

class analyze_response_framing : public testing::TestWithParam<response_case> {};

TEST_P(analyze_response_framing, is) {
  const auto& c = GetParam();
  response_info info;
  info.content_length = 12345;
  const auto err = analyze_response(response(c.ver, c.status, c.headers), c.method, info);
  ASSERT_FALSE(err) << err.reason;
  EXPECT_EQ(info.body, c.body);
  if (c.body == body_kind::length) {
    EXPECT_EQ(info.content_length, c.length);
  }
  EXPECT_EQ(info.keep_alive, c.keep_alive);
}

constexpr auto v11 = version::http11;
constexpr auto v10 = version::http10;

INSTANTIATE_TEST_SUITE_P(
    all, analyze_response_framing,
    testing::Values(
        response_case{
            "length", v11, 200, "GET", {{"Content-Length", "5"}}, body_kind::length, 5, true},
        response_case{
            "length_zero", v11, 200, "GET", {{"Content-Length", "0"}}, body_kind::none, 0, true},
        response_case{"identical_list",
                      v11,
                      200,
                      "GET",
                      {{"Content-Length", "5, 5"}},
                      body_kind::length,
                      5,
                      true},
        response_case{"identical_fields",
                      v11,
                      200,
                      "GET",
                      {{"Content-Length", "7"}, {"content-length", "7"}},
                      body_kind::length,
                      7,
                      true},
        response_case{"chunked",
                      v11,
                      200,
                      "GET",
                      {{"Transfer-Encoding", "chunked"}},
                      body_kind::chunked,
                      0,
                      true},
        response_case{"chunked_upper",
                      v11,
                      200,
                      "GET",
                      {{"Transfer-Encoding", "CHUNKED"}},
                      body_kind::chunked,
                      0,
                      true},
        response_case{"gzip_then_chunked",
                      v11,
                      200,
                      "GET",
                      {{"Transfer-Encoding", "gzip, chunked"}},
                      body_kind::chunked,
                      0,
                      true},
        response_case{"te_beats_cl",
                      v11,
                      200,
                      "GET",
                      {{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}},
                      body_kind::chunked,
                      0,
                      true},
        response_case{"te_not_chunked_runs_to_close",
                      v11,
                      200,
                      "GET",
                      {{"Transfer-Encoding", "gzip"}},
                      body_kind::until_close,
                      0,
                      false},
        response_case{
            "no_framing_runs_to_close", v11, 200, "GET", {}, body_kind::until_close, 0, false},
        response_case{"head_ignores_length",
                      v11,
                      200,
                      "HEAD",
                      {{"Content-Length", "500"}},
                      body_kind::none,
                      0,
                      true},
        response_case{"head_ignores_chunked",
                      v11,
                      200,
                      "HEAD",
                      {{"Transfer-Encoding", "chunked"}},
                      body_kind::none,
                      0,
                      true},
        response_case{
            "head_without_framing_keeps_alive", v11, 200, "HEAD", {}, body_kind::none, 0, true},
        response_case{"status_100", v11, 100, "GET", {}, body_kind::none, 0, true},
        response_case{"status_101", v11, 101, "GET", {}, body_kind::none, 0, true},
        response_case{"status_199", v11, 199, "GET", {}, body_kind::none, 0, true},
        response_case{
            "status_204", v11, 204, "GET", {{"Content-Length", "10"}}, body_kind::none, 0, true},
        response_case{
            "status_304", v11, 304, "GET", {{"Content-Length", "10"}}, body_kind::none, 0, true},
        response_case{"status_205_with_length",
                      v11,
                      205,
                      "GET",
                      {{"Content-Length", "0"}},
                      body_kind::none,
                      0,
                      true},
        response_case{"close",
                      v11,
                      200,
                      "GET",
                      {{"Content-Length", "1"}, {"Connection", "close"}},
                      body_kind::length,
                      1,
                      false},
        response_case{"http10_default_close",
                      v10,
                      200,
                      "GET",
                      {{"Content-Length", "1"}},
                      body_kind::length,
                      1,
                      false},
        response_case{"http10_keep_alive",
                      v10,
                      200,
                      "GET",
                      {{"Content-Length", "1"}, {"Connection", "Keep-Alive"}},
                      body_kind::length,
                      1,
                      true},
        response_case{"http10_keep_alive_close",
                      v10,
                      200,
                      "GET",
                      {{"Content-Length", "1"}, {"Connection", "keep-alive, close"}},
                      body_kind::length,
                      1,
                      false}),
    [](const auto& info) { return std::string(info.param.name); });

class analyze_response_refuses : public testing::TestWithParam<response_case> {};

TEST_P(analyze_response_refuses, as_bad_gateway_material) {
  const auto& c = GetParam();
  response_info info;
  const auto err = analyze_response(response(c.ver, c.status, c.headers), c.method, info);
  EXPECT_EQ(err.status, 400) << err.reason;
}

INSTANTIATE_TEST_SUITE_P(
    all, analyze_response_refuses,
    testing::Values(
        response_case{
            "cl_conflicting_list", v11, 200, "GET", {{"Content-Length", "5, 6"}}, {}, 0, false},
        response_case{"cl_conflicting_fields",
                      v11,
                      200,
                      "GET",
                      {{"Content-Length", "5"}, {"Content-Length", "6"}},
                      {},
                      0,
                      false},
        response_case{"cl_empty", v11, 200, "GET", {{"Content-Length", ""}}, {}, 0, false},
        response_case{"cl_sign", v11, 200, "GET", {{"Content-Length", "+5"}}, {}, 0, false},
        response_case{"cl_negative", v11, 200, "GET", {{"Content-Length", "-1"}}, {}, 0, false},
        response_case{"cl_junk", v11, 200, "GET", {{"Content-Length", "5x"}}, {}, 0, false},
        response_case{"cl_overflow",
                      v11,
                      200,
                      "GET",
                      {{"Content-Length", "18446744073709551616"}},
                      {},
                      0,
                      false},
        response_case{
            "cl_list_with_junk", v11, 200, "GET", {{"Content-Length", "5, x"}}, {}, 0, false},
        response_case{"te_duplicate_fields",
                      v11,
                      200,
                      "GET",
                      {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
                      {},
                      0,
                      false},
        response_case{"te_chunked_not_last",
                      v11,
                      200,
                      "GET",
                      {{"Transfer-Encoding", "chunked, gzip"}},
                      {},
                      0,
                      false},
        response_case{"te_chunked_twice",
                      v11,
                      200,
                      "GET",
                      {{"Transfer-Encoding", "chunked, chunked"}},
                      {},
                      0,
                      false},
        response_case{"te_empty", v11, 200, "GET", {{"Transfer-Encoding", ""}}, {}, 0, false},
        response_case{"te_commas", v11, 200, "GET", {{"Transfer-Encoding", " , "}}, {}, 0, false}),
    [](const auto& info) { return std::string(info.param.name); });

// RFC 9110 8.6: Content-Length is 1*DIGIT; a list of empty elements carries no length at all,
// and RFC 9112 6.3 says an invalid Content-Length from a server is a 502. Here "," is accepted
// and the response is read until close instead.
TEST(analyze_response, content_length_without_any_digit_is_invalid) {
  for (std::string_view value : {","sv, " , "sv, ",,"sv}) {
    response_info info;
    const auto err = analyze_response(response(v11, 200, {{"Content-Length", value}}), "GET", info);
    EXPECT_EQ(err.status, 400) << testing::PrintToString(value);
  }
}

// RFC 9112 6.1: a recipient of an HTTP/1.0 message with Transfer-Encoding MUST treat the
// framing as faulty and close the connection after the message, whatever Connection says.
TEST(analyze_response, transfer_encoding_on_http10_never_keeps_the_connection) {
  response_info info;
  ASSERT_FALSE(analyze_response(
      response(v10, 200, {{"Transfer-Encoding", "chunked"}, {"Connection", "keep-alive"}}), "GET",
      info));
  EXPECT_FALSE(info.keep_alive);
}

TEST(analyze_response, connection_tokens_are_collected) {
  response_info info;
  ASSERT_FALSE(analyze_response(
      response(v11, 200, {{"Connection", "X-Internal, close"}, {"Content-Length", "0"}}), "GET",
      info));
  EXPECT_EQ(info.connection_tokens, (std::vector<std::string_view>{"X-Internal", "close"}));
  EXPECT_FALSE(info.keep_alive);
}

// ---------------------------------------------------------------------------------------------
// is_hop_by_hop

TEST(is_hop_by_hop, fixed_set_in_any_case) {
  const std::vector<std::string_view> none;
  for (std::string_view name :
       {"Connection"sv, "keep-alive"sv, "Proxy-Connection"sv, "PROXY-AUTHORIZATION"sv,
        "proxy-authenticate"sv, "TE"sv, "te"sv, "Upgrade"sv, "transfer-encoding"sv}) {
    EXPECT_TRUE(is_hop_by_hop(name, none)) << name;
  }
  for (std::string_view name : {"Host"sv, "Content-Length"sv, "Authorization"sv, "Cookie"sv,
                                "Content-Type"sv, "Proxy-Status"sv, "Tes"sv, "X-Upgrade"sv}) {
    EXPECT_FALSE(is_hop_by_hop(name, none)) << name;
  }
}

TEST(is_hop_by_hop, fields_named_in_connection) {
  const std::vector<std::string_view> tokens = {"X-Secret", "cookie", "close"};
  EXPECT_TRUE(is_hop_by_hop("x-secret", tokens));
  EXPECT_TRUE(is_hop_by_hop("X-SECRET", tokens));
  EXPECT_TRUE(is_hop_by_hop("Cookie", tokens));
  EXPECT_FALSE(is_hop_by_hop("X-Secret2", tokens));
  EXPECT_FALSE(is_hop_by_hop("Authorization", tokens));
}

TEST(is_hop_by_hop, connection_cannot_strip_host_or_content_length) {
  const std::vector<std::string_view> tokens = {"host", "Content-Length", "HOST"};
  EXPECT_FALSE(is_hop_by_hop("Host", tokens));
  EXPECT_FALSE(is_hop_by_hop("host", tokens));
  EXPECT_FALSE(is_hop_by_hop("Content-Length", tokens));
  EXPECT_FALSE(is_hop_by_hop("content-length", tokens));
}

}  // namespace
}  // namespace airlock::proxy::http

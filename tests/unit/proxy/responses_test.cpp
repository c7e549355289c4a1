#include "proxy/http/responses.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/http/head.hpp"
#include "proxy/http/message.hpp"

namespace airlock::proxy {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

// Reads a response the way an HTTP client would: strict head parse, then Content-Length.
struct parsed_response {
  std::string bytes;
  http::response_head head;
  std::string_view body;

  explicit parsed_response(std::string b) : bytes(std::move(b)) {
    const auto scan = http::scan_head(bytes, 0, {});
    EXPECT_EQ(scan.st, http::head_scan::state::complete) << bytes;
    EXPECT_EQ(scan.skip, 0u);
    const auto err = http::parse_response(std::string_view(bytes).substr(0, scan.length), {}, head);
    EXPECT_FALSE(err) << err.reason << " in " << bytes;
    body = std::string_view(bytes).substr(scan.length);
  }

  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& h : head.headers) {
      n += http::iequals(h.name, name) ? 1 : 0;
    }
    return n;
  }

  std::optional<std::string_view> field(std::string_view name) const {
    for (const auto& h : head.headers) {
      if (http::iequals(h.name, name)) {
        return h.value;
      }
    }
    return std::nullopt;
  }
};

TEST(reason_phrase, known_and_unknown_statuses) {
  struct row {
    int status;
    std::string_view reason;
  };
  for (const auto& r : std::vector<row>{{400, "Bad Request"},
                                        {403, "Forbidden"},
                                        {405, "Method Not Allowed"},
                                        {408, "Request Timeout"},
                                        {417, "Expectation Failed"},
                                        {431, "Request Header Fields Too Large"},
                                        {501, "Not Implemented"},
                                        {502, "Bad Gateway"},
                                        {503, "Service Unavailable"},
                                        {504, "Gateway Timeout"},
                                        {505, "HTTP Version Not Supported"},
                                        {200, "Error"},
                                        {599, "Error"}}) {
    EXPECT_EQ(reason_phrase(r.status), r.reason) << r.status;
  }
}

TEST(make_error_response, is_a_valid_response_with_matching_content_length) {
  for (int status : {400, 403, 405, 408, 417, 431, 501, 502, 503, 504, 505}) {
    for (bool close : {false, true}) {
      const parsed_response r(
          make_error_response(refusal{status, "http_request_error", "some detail"}, close));
      EXPECT_EQ(r.head.ver, http::version::http11);
      EXPECT_EQ(r.head.status, status);
      EXPECT_EQ(r.head.reason, reason_phrase(status));
      ASSERT_EQ(r.count("content-length"), 1u);
      std::uint64_t length = 0;
      ASSERT_TRUE(http::parse_content_length(*r.field("content-length"), length));
      EXPECT_EQ(length, r.body.size()) << status;
      EXPECT_EQ(r.count("transfer-encoding"), 0u);
      EXPECT_EQ(r.field("content-type"), "text/plain; charset=utf-8");
      EXPECT_EQ(r.field("cache-control"), "no-store");
      EXPECT_EQ(r.count("proxy-status"), 1u);
      if (close) {
        EXPECT_EQ(r.field("connection"), "close");
      } else {
        EXPECT_EQ(r.count("connection"), 0u);
      }
    }
  }
}

TEST(make_error_response, exact_bytes) {
  EXPECT_EQ(make_error_response(refusal{502, "connection_refused", "upstream refused"}, true),
            "HTTP/1.1 502 Bad Gateway\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 43\r\n"
            "Cache-Control: no-store\r\n"
            "Proxy-Status: airlock; error=connection_refused; details=\"upstream refused\"\r\n"
            "Connection: close\r\n"
            "\r\n"
            "airlock: 502 Bad Gateway: upstream refused\n");
}

TEST(make_error_response, body_says_status_reason_and_detail) {
  const parsed_response r(make_error_response(refusal{403, "destination_denied", "no"}, false));
  EXPECT_EQ(r.body, "airlock: 403 Forbidden: no\n");
}

TEST(make_error_response, proxy_status_names_the_error_type_and_detail) {
  const parsed_response r(
      make_error_response(refusal{504, "connection_timeout", "connect to a:443 timed out"}, false));
  EXPECT_EQ(r.field("proxy-status"),
            "airlock; error=connection_timeout; details=\"connect to a:443 timed out\"");
}

TEST(make_error_response, detail_cannot_break_out_of_the_quoted_string) {
  struct row {
    std::string detail;
    std::string_view quoted;
  };
  for (const auto& row : std::vector<row>{
           {"say \"hi\"", "say hi"},
           {"back\\slash\\", "backslash"},
           {"end\\\"; error=spoofed", "end; error=spoofed"},
           {"tab\there", "tabhere"},
           {"cr\rlf\nboth\r\n", "crlfboth"},
           {"nul\0byte"s, "nulbyte"},
           {"ctl\x01\x1f\x7f!", "ctl!"},
           {"", ""},
           {"\"\\\r\n\t\x7f", ""},
       }) {
    const parsed_response r(
        make_error_response(refusal{400, "http_request_error", row.detail}, true));
    EXPECT_EQ(r.field("proxy-status"),
              "airlock; error=http_request_error; details=\"" + std::string(row.quoted) + "\"")
        << testing::PrintToString(row.detail);
  }
}

TEST(make_error_response, detail_with_crlf_injects_no_header) {
  const std::string detail = "bad\r\nX-Injected: 1\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK";
  const parsed_response r(make_error_response(refusal{400, "http_request_error", detail}, true));
  EXPECT_EQ(r.count("x-injected"), 0u);
  EXPECT_EQ(r.count("content-length"), 1u);
  std::uint64_t length = 0;
  ASSERT_TRUE(http::parse_content_length(*r.field("content-length"), length));
  // The body carries the text as is; the declared length covers all of it.
  EXPECT_EQ(length, r.body.size());
  EXPECT_NE(r.body.find(detail), std::string_view::npos);
}

TEST(make_error_response, long_detail_length_still_matches) {
  const std::string detail(10000, 'd');
  const parsed_response r(
      make_error_response(refusal{502, "destination_unavailable", detail}, false));
  std::uint64_t length = 0;
  ASSERT_TRUE(http::parse_content_length(*r.field("content-length"), length));
  EXPECT_EQ(length, r.body.size());
  EXPECT_EQ(length, std::string_view("airlock: 502 Bad Gateway: \n").size() + detail.size());
}

// RFC 8941 sf-string admits only printable ASCII (%x20-21 / %x23-5B / %x5D-7E). Bytes >= 0x80
// are kept, which makes the whole Proxy-Status field unparseable as a structured field.
TEST(make_error_response, detail_in_proxy_status_is_ascii_only) {
  const parsed_response r(
      make_error_response(refusal{502, "dns_error", "caf\xc3\xa9.example"}, false));
  const auto value = r.field("proxy-status");
  ASSERT_TRUE(value.has_value());
  for (char c : *value) {
    EXPECT_LT(static_cast<unsigned char>(c), 0x80) << *value;
  }
}

}  // namespace
}  // namespace airlock::proxy

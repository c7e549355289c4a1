#include "config/parse_values.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

namespace airlock::config {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

// ---------------------------------------------------------------------------------------------
// parse_duration

TEST(parse_duration, accepts_each_unit) {
  struct row {
    std::string_view text;
    duration value;
  };
  for (const auto& r : std::vector<row>{
           {"250ms", 250ms},
           {"0ms", 0ms},
           {"1ms", 1ms},
           {"10s", 10s},
           {"0s", 0s},
           {"300s", 300s},
           {"5m", 5min},
           {"90m", 90min},
           {"1h", 1h},
           {"48h", 48h},
           {"007s", 7s},
           // The largest values that still fit in milliseconds and in microseconds after.
           {"9223372036854775ms", duration(9223372036854775)},
           {"9223372036854s", duration(9223372036854000)},
           {"2562047788h", duration(2562047788LL * 3600000)},
       }) {
    const auto d = parse_duration(r.text);
    ASSERT_TRUE(d.has_value()) << r.text;
    EXPECT_EQ(*d, r.value) << r.text;
  }
}

TEST(parse_duration, refuses_junk) {
  for (std::string_view text :
       {""sv,      "10"sv,   "0"sv,     "s"sv,     "ms"sv,     "10 s"sv,  " 10s"sv,
        "10s "sv,  "10S"sv,  "10MS"sv,  "10sec"sv, "10secs"sv, "10ns"sv,  "10us"sv,
        "1d"sv,    "1w"sv,   "1.5s"sv,  ".5s"sv,   "-1s"sv,    "+1s"sv,   "1e3ms"sv,
        "0x10s"sv, "10s5"sv, "10ms5"sv, "1h30m"sv, "10s\n"sv,  "10\0s"sv, "\xd9\xa1s"sv}) {
    EXPECT_FALSE(parse_duration(text).has_value()) << testing::PrintToString(text);
  }
}

TEST(parse_duration, refuses_overflow) {
  for (std::string_view text :
       {"9223372036854776ms"sv, "9223372036855s"sv, "2562047789h"sv, "153722867281m"sv,
        "18446744073709551615ms"sv, "18446744073709551616ms"sv, "18446744073709551615h"sv,
        "99999999999999999999999999s"sv, "5124095576030432h"sv}) {
    EXPECT_FALSE(parse_duration(text).has_value()) << text;
  }
}

// ---------------------------------------------------------------------------------------------
// parse_size

TEST(parse_size, accepts_bytes_and_binary_units) {
  struct row {
    std::string_view text;
    std::uint64_t value;
  };
  for (const auto& r : std::vector<row>{
           {"0", 0},
           {"65536", 65536},
           {"5B", 5},
           {"0KiB", 0},
           {"64KiB", 64 * 1024},
           {"1MiB", 1024 * 1024},
           {"3GiB", 3ULL << 30},
           {"18446744073709551615", 18446744073709551615ULL},
           {"18014398509481983KiB", 18014398509481983ULL * 1024},
           {"17179869183GiB", 17179869183ULL << 30},
       }) {
    const auto v = parse_size(r.text);
    ASSERT_TRUE(v.has_value()) << r.text;
    EXPECT_EQ(*v, r.value) << r.text;
  }
}

TEST(parse_size, refuses_junk_and_overflow) {
  for (std::string_view text : {""sv,
                                "KiB"sv,
                                "B"sv,
                                "64kib"sv,
                                "64KB"sv,
                                "64kb"sv,
                                "64K"sv,
                                "64k"sv,
                                "64 KiB"sv,
                                " 64"sv,
                                "64 "sv,
                                "-1"sv,
                                "+1"sv,
                                "1.5KiB"sv,
                                "0x10"sv,
                                "1e3"sv,
                                "64KiBs"sv,
                                "1TiB"sv,
                                "64KiB64"sv,
                                "18446744073709551616"sv,
                                "18014398509481984KiB"sv,
                                "17592186044416MiB"sv,
                                "17179869184GiB"sv,
                                "99999999999999999999999"sv}) {
    EXPECT_FALSE(parse_size(text).has_value()) << testing::PrintToString(text);
  }
}

// ---------------------------------------------------------------------------------------------
// parse_endpoint

TEST(parse_endpoint, accepts_host_port_forms) {
  struct row {
    std::string_view text;
    bool allow_zero;
    std::string_view host;
    std::uint16_t port;
    std::string_view to_string;
  };
  for (const auto& r : std::vector<row>{
           {"127.0.0.1:3128", false, "127.0.0.1", 3128, "127.0.0.1:3128"},
           {"[::1]:3128", false, "::1", 3128, "[::1]:3128"},
           {"[2001:db8::1]:443", false, "2001:db8::1", 443, "[2001:db8::1]:443"},
           {"localhost:8080", false, "localhost", 8080, "localhost:8080"},
           {"api.example.com:1", false, "api.example.com", 1, "api.example.com:1"},
           {"h:65535", false, "h", 65535, "h:65535"},
           {"0.0.0.0:0", true, "0.0.0.0", 0, "0.0.0.0:0"},
           {"[::]:0", true, "::", 0, "[::]:0"},
           {"h:080", false, "h", 80, "h:80"},
       }) {
    const auto parsed = parse_endpoint(r.text, r.allow_zero);
    const auto* ep = std::get_if<endpoint>(&parsed);
    ASSERT_NE(ep, nullptr) << r.text << ": " << std::get<std::string>(parsed);
    EXPECT_EQ(ep->host, r.host) << r.text;
    EXPECT_EQ(ep->port, r.port) << r.text;
    EXPECT_EQ(ep->to_string(), r.to_string) << r.text;
  }
}

TEST(parse_endpoint, refuses_malformed_endpoints_with_a_reason) {
  struct row {
    std::string_view text;
    bool allow_zero;
  };
  for (const auto& r : std::vector<row>{
           {"", true},
           {"localhost", true},
           {"localhost:", true},
           {":80", true},
           {":", true},
           {"h:0", false},
           {"[::1]:0", false},
           {"h:65536", true},
           {"h:99999999999999999999", true},
           {"h:-1", true},
           {"h:+1", true},
           {"h: 80", true},
           {"h:80 ", true},
           {"h:80x", true},
           {"h:0x50", true},
           {"::1:80", true},
           {"2001:db8::1:443", true},
           {"[::1]", true},
           {"[::1]:", true},
           {"[::1]80", true},
           {"[::1]x:80", true},
           {"[]:80", true},
           {"[::1:80", true},
       }) {
    const auto parsed = parse_endpoint(r.text, r.allow_zero);
    const auto* err = std::get_if<std::string>(&parsed);
    ASSERT_NE(err, nullptr) << testing::PrintToString(r.text) << " was accepted";
    EXPECT_FALSE(err->empty());
  }
}

TEST(parse_endpoint, messages_say_what_is_wrong) {
  EXPECT_EQ(std::get<std::string>(parse_endpoint("h:0", false)),
            "port must be a number from 1 to 65535");
  EXPECT_EQ(std::get<std::string>(parse_endpoint("h:x", true)),
            "port must be a number from 0 to 65535");
  EXPECT_EQ(std::get<std::string>(parse_endpoint("::1:80", true)),
            "IPv6 addresses need brackets: \"[::1]:port\"");
  EXPECT_EQ(std::get<std::string>(parse_endpoint(":80", true)), "missing host before the port");
  EXPECT_EQ(std::get<std::string>(parse_endpoint("h", true)), "expected \"host:port\"");
  EXPECT_EQ(std::get<std::string>(parse_endpoint("[::1]", true)), "expected \"[ipv6]:port\"");
}

TEST(endpoint, to_string_and_equality) {
  EXPECT_EQ((endpoint{"::1", 80}).to_string(), "[::1]:80");
  EXPECT_EQ((endpoint{"h", 1}).to_string(), "h:1");
  EXPECT_EQ((endpoint{"h", 1}), (endpoint{"h", 1}));
  EXPECT_NE((endpoint{"h", 1}), (endpoint{"h", 2}));
  EXPECT_NE((endpoint{"h", 1}), (endpoint{"g", 1}));
}

}  // namespace
}  // namespace airlock::config

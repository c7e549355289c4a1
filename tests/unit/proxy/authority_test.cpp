#include "proxy/http/authority.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace airlock::proxy {
namespace {

using namespace std::string_view_literals;

struct good_case {
  std::string_view text;
  std::string_view host;
  std::uint16_t port;
  bool ipv6;
  std::string_view to_string;
};

// ---------------------------------------------------------------------------------------------
// parse_authority_form (CONNECT targets)

TEST(parse_authority_form, accepts_and_normalises) {
  for (const auto& c : std::vector<good_case>{
           {"example.com:443", "example.com", 443, false, "example.com:443"},
           {"EXAMPLE.Com:443", "example.com", 443, false, "example.com:443"},
           {"Api.Anthropic.COM:8443", "api.anthropic.com", 8443, false, "api.anthropic.com:8443"},
           {"example.com.:443", "example.com", 443, false, "example.com:443"},
           {"localhost:1", "localhost", 1, false, "localhost:1"},
           {"h:65535", "h", 65535, false, "h:65535"},
           {"127.0.0.1:80", "127.0.0.1", 80, false, "127.0.0.1:80"},
           {"under_score-dash.x:80", "under_score-dash.x", 80, false, "under_score-dash.x:80"},
           {"[::1]:443", "::1", 443, true, "[::1]:443"},
           {"[2001:DB8::A]:8443", "2001:db8::a", 8443, true, "[2001:db8::a]:8443"},
           // IPv4-mapped: connect(2) reaches the IPv4 address, so that is the authority.
           {"[::ffff:127.0.0.1]:80", "127.0.0.1", 80, false, "127.0.0.1:80"},
           {"[::a9fe:a9fe]:80", "::169.254.169.254", 80, true, "[::169.254.169.254]:80"},
       }) {
    const auto a = parse_authority_form(c.text);
    ASSERT_TRUE(a.has_value()) << c.text;
    EXPECT_EQ(a->host, c.host) << c.text;
    EXPECT_EQ(a->port, c.port) << c.text;
    EXPECT_EQ(a->ipv6, c.ipv6) << c.text;
    EXPECT_EQ(a->to_string(), c.to_string) << c.text;
  }
}

TEST(parse_authority_form, spellings_of_one_name_compare_equal) {
  EXPECT_EQ(parse_authority_form("Example.COM.:443"), parse_authority_form("example.com:443"));
  EXPECT_EQ(parse_authority_form("[::A]:1"), parse_authority_form("[::a]:1"));
  EXPECT_NE(parse_authority_form("example.com:443"), parse_authority_form("example.com:444"));
  EXPECT_NE(parse_authority_form("example.com:443"), parse_authority_form("example.org:443"));
}

// An agent writing the metadata address as an IPv4-mapped IPv6 literal gets the authority
// the plain spelling gets, so every rule, pool key and Host check sees one destination.
TEST(parse_authority_form, ipv4_mapped_spellings_are_the_ipv4_authority) {
  const auto plain = parse_authority_form("169.254.169.254:80");
  ASSERT_TRUE(plain);
  for (const char* spelled :
       {"[::ffff:169.254.169.254]:80", "[::ffff:a9fe:a9fe]:80", "[::FFFF:A9FE:A9FE]:80",
        "[0:0:0:0:0:ffff:a9fe:a9fe]:80", "[0000:0000:0000:0000:0000:ffff:169.254.169.254]:80",
        "169.254.43518:80", "0xa9fea9fe:80"}) {
    EXPECT_EQ(parse_authority_form(spelled), plain) << spelled;
  }
  // The IPv4-compatible and SIIT forms are other destinations: IPv6 authorities (the
  // private-address check judges them by the address inside when they are dialled).
  for (const char* other : {"[::a9fe:a9fe]:80", "[::ffff:0:a9fe:a9fe]:80"}) {
    const auto a = parse_authority_form(other);
    ASSERT_TRUE(a) << other;
    EXPECT_TRUE(a->ipv6) << other;
    EXPECT_NE(a, plain) << other;
  }
}

TEST(parse_host_header, ipv4_mapped_host_matches_the_ipv4_target) {
  EXPECT_EQ(parse_host_header("[::ffff:127.0.0.1]:8080", 80),
            parse_host_header("127.0.0.1:8080", 80));
  EXPECT_EQ(parse_host_header("[::ffff:7f00:1]", 80), parse_authority_form("127.0.0.1:80"));
}

TEST(parse_absolute_form, ipv4_mapped_target_is_the_ipv4_authority_as_written_for_host) {
  const auto t = parse_absolute_form("http://[::ffff:a9fe:a9fe]/latest/");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->auth, parse_authority_form("169.254.169.254:80"));
  EXPECT_EQ(t->authority_text, "[::ffff:a9fe:a9fe]");
  EXPECT_EQ(t->origin_form, "/latest/");
}

class parse_authority_form_refuses : public testing::TestWithParam<std::string_view> {};

TEST_P(parse_authority_form_refuses, target) {
  EXPECT_EQ(parse_authority_form(GetParam()), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(
    all, parse_authority_form_refuses,
    testing::Values(
        // The port is required, and must be 1..65535 in plain decimal.
        ""sv, "example.com"sv, "example.com:"sv, ":443"sv, "example.com:0"sv, "example.com:00"sv,
        "example.com:65536"sv, "example.com:99999"sv, "example.com:4294967297"sv,
        "example.com:+1"sv, "example.com:-1"sv, "example.com:+443"sv, "example.com: 443"sv,
        "example.com:443 "sv, "example.com:44 3"sv, "example.com:0x1bb"sv, "example.com:443:443"sv,
        "example.com:1e3"sv,
        // Hosts.
        ".example.com:443"sv, ".:443"sv, "..:443"sv, "exa mple.com:443"sv, "user@example.com:443"sv,
        "user:pw@example.com:443"sv, "example.com/x:443"sv, "http://example.com:443"sv,
        "exa%6dple.com:443"sv, "ex\xc3\xa4mple.com:443"sv, "example.com\0.evil:443"sv,
        "*.example.com:443"sv,
        // IPv6.
        "::1:443"sv, "[::1]"sv, "[::1]:"sv, "[]:443"sv, "[::1:443"sv, "[::1]443"sv, "[::1]x:443"sv,
        "[v1.x]:443"sv, "[abc]:443"sv, "[127.0.0.1]:443"sv, "[fe80::1%25eth0]:443"sv, "[::g]:443"sv,
        "[[::1]]:443"sv, "[::1]:0"sv, "[::1]:65536"sv));

// RFC 3986 allows one trailing dot; "example.com.." is not a name, yet it comes back as
// "example.com." — a spelling that no longer equals "example.com" but resolves to it, so a
// deny rule for example.com would not match while the connection still reaches it.
TEST(parse_authority_form, two_trailing_dots_are_refused) {
  EXPECT_EQ(parse_authority_form("example.com..:443"), std::nullopt);
  EXPECT_EQ(parse_host_header("example.com..", 80), std::nullopt);
  EXPECT_EQ(parse_absolute_form("http://example.com../"), std::nullopt);
}

// The bracket contents are only checked for hex digits, ':' and '.', so strings that are no
// IPv6 address at all come back as hosts (the header promises malformed hosts are refused).
TEST(parse_authority_form, bracketed_host_must_be_an_ipv6_address) {
  for (std::string_view text : {"[:]:443"sv, "[:::::]:443"sv, "[::1::2]:443"sv, "[1.2.3.4:]:443"sv,
                                "[12345::1]:443"sv, "[.:]:443"sv}) {
    EXPECT_EQ(parse_authority_form(text), std::nullopt) << text;
  }
}

// ---------------------------------------------------------------------------------------------
// parse_host_header

TEST(parse_host_header, default_port_fills_a_missing_one) {
  struct row {
    std::string_view value;
    std::uint16_t default_port;
    std::string_view host;
    std::uint16_t port;
  };
  for (const auto& r : std::vector<row>{
           {"example.com", 80, "example.com", 80},
           {"example.com:", 80, "example.com", 80},
           {"Example.com:8080", 80, "example.com", 8080},
           {"example.com.", 443, "example.com", 443},
           {"[::1]", 80, "::1", 80},
           {"[::1]:", 80, "::1", 80},
           {"[::1]:81", 80, "::1", 81},
       }) {
    const auto a = parse_host_header(r.value, r.default_port);
    ASSERT_TRUE(a.has_value()) << r.value;
    EXPECT_EQ(a->host, r.host) << r.value;
    EXPECT_EQ(a->port, r.port) << r.value;
  }
}

TEST(parse_host_header, refuses_malformed_values) {
  for (std::string_view v : {""sv, ":80"sv, "h:0"sv, "h:65536"sv, "h:+80"sv, "h:8o"sv, "u@h"sv,
                             "h h"sv, "h,h2"sv, "h\t"sv, "[::1"sv, "[::1]x"sv, "[]"sv}) {
    EXPECT_EQ(parse_host_header(v, 80), std::nullopt) << testing::PrintToString(v);
  }
}

// ---------------------------------------------------------------------------------------------
// parse_absolute_form

TEST(parse_absolute_form, splits_authority_and_origin_form) {
  struct row {
    std::string_view target;
    std::string_view host;
    std::uint16_t port;
    std::string_view authority_text;
    std::string_view origin_form;
  };
  for (const auto& r : std::vector<row>{
           {"http://example.com/path?q=1", "example.com", 80, "example.com", "/path?q=1"},
           {"http://example.com", "example.com", 80, "example.com", "/"},
           {"http://example.com:8080", "example.com", 8080, "example.com:8080", "/"},
           {"HTTP://Example.COM:8080/A", "example.com", 8080, "Example.COM:8080", "/A"},
           {"hTtP://h/", "h", 80, "h", "/"},
           // aiohttp's WebSocket through a proxy: the same request as http://.
           {"ws://example.com/socket?x=1", "example.com", 80, "example.com", "/socket?x=1"},
           {"WS://h:8080", "h", 8080, "h:8080", "/"},
           {"http://h?q", "h", 80, "h", "?q"},
           {"http://h:81?q=/x", "h", 81, "h:81", "?q=/x"},
           {"http://h:/", "h", 80, "h:", "/"},
           {"http://h./x", "h", 80, "h.", "/x"},
           {"http://[::1]:8080/x", "::1", 8080, "[::1]:8080", "/x"},
           {"http://[::1]/", "::1", 80, "[::1]", "/"},
           {"http://h/p@x:1", "h", 80, "h", "/p@x:1"},
           {"http://h//", "h", 80, "h", "//"},
           // TLS to the upstream, airlock's: default port 443.
           {"https://api.example.com/v1?x=1", "api.example.com", 443, "api.example.com", "/v1?x=1"},
           {"HTTPS://H:8443", "h", 8443, "H:8443", "/"},
           {"wss://example.com/socket", "example.com", 443, "example.com", "/socket"},
           {"https://[::1]/", "::1", 443, "[::1]", "/"},
       }) {
    const auto t = parse_absolute_form(r.target);
    ASSERT_TRUE(t.has_value()) << r.target;
    EXPECT_EQ(t->auth.host, r.host) << r.target;
    EXPECT_EQ(t->auth.port, r.port) << r.target;
    EXPECT_EQ(t->authority_text, r.authority_text) << r.target;
    EXPECT_EQ(t->origin_form, r.origin_form) << r.target;
    EXPECT_EQ(t->tls, r.port == 443 || r.target.find("H:8443") != std::string_view::npos)
        << r.target;
  }
}

TEST(parse_absolute_form, views_point_into_the_target) {
  const std::string target = "http://h:81/p";
  const auto t = parse_absolute_form(target);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->authority_text.data(), target.data() + 7);
  EXPECT_EQ(t->origin_form.data(), target.data() + 11);
}

class parse_absolute_form_refuses : public testing::TestWithParam<std::string_view> {};

TEST_P(parse_absolute_form_refuses, target) {
  EXPECT_EQ(parse_absolute_form(GetParam()), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(
    all, parse_absolute_form_refuses,
    testing::Values(
        // Schemes and shapes.
        ""sv, "/"sv, "/path"sv, "*"sv, "example.com:80"sv, "//example.com/"sv, "http:"sv,
        "http:/"sv, "http://"sv, "http:/h/"sv, "http:h/"sv, "https://"sv, "https:/h/"sv, "wss://"sv,
        "ftp://example.com/"sv, "wss://user@example.com/"sv, "ws:/h/"sv,
        "https://user:pw@example.com/"sv, "https://example.com/#f"sv, "httpss://example.com/"sv,
        "ws://"sv, "httpx://example.com/"sv, " http://example.com/"sv, "wsx://example.com/"sv,
        "ws://user@example.com/"sv,
        // Authority.
        "http:///path"sv, "http://?q"sv, "http://#f"sv, "http://:80/"sv,
        "http://user@example.com/"sv, "http://user:pw@example.com/"sv, "http://@example.com/"sv,
        "http://a@b@example.com/"sv, "http://example.com@evil.com/"sv, "http://example.com:0/"sv,
        "http://example.com:65536/"sv, "http://example.com:+1/"sv, "http://example.com:-1/"sv,
        "http://example.com:8o/"sv, "http://example.com:80:80/"sv, "http://exa mple.com/"sv,
        "http://exa%6dple.com/"sv, "http://[::1/"sv, "http://[::1]x/"sv, "http://::1/"sv,
        "http://.example.com/"sv,
        // Fragments, anywhere.
        "http://example.com/#frag"sv, "http://example.com#frag"sv, "http://example.com/p?q#f"sv,
        "http://example.com/p#"sv));

// ---------------------------------------------------------------------------------------------
// authority

TEST(authority, to_string_brackets_ipv6_only) {
  EXPECT_EQ((authority{"example.com", 443, false}).to_string(), "example.com:443");
  EXPECT_EQ((authority{"::1", 80, true}).to_string(), "[::1]:80");
  EXPECT_EQ((authority{"10.0.0.1", 65535, false}).to_string(), "10.0.0.1:65535");
}

TEST(authority, equality_covers_every_field) {
  const authority a{"h", 1, false};
  EXPECT_EQ(a, (authority{"h", 1, false}));
  EXPECT_NE(a, (authority{"h", 2, false}));
  EXPECT_NE(a, (authority{"g", 1, false}));
  EXPECT_NE(a, (authority{"h", 1, true}));
}

TEST(authority, host_text_omits_the_default_port) {
  EXPECT_EQ((authority{"api.example.com", 443, false}.host_text(443)), "api.example.com");
  EXPECT_EQ((authority{"api.example.com", 8443, false}.host_text(443)), "api.example.com:8443");
  EXPECT_EQ((authority{"::1", 443, true}.host_text(443)), "[::1]");
  EXPECT_EQ((authority{"::1", 80, true}.host_text(443)), "[::1]:80");
  EXPECT_EQ((authority{"::1", 80, true}.to_string()), "[::1]:80");
}

TEST(authority, is_ip_tells_literals_from_names) {
  EXPECT_TRUE((authority{"127.0.0.1", 1, false}.is_ip()));
  EXPECT_TRUE((authority{"::1", 1, true}.is_ip()));
  EXPECT_FALSE((authority{"localhost", 1, false}.is_ip()));
  EXPECT_FALSE((authority{"127.0.0.1.nip.io", 1, false}.is_ip()));
  EXPECT_FALSE((authority{"1.2.3", 1, false}.is_ip()));
}

}  // namespace
}  // namespace airlock::proxy

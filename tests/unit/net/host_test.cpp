// The one canonical spelling of a host: every way an attacker can write a destination
// gives the text its normal spelling gives, and what is ambiguous is refused.

#include "net/host.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "net/hex.hpp"

namespace airlock::net {
namespace {

using namespace std::string_view_literals;

std::optional<std::string> some(const char* text) {
  return std::optional<std::string>(text);
}

// ---------------------------------------------------------------------------------------------
// Names

TEST(canonical_name, case_and_one_trailing_dot_do_not_make_another_name) {
  EXPECT_EQ(canonical_name("example.com"), some("example.com"));
  for (const char* spelled : {"EXAMPLE.com", "Example.COM.", "example.com.", "eXaMpLe.CoM"}) {
    EXPECT_EQ(canonical_name(spelled), some("example.com")) << spelled;
  }
  EXPECT_EQ(canonical_name("under_score-dash.x"), some("under_score-dash.x"));
  EXPECT_EQ(canonical_name("localhost"), some("localhost"));
}

TEST(canonical_name, empty_labels_and_foreign_bytes_are_refused) {
  for (const std::string_view bad :
       {""sv, "."sv, ".."sv, ".example.com"sv, "a..b"sv, "example.com.."sv, "exa mple.com"sv,
        "exa%6dple.com"sv, "ex\xc3\xa4mple.com"sv, "example.com\0.evil"sv, "*.example.com"sv,
        "example.com:443"sv, "user@example.com"sv, "[::1]"sv, "a/b"sv, "a\\b"sv}) {
    EXPECT_EQ(canonical_name(bad), std::nullopt) << bad;
  }
}

TEST(lowercase, only_ascii_letters_change) {
  EXPECT_EQ(lowercase("AbC-09_Z"), "abc-09_z");
  EXPECT_EQ(lowercase("\xc3\x84@[`{"), "\xc3\x84@[`{");
}

// ---------------------------------------------------------------------------------------------
// IPv4

TEST(canonical_ipv4, every_spelling_the_resolver_accepts) {
  struct c {
    const char* in;
    const char* out;
  };
  for (const auto& x : {c{"127.0.0.1", "127.0.0.1"},
                        c{"2130706433", "127.0.0.1"},
                        c{"0x7f000001", "127.0.0.1"},
                        c{"0X7F000001", "127.0.0.1"},
                        c{"0177.0.0.1", "127.0.0.1"},
                        c{"0x7f.0.0.1", "127.0.0.1"},
                        c{"127.1", "127.0.0.1"},
                        c{"127.0.1", "127.0.0.1"},
                        c{"0", "0.0.0.0"},
                        c{"169.254.43518", "169.254.169.254"},
                        c{"0xA9.0xFE.0xA9.0xFE", "169.254.169.254"},
                        c{"2852039166", "169.254.169.254"},
                        c{"0251.0376.0251.0376", "169.254.169.254"},
                        c{"1.2.3.04", "1.2.3.4"},
                        c{"255.255.255.255", "255.255.255.255"},
                        c{"0.0.0.0", "0.0.0.0"},
                        c{"1234", "0.0.4.210"},
                        c{"10.0.0.010", "10.0.0.8"},
                        c{"010.0.0.1", "8.0.0.1"},
                        c{"00000000177.0.0.1", "127.0.0.1"}}) {
    EXPECT_EQ(canonical_ipv4(x.in), some(x.out)) << x.in;
  }
  for (const std::string_view not_v4 :
       {""sv, "localhost"sv, "1.2.3.4.5"sv, "256.0.0.1"sv, "1.2.3.256"sv, "08.1.1.1"sv, "1..2"sv,
        "1.2.3."sv, "1.2.3.4."sv, "4294967296"sv, "0x"sv, "a.b.c.d"sv, "1.2.3.4x"sv, "1e3"sv,
        "127.0.0.1\0.evil"sv, "-1.0.0.1"sv, "+1.0.0.1"sv, "1.2.65536"sv, "::1"sv}) {
    EXPECT_EQ(canonical_ipv4(not_v4), std::nullopt) << not_v4;
  }
}

// ---------------------------------------------------------------------------------------------
// IPv6

TEST(canonical_ipv6, zero_compression_case_and_leading_zeros_give_one_text) {
  struct c {
    const char* in;
    const char* out;
  };
  for (const auto& x :
       {c{"::1", "::1"}, c{"0:0::1", "::1"}, c{"0:0:0:0:0:0:0:1", "::1"},
        c{"0000:0000:0000:0000:0000:0000:0000:0001", "::1"}, c{"::", "::"},
        c{"2001:DB8::A", "2001:db8::a"}, c{"2001:0db8:0:0:0:0:0:000a", "2001:db8::a"},
        c{"FD00:EC2:0::254", "fd00:ec2::254"}, c{"fd00:ec2::254", "fd00:ec2::254"},
        c{"fe80::1", "fe80::1"}}) {
    EXPECT_EQ(canonical_ipv6(x.in), some(x.out)) << x.in;
  }
}

TEST(canonical_ipv6, ipv4_mapped_spellings_are_the_ipv4_address) {
  for (const char* mapped :
       {"::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "::FFFF:A9FE:A9FE",
        "0:0:0:0:0:ffff:a9fe:a9fe", "0000:0000:0000:0000:0000:ffff:169.254.169.254",
        "::0:ffff:a9fe:a9fe", "0::ffff:169.254.169.254"}) {
    EXPECT_EQ(canonical_ipv6(mapped), some("169.254.169.254")) << mapped;
  }
  EXPECT_EQ(canonical_ipv6("::ffff:127.0.0.1"), some("127.0.0.1"));
  EXPECT_EQ(canonical_ipv6("::ffff:0.0.0.0"), some("0.0.0.0"));
  // The longest IPv6 text there is, 45 bytes.
  EXPECT_EQ(canonical_ipv6("0000:0000:0000:0000:0000:ffff:255.255.255.255"),
            some("255.255.255.255"));
}

TEST(canonical_ipv6, other_ipv4_carrying_forms_stay_ipv6) {
  // IPv4-compatible, SIIT, NAT64, 6to4: other destinations than the IPv4 address (the
  // private-address check judges them by what they carry when dialled).
  for (const char* other : {"::a9fe:a9fe", "::169.254.169.254", "::ffff:0:a9fe:a9fe",
                            "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::", "::1:ffff:a9fe:a9fe"}) {
    const auto v6 = canonical_ipv6(other);
    ASSERT_TRUE(v6) << other;
    EXPECT_NE(v6->find(':'), std::string::npos) << other << " -> " << *v6;
    EXPECT_EQ(canonical_ipv6(*v6), v6) << other;  // a fixed point
  }
  EXPECT_EQ(canonical_ipv6("::a9fe:a9fe"), canonical_ipv6("::169.254.169.254"));
}

TEST(canonical_ipv6, zone_ids_brackets_nuls_and_junk_are_refused) {
  for (const std::string_view bad :
       {""sv, "127.0.0.1"sv, "example.com"sv, "[::1]"sv, "fe80::1%eth0"sv, "fe80::1%25eth0"sv,
        "fe80::1%1"sv, "::1\0junk"sv, "::g"sv, ":::"sv, "1::2::3"sv, "1:2:3:4:5:6:7:8:9"sv,
        "::ffff:0251.0376.0251.0376"sv, "::ffff:169.254.43518"sv, " ::1"sv, "::1 "sv,
        "00000:0000:0000:0000:0000:ffff:255.255.255.255"sv, "::1/128"sv}) {
    EXPECT_EQ(canonical_ipv6(bad), std::nullopt) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// Authority hosts

TEST(canonical_host, every_spelling_of_the_metadata_address_is_one_host) {
  const host metadata{"169.254.169.254", host_kind::ipv4};
  EXPECT_EQ(canonical_host("169.254.169.254"), metadata);
  for (const char* spelled :
       {"169.254.169.254.", "2852039166", "0xa9fea9fe", "0XA9FEA9FE", "0251.0376.0251.0376",
        "169.254.43518", "0xA9.0xFE.0xA9.0xFE", "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]",
        "[::FFFF:A9FE:A9FE]", "[0:0:0:0:0:ffff:a9fe:a9fe]",
        "[0000:0000:0000:0000:0000:ffff:169.254.169.254]"}) {
    EXPECT_EQ(canonical_host(spelled), metadata) << spelled;
  }
}

TEST(canonical_host, loopback_spellings) {
  const host v4{"127.0.0.1", host_kind::ipv4};
  for (const char* spelled : {"127.0.0.1", "127.1", "0x7f.1", "2130706433", "0177.0.0.1",
                              "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"}) {
    EXPECT_EQ(canonical_host(spelled), v4) << spelled;
  }
  const host v6{"::1", host_kind::ipv6};
  for (const char* spelled : {"[::1]", "[0::1]", "[0:0:0:0:0:0:0:1]", "[0000::0001]"}) {
    EXPECT_EQ(canonical_host(spelled), v6) << spelled;
  }
}

TEST(canonical_host, names) {
  const host name{"api.example.com", host_kind::name};
  for (const char* spelled : {"api.example.com", "API.Example.COM", "api.example.com."}) {
    EXPECT_EQ(canonical_host(spelled), name) << spelled;
  }
}

TEST(canonical_host, refuses_what_is_ambiguous) {
  for (const std::string_view bad :
       {""sv, "[]"sv, "[::1"sv, "::1]"sv, "[::1]x"sv, "[[::1]]"sv, "::1"sv, "[127.0.0.1]"sv,
        "[example.com]"sv, "[fe80::1%25eth0]"sv, "[fe80::1%eth0]"sv, "[v1.x]"sv, "a..b"sv, ".a"sv,
        "a b"sv, "a\0b"sv, "[::1\0]"sv, "*.example.com"sv, "example.com:443"sv}) {
    EXPECT_EQ(canonical_host(bad), std::nullopt) << bad;
  }
}

TEST(canonical_host, its_output_is_a_fixed_point) {
  for (const char* in : {"Example.COM.", "0x7f.1", "[::FFFF:A9FE:A9FE]", "[2001:DB8::A]",
                         "[::a9fe:a9fe]", "[64:ff9b::10.0.0.1]"}) {
    const auto h = canonical_host(in);
    ASSERT_TRUE(h) << in;
    const std::string again = h->kind == host_kind::ipv6 ? "[" + h->text + "]" : h->text;
    EXPECT_EQ(canonical_host(again), h) << in;
  }
}

TEST(canonical_address, literals_in_any_spelling_names_not_at_all) {
  EXPECT_EQ(canonical_address("::ffff:10.0.0.1"), some("10.0.0.1"));
  EXPECT_EQ(canonical_address("0x0a.1"), some("10.0.0.1"));
  EXPECT_EQ(canonical_address("FD00:EC2:0::254"), some("fd00:ec2::254"));
  EXPECT_EQ(canonical_address("10.0.0.1"), some("10.0.0.1"));
  EXPECT_EQ(canonical_address("example.com"), std::nullopt);
  EXPECT_EQ(canonical_address("[::1]"), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Hex digits

TEST(hex_digit, every_byte) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    int expected = -1;
    if (b >= '0' && b <= '9') {
      expected = b - '0';
    } else if (b >= 'a' && b <= 'f') {
      expected = b - 'a' + 10;
    } else if (b >= 'A' && b <= 'F') {
      expected = b - 'A' + 10;
    }
    EXPECT_EQ(hex_digit(c), expected) << b;
  }
}

}  // namespace
}  // namespace airlock::net

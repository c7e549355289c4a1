// SSRF classes of IPv6 addresses that carry an IPv4 one: every embedding form judged by
// the address inside, spelled as an agent would write it in a request target.

#include "proxy/policy/private_address.hpp"

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "proxy/http/authority.hpp"

namespace airlock::proxy {
namespace {

struct embedded_case {
  const char* literal;  // as it stands inside the brackets of a request target
  const char* cls;      // nullptr: public
};

// The class of the address the dial would use for "[literal]:80": parsed as a CONNECT
// authority (canonical text), then read back as an address.
std::optional<std::string_view> class_of_target(const std::string& literal) {
  const auto auth = parse_authority_form("[" + literal + "]:80");
  if (!auth) {
    ADD_FAILURE() << literal << " does not parse";
    return std::nullopt;
  }
  return address_class(asio::ip::make_address(auth->host));
}

TEST(embedded_ipv4, every_form_is_judged_by_the_ipv4_address_inside) {
  for (const auto& c : {
           // IPv4-compatible ::/96 (deprecated, still parsed and dialled by everyone).
           embedded_case{"::169.254.169.254", "metadata"}, embedded_case{"::a9fe:a9fe", "metadata"},
           embedded_case{"::127.0.0.1", "loopback"}, embedded_case{"::7f00:1", "loopback"},
           embedded_case{"0:0:0:0:0:0:10.1.2.3", "private"},
           embedded_case{"::192.168.0.1", "private"}, embedded_case{"::100.64.0.1", "cgnat"},
           embedded_case{"::169.254.1.1", "link-local"},
           embedded_case{"::2", "unspecified"},  // 0.0.0.2, in 0.0.0.0/8
           embedded_case{"::", "unspecified"}, embedded_case{"::1", "loopback"},
           embedded_case{"::8.8.8.8", nullptr},
           // IPv4-mapped ::ffff:0:0/96.
           embedded_case{"::ffff:169.254.169.254", "metadata"},
           embedded_case{"::ffff:7f00:1", "loopback"}, embedded_case{"::ffff:1.1.1.1", nullptr},
           // IPv4-translated ::ffff:0:0:0/96 (SIIT).
           embedded_case{"::ffff:0:169.254.169.254", "metadata"},
           embedded_case{"::ffff:0:a9fe:a9fe", "metadata"},
           embedded_case{"::ffff:0:127.0.0.1", "loopback"},
           embedded_case{"::ffff:0:a00:1", "private"}, embedded_case{"::ffff:0:808:808", nullptr},
           // NAT64, well-known prefix and local-use 64:ff9b:1::/48.
           embedded_case{"64:ff9b::169.254.169.254", "metadata"},
           embedded_case{"64:ff9b::a00:1", "private"},
           embedded_case{"64:ff9b:1::a9fe:a9fe", "metadata"},
           embedded_case{"64:ff9b:1::127.0.0.1", "loopback"},
           embedded_case{"64:ff9b:1:ab:cd::c0a8:101", "private"},
           embedded_case{"64:ff9b:1::808:808", nullptr},
           // 6to4 2002::/16: the IPv4 address in bits 16-47.
           embedded_case{"2002:a9fe:a9fe::", "metadata"},
           embedded_case{"2002:a9fe:a9fe:1::1", "metadata"},
           embedded_case{"2002:7f00:1::1", "loopback"}, embedded_case{"2002:a00:1::", "private"},
           embedded_case{"2002:c0a8:101:0:ffff:ffff:ffff:ffff", "private"},
           embedded_case{"2002:808:808::1", nullptr},
           // Teredo 2001::/32: server in bits 32-63, client inverted in the last 32 bits.
           embedded_case{"2001:0:a9fe:a9fe::", "metadata"},                    // server metadata
           embedded_case{"2001:0:808:808:0:0:80ff:fffe", "loopback"},          // client 127.0.0.1
           embedded_case{"2001:0:808:808:8000:ffff:f5ff:fffe", "private"},     // client 10.0.0.1
           embedded_case{"2001:0:808:808:0:0:5601:5601", "metadata"},          // client metadata
           embedded_case{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"},  // 192.0.2.45
           embedded_case{"2001:0:808:808:0:0:f7f7:f7f7", nullptr},             // client 8.8.8.8
       }) {
    const auto got = class_of_target(c.literal);
    if (c.cls == nullptr) {
      EXPECT_FALSE(got) << c.literal << " is " << *got;
    } else {
      EXPECT_EQ(got, std::optional<std::string_view>(c.cls)) << c.literal;
    }
  }
}

TEST(embedded_ipv4, lookalike_prefixes_are_not_embeddings) {
  // Neighbours of the embedding prefixes carry no IPv4 address: public, not judged by
  // their last 32 bits.
  for (const char* pub : {"2001:db8::7f00:1", "2001:1::a9fe:a9fe", "2003:7f00:1::1",
                          "64:ff9b:2::7f00:1", "1::7f00:1", "::1:0:0:7f00:1"}) {
    EXPECT_FALSE(address_class(asio::ip::make_address(pub))) << pub;
  }
}

TEST(embedded_ipv4, ipv4_ranges_open_only_the_forms_that_reach_that_host) {
  const auto cfg = config::load_string(
      "egress:\n  allow_private: [127.0.0.0/8, 10.0.0.0/8, \"2002:a00::/24\"]\n", "p.yaml");
  const auto blocked = [&](const char* a) {
    return blocked_class(asio::ip::make_address(a), cfg.egress.allow_private);
  };
  // Mapped, translated and NAT64 forms are the IPv4 address on the wire.
  for (const char* open : {"::ffff:127.0.0.1", "::ffff:0:127.0.0.1", "64:ff9b::7f00:1",
                           "64:ff9b:1::7f00:1", "::ffff:10.1.1.1", "2002:a00:1::1"}) {
    EXPECT_FALSE(blocked(open)) << open;
  }
  // The tunnelling forms go elsewhere than the host the IPv4 range names.
  for (const char* closed : {"::127.0.0.1", "::10.0.0.1",
                             "2002:7f00:1::", "2001:0:7f00:1::", "2001:0:808:808::f5ff:fffe"}) {
    EXPECT_TRUE(blocked(closed)) << closed;
  }
}

TEST(embedded_ipv4, dialled_address_unwraps_only_the_mapped_form) {
  EXPECT_EQ(dialled_address(asio::ip::make_address("::ffff:127.0.0.1")),
            asio::ip::make_address("127.0.0.1"));
  for (const char* same : {"::127.0.0.1", "64:ff9b::7f00:1", "127.0.0.1", "::1"}) {
    EXPECT_EQ(dialled_address(asio::ip::make_address(same)), asio::ip::make_address(same)) << same;
  }
}

}  // namespace
}  // namespace airlock::proxy

#include "proxy/private_address.hpp"

#include <array>
#include <cstdint>

namespace airlock::proxy {

namespace {

using v4_bytes = std::array<unsigned char, 4>;

bool in_v4(const v4_bytes& b, std::uint32_t net, unsigned prefix) {
  const std::uint32_t v =
      (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (v & mask) == (net & mask);
}

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

std::optional<std::string_view> v4_class(const v4_bytes& b) {
  if (in_v4(b, ip(169, 254, 169, 254), 32)) {
    return "metadata";
  }
  struct range {
    std::uint32_t net;
    unsigned prefix;
    std::string_view name;
  };
  static constexpr std::array<range, 13> ranges = {{
      {ip(0, 0, 0, 0), 8, "unspecified"},
      {ip(10, 0, 0, 0), 8, "private"},
      {ip(100, 64, 0, 0), 10, "cgnat"},
      {ip(127, 0, 0, 0), 8, "loopback"},
      {ip(169, 254, 0, 0), 16, "link-local"},
      {ip(172, 16, 0, 0), 12, "private"},
      {ip(192, 0, 0, 0), 24, "reserved"},
      {ip(192, 168, 0, 0), 16, "private"},
      {ip(198, 18, 0, 0), 15, "reserved"},
      {ip(224, 0, 0, 0), 4, "multicast"},
      {ip(240, 0, 0, 0), 4, "reserved"},
      {ip(192, 0, 2, 0), 24, "reserved"},
      {ip(255, 255, 255, 255), 32, "reserved"},
  }};
  for (const auto& r : ranges) {
    if (in_v4(b, r.net, r.prefix)) {
      return r.name;
    }
  }
  return std::nullopt;
}

// The IPv4 address an IPv6 one stands for, if any (mapped, or NAT64 well-known prefix).
std::optional<v4_bytes> embedded_v4(const asio::ip::address_v6& a) {
  const auto b = a.to_bytes();
  if (a.is_v4_mapped()) {
    return v4_bytes{b[12], b[13], b[14], b[15]};
  }
  static constexpr std::array<unsigned char, 12> nat64 = {0x00, 0x64, 0xff, 0x9b, 0, 0,
                                                          0,    0,    0,    0,    0, 0};
  if (std::equal(nat64.begin(), nat64.end(), b.begin())) {
    return v4_bytes{b[12], b[13], b[14], b[15]};
  }
  return std::nullopt;
}

std::optional<std::string_view> v6_class(const asio::ip::address_v6& a) {
  const auto b = a.to_bytes();
  if (a.is_unspecified()) {
    return "unspecified";
  }
  if (a.is_loopback()) {
    return "loopback";
  }
  // fd00:ec2::254, the EC2 metadata service over IPv6.
  static constexpr std::array<unsigned char, 16> ec2 = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,    0,
                                                        0,    0,    0,    0,    0, 0, 0x02, 0x54};
  if (b == ec2) {
    return "metadata";
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
    return "link-local";
  }
  if ((b[0] & 0xfe) == 0xfc) {
    return "unique-local";
  }
  if (b[0] == 0xff) {
    return "multicast";
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) {
    return "reserved";  // site-local, deprecated
  }
  return std::nullopt;
}

bool covered(const asio::ip::address& a, const config::cidr& c) {
  std::array<unsigned char, 16> bytes{};
  unsigned bits = 0;
  if (a.is_v4()) {
    if (c.v6) {
      return false;
    }
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
    bits = 32;
  } else {
    if (!c.v6) {
      return false;
    }
    const auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
    bits = 128;
  }
  const unsigned prefix = std::min(c.prefix, bits);
  for (unsigned i = 0; i < prefix; ++i) {
    const unsigned byte = i / 8;
    const unsigned mask = 0x80u >> (i % 8);
    if ((bytes[byte] & mask) != (c.bytes[byte] & mask)) {
      return false;
    }
  }
  return true;
}

// An IPv4-mapped or NAT64 address as the IPv4 address it carries.
asio::ip::address unwrap(const asio::ip::address& a) {
  if (a.is_v6()) {
    if (auto v4 = embedded_v4(a.to_v6())) {
      return asio::ip::address_v4(*v4);
    }
  }
  return a;
}

}  // namespace

std::optional<std::string_view> address_class(const asio::ip::address& a_in) {
  const asio::ip::address a = unwrap(a_in);
  if (a.is_v4()) {
    return v4_class(a.to_v4().to_bytes());
  }
  return v6_class(a.to_v6());
}

std::optional<std::string_view> blocked_class(const asio::ip::address& a_in,
                                              const std::vector<config::cidr>& allowed) {
  const asio::ip::address a = unwrap(a_in);
  const auto cls = address_class(a);
  if (!cls) {
    return std::nullopt;
  }
  for (const auto& c : allowed) {
    if (covered(a, c)) {
      return std::nullopt;
    }
  }
  return cls;
}

}  // namespace airlock::proxy

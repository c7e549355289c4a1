#include "proxy/policy/private_address.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>

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

// The IPv4 addresses an IPv6 one carries. Where the IPv6 address is only a way of
// writing the IPv4 one (mapped, SIIT-translated, NAT64), `translated` is set: the bytes
// reach that IPv4 host, so allow_private's IPv4 ranges speak for it. The tunnelling
// forms (IPv4-compatible, 6to4, Teredo) are judged by what they carry, but only an IPv6
// range opens them: they do not reach the IPv4 host the operator allowed.
struct embedded {
  std::array<v4_bytes, 2> v4{};
  std::size_t count = 0;
  bool translated = false;
};

bool starts_with(const std::array<unsigned char, 16>& b, std::initializer_list<unsigned char> p) {
  return std::equal(p.begin(), p.end(), b.begin());
}

embedded embedded_v4(const asio::ip::address_v6& a) {
  const auto b = a.to_bytes();
  const v4_bytes last{b[12], b[13], b[14], b[15]};
  embedded e;
  if (starts_with(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) ||     // ::ffff:0:0/96
      starts_with(b, {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}) ||     // ::ffff:0:0:0/96
      starts_with(b, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}) ||  // 64:ff9b::/96
      starts_with(b, {0, 0x64, 0xff, 0x9b, 0, 1})) {                    // 64:ff9b:1::/48
    e.v4[e.count++] = last;
    e.translated = true;
  } else if (starts_with(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})) {
    // IPv4-compatible ::/96; "::" and "::1" are themselves unspecified and loopback.
    if (!a.is_unspecified() && !a.is_loopback()) {
      e.v4[e.count++] = last;
    }
  } else if (starts_with(b, {0x20, 0x02})) {  // 6to4 2002::/16: the IPv4 in bits 16-47
    e.v4[e.count++] = v4_bytes{b[2], b[3], b[4], b[5]};
  } else if (starts_with(b, {0x20, 0x01, 0, 0})) {
    // Teredo 2001::/32: the server in bits 32-63, the client inverted in the last 32.
    e.v4[e.count++] = v4_bytes{b[4], b[5], b[6], b[7]};
    e.v4[e.count++] =
        v4_bytes{static_cast<unsigned char>(~b[12]), static_cast<unsigned char>(~b[13]),
                 static_cast<unsigned char>(~b[14]), static_cast<unsigned char>(~b[15])};
  }
  return e;
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

}  // namespace

std::optional<std::string_view> address_class(const asio::ip::address& a) {
  if (a.is_v4()) {
    return v4_class(a.to_v4().to_bytes());
  }
  const embedded e = embedded_v4(a.to_v6());
  for (std::size_t i = 0; i < e.count; ++i) {
    if (auto cls = v4_class(e.v4[i])) {
      return cls;
    }
  }
  return v6_class(a.to_v6());
}

std::optional<std::string_view> blocked_class(const asio::ip::address& a,
                                              const std::vector<config::cidr>& allowed) {
  const auto cls = address_class(a);
  if (!cls) {
    return std::nullopt;
  }
  const embedded e = a.is_v6() ? embedded_v4(a.to_v6()) : embedded{};
  const auto opens = [&](const config::cidr& c) {
    return covered(a, c) ||
           (e.translated && covered(asio::ip::address(asio::ip::address_v4(e.v4[0])), c));
  };
  if (std::any_of(allowed.begin(), allowed.end(), opens)) {
    return std::nullopt;
  }
  return cls;
}

asio::ip::address dialled_address(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

}  // namespace airlock::proxy

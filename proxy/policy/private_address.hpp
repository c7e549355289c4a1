#pragma once
// SSRF protection: which resolved addresses an agent's request may not reach. Checked
// on the addresses the resolver returned, and airlock connects only to those it checked,
// so a name that resolves (or rebinds) to 169.254.169.254 cannot slip through.

#include <optional>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "proxy/io/asio.hpp"

namespace airlock::proxy {

// The class that makes an address off limits ("loopback", "private", "link-local",
// "metadata", "cgnat", "unique-local", "multicast", "unspecified", "reserved"), or nullopt
// for a public one. Every IPv6 form that carries an IPv4 address is judged by it too:
// IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, IPv4-compatible ::/96,
// NAT64 64:ff9b::/96 and local-use 64:ff9b:1::/48 (the IPv4 in the last 32 bits), 6to4
// 2002::/16 and Teredo 2001::/32 (server and client both).
std::optional<std::string_view> address_class(const asio::ip::address& a);

// As address_class, but nullopt also when a range in allowed covers the address. An
// IPv4 range covers the mapped, translated and NAT64 forms of its addresses (they reach
// that host); the tunnelling forms (IPv4-compatible, 6to4, Teredo) only an IPv6 range.
std::optional<std::string_view> blocked_class(const asio::ip::address& a,
                                              const std::vector<config::cidr>& allowed);

// The address a connect(2) to a reaches: an IPv4-mapped address is its IPv4 one.
asio::ip::address dialled_address(const asio::ip::address& a);

}  // namespace airlock::proxy

#pragma once
// SSRF protection: which resolved addresses an agent's request may not reach. Checked
// on the addresses the resolver returned, and airlock connects only to those it checked,
// so a name that resolves (or rebinds) to 169.254.169.254 cannot slip through.

#include <optional>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "proxy/asio.hpp"

namespace airlock::proxy {

// The class that makes an address off limits ("loopback", "private", "link-local",
// "metadata", "cgnat", "unique-local", "multicast", "unspecified", "reserved"), or nullopt
// for a public one. IPv4-mapped and NAT64 (64:ff9b::/96) IPv6 addresses are judged by
// the IPv4 address inside.
std::optional<std::string_view> address_class(const asio::ip::address& a);

// As address_class, but nullopt also when a range in allowed covers the address.
std::optional<std::string_view> blocked_class(const asio::ip::address& a,
                                              const std::vector<config::cidr>& allowed);

}  // namespace airlock::proxy

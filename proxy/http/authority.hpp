#pragma once
// Parsing of request targets into the authority the bytes go to. Pure functions.
// Hosts come back in net/host.hpp's canonical form (lowercased, without brackets and one
// trailing dot, IPv4 as a dotted quad, IPv4-mapped IPv6 as that IPv4 address), so two
// spellings of one destination compare equal; anything ambiguous is refused, not guessed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace airlock::proxy {

struct authority {
  std::string host;  // canonical (net::canonical_host); IPv6 without brackets
  std::uint16_t port = 0;
  bool ipv6 = false;

  // "host:port" with brackets for IPv6: the pool key and what logs show.
  std::string to_string() const;
  // What a Host field says for it: "host", or "host:port" when port is not default_port.
  std::string host_text(std::uint16_t default_port) const;
  // An IPv4 or IPv6 literal rather than a name (no SNI, verified as an IP address).
  bool is_ip() const;
  bool operator==(const authority&) const = default;
};

// CONNECT target: "host:port" or "[v6]:port"; the port is required.
std::optional<authority> parse_authority_form(std::string_view target);

// A Host header value: "host[:port]"; default_port fills a missing port.
std::optional<authority> parse_host_header(std::string_view value, std::uint16_t default_port);

struct absolute_target {
  authority auth;
  std::string_view authority_text;  // as written, for the upstream Host header
  // "/path?query"; "/" when the URI had no path; starts with '?' for "http://h?q",
  // where writers put the missing "/" in front.
  std::string_view origin_form;
  bool tls = false;  // https:// or wss://: airlock opens the TLS to the upstream
};

// Absolute-form target of a forward request: http://, https:// and their WebSocket
// spellings ws:// and wss:// (default ports 80 and 443); refuses userinfo
// ("http://user@host"), fragments and malformed hosts or ports.
std::optional<absolute_target> parse_absolute_form(std::string_view target);

// Whether target begins with scheme (lowercase, "https://"), in any case.
bool starts_with_scheme(std::string_view target, std::string_view scheme);

}  // namespace airlock::proxy

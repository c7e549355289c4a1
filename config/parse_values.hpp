#pragma once
// Parsers for the scalar forms the config uses. Pure functions: they return
// std::nullopt (durations, sizes) or an error string (endpoints) and never throw.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "config/model.hpp"

namespace airlock::config {

// "250ms", "10s", "5m", "1h"; a unit is required. Fails on overflow or junk.
std::optional<duration> parse_duration(std::string_view text);

// "65536", "64KiB", "1MiB". Fails on overflow or junk.
std::optional<std::uint64_t> parse_size(std::string_view text);

// "127.0.0.1:3128", "[::1]:3128", "localhost:8080". A port is required;
// allow_zero_port admits port 0 (bind to any free port).
std::variant<endpoint, std::string> parse_endpoint(std::string_view text, bool allow_zero_port);

// 127.0.0.0/8, ::1 or "localhost": only processes on this host (or pod) can connect.
bool is_loopback(std::string_view host);

// "api.example.com", "*.example.com", "example.com:8443", "10.0.0.1", "[::1]:443"; hosts
// in net::canonical_host's spelling, so a pattern and a request authority compare equal.
std::variant<host_pattern, std::string> parse_host_pattern(std::string_view text);

// "10.0.0.0/8", "fd00::/8", "169.254.169.254" (a single address).
std::variant<cidr, std::string> parse_cidr(std::string_view text);

// A route's upstream, "https://host[:port][/base]" or "http://...": scheme, host (a
// name or bracketed IPv6), port (default 443 or 80) and base path go into the route's
// fields; its prefix is untouched. Userinfo, query, fragment, dot-segments and
// percent-escapes are refused: the base is spliced in front of client paths.
std::optional<std::string> parse_upstream_url(std::string_view text, route& out);

// A route prefix: "/seg[/seg...]" of unreserved characters, no "." or ".." segment; one
// trailing "/" is dropped. Returns the prefix, or an error.
std::variant<std::string, std::string> parse_route_prefix(std::string_view text);

}  // namespace airlock::config

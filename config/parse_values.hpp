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

}  // namespace airlock::config

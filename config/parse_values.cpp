#include "config/parse_values.hpp"

#include <charconv>
#include <limits>

namespace airlock::config {

std::string endpoint::to_string() const {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

namespace {

// Splits "123unit" into the leading decimal number and the rest.
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data()) {
    return std::nullopt;
  }
  return std::pair{value, text.substr(static_cast<std::size_t>(end - text.data()))};
}

std::optional<std::uint64_t> scaled(std::uint64_t value, std::uint64_t factor) {
  if (value > std::numeric_limits<std::uint64_t>::max() / factor) {
    return std::nullopt;
  }
  return value * factor;
}

}  // namespace

std::optional<duration> parse_duration(std::string_view text) {
  auto parts = split_number(text);
  if (!parts) {
    return std::nullopt;
  }
  auto [value, unit] = *parts;
  std::uint64_t factor = 0;
  if (unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1000;
  } else if (unit == "m") {
    factor = 60'000;
  } else if (unit == "h") {
    factor = 3'600'000;
  } else {
    return std::nullopt;
  }
  auto ms = scaled(value, factor);
  if (!ms || *ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 1000)) {
    return std::nullopt;
  }
  return duration(static_cast<std::int64_t>(*ms));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  auto parts = split_number(text);
  if (!parts) {
    return std::nullopt;
  }
  auto [value, unit] = *parts;
  if (unit.empty() || unit == "B") {
    return value;
  }
  if (unit == "KiB") {
    return scaled(value, 1024);
  }
  if (unit == "MiB") {
    return scaled(value, 1024 * 1024);
  }
  if (unit == "GiB") {
    return scaled(value, 1024ULL * 1024 * 1024);
  }
  return std::nullopt;
}

std::variant<endpoint, std::string> parse_endpoint(std::string_view text, bool allow_zero_port) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::string("expected \"[ipv6]:port\"");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return std::string("expected \"host:port\"");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return std::string("IPv6 addresses need brackets: \"[::1]:port\"");
    }
  }
  if (host.empty()) {
    return std::string("missing host before the port");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      (port == 0 && !allow_zero_port)) {
    return std::string("port must be a number from ") + (allow_zero_port ? "0" : "1") + " to 65535";
  }
  return endpoint{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace airlock::config

// Hosts and addresses in the config: IPv4 and IPv6 canonical spellings, host patterns,
// CIDR ranges. Split from parse_values.cpp, which keeps durations, sizes, endpoints and
// the route values.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include "config/parse_text.hpp"
#include "config/parse_values.hpp"

namespace airlock::config {

namespace {

// "a.b.c.d", each part 0-255 in decimal without a leading zero: already the canonical
// spelling, so it is returned as it is (the common case, checked per request).
bool is_plain_dotted_quad(std::string_view host) {
  int parts = 0;
  std::size_t i = 0;
  while (i < host.size()) {
    const std::size_t start = i;
    unsigned v = 0;
    while (i < host.size() && host[i] >= '0' && host[i] <= '9' && i - start < 3) {
      v = v * 10 + static_cast<unsigned>(host[i] - '0');
      ++i;
    }
    const std::size_t len = i - start;
    if (len == 0 || v > 255 || (len > 1 && host[start] == '0')) {
      return false;
    }
    ++parts;
    if (i == host.size()) {
      break;
    }
    if (host[i] != '.' || parts == 4) {
      return false;
    }
    ++i;
  }
  return parts == 4 && host.back() != '.';
}

}  // namespace

std::optional<std::string> canonical_ipv4(std::string_view host) {
  // Every inet_aton spelling (decimal, octal 0..., hex 0x...) starts with a digit: a name
  // is answered without parsing.
  if (host.empty() || host.size() > 64 || host[0] < '0' || host[0] > '9') {
    return std::nullopt;
  }
  if (is_plain_dotted_quad(host)) {
    return std::string(host);
  }
  // Up to four parts, each decimal, octal (leading 0) or hex (0x); the last part fills
  // the remaining bytes, as inet_aton does.
  std::array<std::uint64_t, 4> parts{};
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos <= host.size()) {
    if (count == 4) {
      return std::nullopt;
    }
    auto end = host.find('.', pos);
    if (end == std::string_view::npos) {
      end = host.size();
    }
    std::string_view part = host.substr(pos, end - pos);
    if (part.empty()) {
      return std::nullopt;
    }
    int base = 10;
    if (part.size() > 1 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
      base = 16;
      part.remove_prefix(2);
      if (part.empty()) {
        return std::nullopt;  // "0x" alone: inet_aton refuses it too
      }
    } else if (part.size() > 1 && part[0] == '0') {
      base = 8;
      part.remove_prefix(1);
    }
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v, base);
    if (ec != std::errc{} || p != part.data() + part.size() || v > 0xffffffffULL) {
      return std::nullopt;
    }
    parts[count++] = v;
    pos = end + 1;
  }
  std::uint64_t value = 0;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    if (parts[i] > 255) {
      return std::nullopt;
    }
    value |= parts[i] << (8 * (3 - i));
  }
  const std::uint64_t last_max = 0xffffffffULL >> (8 * (count - 1));
  if (parts[count - 1] > last_max) {
    return std::nullopt;
  }
  value |= parts[count - 1];
  return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 255) + "." +
         std::to_string((value >> 8) & 255) + "." + std::to_string(value & 255);
}

std::optional<std::string> canonical_ipv6(std::string_view host) {
  // inet_pton reads a C string: "::1\0junk" must not pass as "::1". No colon, no IPv6:
  // names and IPv4 are answered without a copy.
  if (host.find(':') == std::string_view::npos || host.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  in6_addr addr{};
  const std::string text(host);
  if (inet_pton(AF_INET6, text.c_str(), &addr) != 1) {
    return std::nullopt;
  }
  if (IN6_IS_ADDR_V4MAPPED(&addr)) {
    return std::to_string(addr.s6_addr[12]) + "." + std::to_string(addr.s6_addr[13]) + "." +
           std::to_string(addr.s6_addr[14]) + "." + std::to_string(addr.s6_addr[15]);
  }
  char out[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &addr, out, sizeof(out));
  return std::string(out);
}

std::variant<host_pattern, std::string> parse_host_pattern(std::string_view text) {
  using result = std::variant<host_pattern, std::string>;
  host_pattern out;
  out.text = std::string(text);
  std::string_view host = text;
  std::string_view port_text;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) {
      return result(std::in_place_index<1>, "unclosed \"[\"");
    }
    port_text = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port_text.empty() && port_text.front() != ':') {
      return result(std::in_place_index<1>, "junk after \"]\"");
    }
    if (!port_text.empty()) {
      port_text.remove_prefix(1);
    }
    if (!canonical_ipv6(host)) {
      return result(std::in_place_index<1>, quoted(host, " is not an IPv6 address"));
    }
  } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    if (host.find(':', colon + 1) != std::string_view::npos) {
      return result(std::in_place_index<1>, "IPv6 addresses need brackets: \"[::1]:443\"");
    }
    port_text = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (!port_text.empty() || (!text.empty() && text.back() == ':')) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return result(std::in_place_index<1>, "port must be a number from 1 to 65535");
    }
    out.port = static_cast<std::uint16_t>(port);
  }
  out.host = std::string(host);
  std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!out.host.empty() && out.host.back() == '.') {
    out.host.pop_back();
  }
  if (auto v6 = canonical_ipv6(out.host)) {
    out.host = *v6;
    return out;
  }
  if (auto v4 = canonical_ipv4(out.host)) {
    out.host = *v4;
    return out;
  }
  std::string_view name = out.host;
  if (name.substr(0, 2) == "*.") {
    name.remove_prefix(2);
  }
  if (!is_host_name(name)) {
    return result(std::in_place_index<1>,
                  "expected a host name, an IP address or \"*.domain\", optionally with :port");
  }
  return out;
}

std::variant<cidr, std::string> parse_cidr(std::string_view text) {
  using result = std::variant<cidr, std::string>;
  cidr out;
  out.text = std::string(text);
  const auto slash = text.find('/');
  const std::string address(text.substr(0, slash));
  if (inet_pton(AF_INET, address.c_str(), out.bytes.data()) == 1) {
    out.v6 = false;
    out.prefix = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), out.bytes.data()) == 1) {
    out.v6 = true;
    out.prefix = 128;
  } else {
    return result(std::in_place_index<1>, "expected an address or address/prefix");
  }
  if (slash != std::string_view::npos) {
    const std::string_view bits = text.substr(slash + 1);
    unsigned prefix = 0;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (ec != std::errc{} || end != bits.data() + bits.size() || bits.empty() ||
        prefix > out.prefix) {
      return result(std::in_place_index<1>,
                    "prefix length must be 0 to " + std::to_string(out.prefix));
    }
    out.prefix = prefix;
  }
  return out;
}

}  // namespace airlock::config

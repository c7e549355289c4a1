#include "net/host.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <cstdint>

namespace airlock::net {

namespace {

// "a.b.c.d", each part 0-255 in decimal without a leading zero: already the canonical
// spelling, so it is returned as it is (the common case, checked per request).
bool is_plain_dotted_quad(std::string_view text) {
  int parts = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    unsigned v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3) {
      v = v * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    const std::size_t len = i - start;
    if (len == 0 || v > 255 || (len > 1 && text[start] == '0')) {
      return false;
    }
    ++parts;
    if (i == text.size()) {
      break;
    }
    if (text[i] != '.' || parts == 4) {
      return false;
    }
    ++i;
  }
  return parts == 4 && text.back() != '.';
}

std::string dotted_quad(std::uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." +
         std::to_string((v >> 8) & 255) + "." + std::to_string(v & 255);
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c | 0x20);
    }
  }
  return out;
}

std::optional<std::string> canonical_ipv4(std::string_view text) {
  // Every inet_aton spelling (decimal, octal 0..., hex 0x...) starts with a digit: a name
  // is answered without parsing.
  if (text.empty() || text.size() > 64 || text[0] < '0' || text[0] > '9') {
    return std::nullopt;
  }
  if (is_plain_dotted_quad(text)) {
    return std::string(text);
  }
  // Up to four parts, each decimal, octal (leading 0) or hex (0x); the last part fills
  // the remaining bytes, as inet_aton does.
  std::array<std::uint64_t, 4> parts{};
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    if (count == 4) {
      return std::nullopt;
    }
    auto end = text.find('.', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view part = text.substr(pos, end - pos);
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
  return dotted_quad(static_cast<std::uint32_t>(value));
}

std::optional<std::string> canonical_ipv6(std::string_view text) {
  // inet_pton reads a C string: "::1\0junk" must not pass as "::1". No colon, no IPv6:
  // names and IPv4 are answered without parsing. The longest IPv6 text is 45 bytes.
  if (text.size() >= INET6_ADDRSTRLEN || text.find(':') == std::string_view::npos ||
      text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  char input[INET6_ADDRSTRLEN] = {};
  text.copy(input, text.size());
  in6_addr addr{};
  if (inet_pton(AF_INET6, input, &addr) != 1) {
    return std::nullopt;
  }
  if (IN6_IS_ADDR_V4MAPPED(&addr)) {
    const unsigned char* b = addr.s6_addr;
    return dotted_quad((std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
                       (std::uint32_t{b[14]} << 8) | b[15]);
  }
  char out[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, &addr, out, sizeof(out)) == nullptr) {
    return std::nullopt;
  }
  return std::string(out);
}

std::optional<std::string> canonical_name(std::string_view text) {
  if (!text.empty() && text.back() == '.') {
    text.remove_suffix(1);
  }
  // Empty labels ("a..b", "host..") resolve like their dotless spelling; refusing them
  // keeps one spelling per name.
  if (text.empty() || text.front() == '.' || text.back() == '.' ||
      text.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  for (char c : text) {
    if (!is_name_char(c)) {
      return std::nullopt;
    }
  }
  return lowercase(text);
}

std::optional<host> canonical_host(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    if (text.size() < 3 || text.back() != ']') {
      return std::nullopt;
    }
    auto v6 = canonical_ipv6(text.substr(1, text.size() - 2));
    if (!v6) {
      return std::nullopt;
    }
    const bool mapped = v6->find(':') == std::string::npos;
    return host{std::move(*v6), mapped ? host_kind::ipv4 : host_kind::ipv6};
  }
  auto name = canonical_name(text);
  if (!name) {
    return std::nullopt;
  }
  // "2130706433", "0x7f.1" and "127.1" are 127.0.0.1 to the resolver.
  if (auto v4 = canonical_ipv4(*name)) {
    return host{std::move(*v4), host_kind::ipv4};
  }
  return host{std::move(*name), host_kind::name};
}

std::optional<std::string> canonical_address(std::string_view text) {
  if (auto v6 = canonical_ipv6(text)) {
    return v6;
  }
  return canonical_ipv4(text);
}

}  // namespace airlock::net

#include "config/parse_values.hpp"

#include "config/parse_text.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
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

namespace airlock::config {

namespace {

bool is_unreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

// "/a/b" of unreserved segments, none empty, "." or "..".
bool is_clean_path(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return false;
  }
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    const std::string_view seg = path.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == ".." ||
        !std::all_of(seg.begin(), seg.end(), is_unreserved)) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace

bool is_host_name(std::string_view name) {
  return !name.empty() && name.size() <= 253 && name.front() != '.' && name.front() != '-' &&
         name.find("..") == std::string_view::npos &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' ||
                  c == '_';
         });
}

// "\"text\" tail", built by appends: GCC 12 warns falsely (-Wrestrict) on "lit" + string.
std::string quoted(std::string_view text, std::string_view tail) {
  std::string out;
  out.reserve(text.size() + tail.size() + 2);
  out += '"';
  out += text;
  out += '"';
  out += tail;
  return out;
}

bool is_loopback(std::string_view host) {
  const std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return h == "localhost";
}

std::optional<std::string> parse_upstream_url(std::string_view text, route& out) {
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return "expected \"https://host[:port][/path]\"";
  }
  std::string scheme(text.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "https" && scheme != "http") {
    return std::string("the scheme must be https or http");
  }
  out.tls = scheme == "https";
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return std::string("an upstream has no query or fragment");
  }
  const auto slash = rest.find('/');
  std::string_view auth = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (auth.find('@') != std::string_view::npos) {
    return std::string("user names and passwords do not belong in an upstream URL");
  }
  std::string_view host = auth;
  std::string_view port_text;
  out.ipv6 = false;
  if (!auth.empty() && auth.front() == '[') {
    const auto close = auth.find(']');
    if (close == std::string_view::npos) {
      return std::string("unclosed \"[\" in the host");
    }
    host = auth.substr(1, close - 1);
    const std::string_view after = auth.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      return std::string("junk after the IPv6 address");
    }
    port_text = after.empty() ? after : after.substr(1);
    in6_addr addr{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &addr) != 1) {
      return quoted(host, " is not an IPv6 address");
    }
    out.ipv6 = true;
  } else if (const auto colon = auth.find(':'); colon != std::string_view::npos) {
    host = auth.substr(0, colon);
    port_text = auth.substr(colon + 1);
  }
  out.host = std::string(host);
  std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!out.ipv6 && !out.host.empty() && out.host.back() == '.') {
    out.host.pop_back();
  }
  if (!out.ipv6 && !is_host_name(out.host)) {
    return quoted(host, " is not a host name or address");
  }
  out.port = out.tls ? 443 : 80;
  if (!port_text.empty() || auth.back() == ':') {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return std::string("port must be a number from 1 to 65535");
    }
    out.port = static_cast<std::uint16_t>(port);
  }
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  if (!path.empty() && !is_clean_path(path)) {
    std::string err = "the path ";
    err += quoted(path, " must be plain segments (letters, digits, - . _ ~), without . or ..");
    return err;
  }
  out.base_path = std::string(path);
  return std::nullopt;
}

std::variant<std::string, std::string> parse_route_prefix(std::string_view text) {
  if (!text.empty() && text.back() == '/' && text.size() > 1) {
    text.remove_suffix(1);
  }
  if (text == "/") {
    return std::variant<std::string, std::string>(
        std::in_place_index<1>, "a prefix names at least one path segment, like \"/anthropic\"");
  }
  if (!is_clean_path(text)) {
    return std::variant<std::string, std::string>(
        std::in_place_index<1>,
        "expected \"/name\" of plain segments (letters, digits, - . _ ~), without . or ..");
  }
  return std::variant<std::string, std::string>(std::in_place_index<0>, std::string(text));
}

}  // namespace airlock::config

// Hosts and addresses in the config: host patterns (in net/host.hpp's canonical spelling,
// the one requests are compared in) and CIDR ranges. Split from parse_values.cpp, which
// keeps durations, sizes, endpoints and the route values.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include "config/parse_text.hpp"
#include "config/parse_values.hpp"
#include "net/host.hpp"

namespace airlock::config {

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
    if (!net::canonical_ipv6(host)) {
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
  if (auto v6 = net::canonical_ipv6(out.host)) {
    out.host = *v6;
    return out;
  }
  if (auto v4 = net::canonical_ipv4(out.host)) {
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

#include "proxy/http/authority.hpp"

#include "config/parse_values.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace airlock::proxy {

std::string authority::to_string() const {
  std::string out = host_text(port);
  out += ':';
  out += std::to_string(port);
  return out;
}

std::string authority::host_text(std::uint16_t default_port) const {
  std::string out;
  out.reserve(host.size() + 8);
  if (ipv6) {
    out += '[';
    out += host;
    out += ']';
  } else {
    out += host;
  }
  if (port != default_port) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

bool authority::is_ip() const {
  in_addr v4{};
  return ipv6 || inet_pton(AF_INET, host.c_str(), &v4) == 1;
}

namespace {

bool is_reg_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

std::optional<std::string> canonical_ipv6(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  char input[INET6_ADDRSTRLEN] = {};
  text.copy(input, text.size());
  in6_addr addr{};
  if (::inet_pton(AF_INET6, input, &addr) != 1) {
    return std::nullopt;
  }
  char output[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(AF_INET6, &addr, output, sizeof(output)) == nullptr) {
    return std::nullopt;
  }
  return std::string(output);
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c | 0x20);
    }
  }
  return out;
}

// Parses host[:port]; an empty port (as in "host:") counts as missing.
std::optional<authority> parse(std::string_view text, std::optional<std::uint16_t> default_port) {
  authority out;
  std::string_view host;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close == 1) {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    // Canonical text form, so "[0::1]" and "[::1]" are one authority.
    auto canonical = canonical_ipv6(host);
    if (!canonical) {
      return std::nullopt;
    }
    out.host = std::move(*canonical);
    out.ipv6 = true;
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    if (!host.empty() && host.back() == '.') {
      host.remove_suffix(1);
    }
    // Empty labels ("a..b", "host..") resolve like their dotless spelling; refusing them
    // keeps one spelling per name.
    if (host.empty() || host.front() == '.' || host.back() == '.' ||
        host.find("..") != std::string_view::npos) {
      return std::nullopt;
    }
    for (char c : host) {
      if (!is_reg_name_char(c)) {
        return std::nullopt;
      }
    }
  }
  if (rest.empty() || rest == ":") {
    if (!default_port) {
      return std::nullopt;
    }
    out.port = *default_port;
  } else {
    if (rest.front() != ':') {
      return std::nullopt;
    }
    rest.remove_prefix(1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
    if (ec != std::errc{} || end != rest.data() + rest.size() || port == 0 || port > 65535 ||
        rest.front() == '+') {
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(port);
  }
  if (!out.ipv6) {
    out.host = lowercase(host);
    // "2130706433", "0x7f.1" and "127.1" are 127.0.0.1 to the resolver: one spelling, so
    // rules and policy see the address the bytes go to.
    if (auto v4 = config::canonical_ipv4(out.host)) {
      out.host = std::move(*v4);
    }
  }
  return out;
}

}  // namespace

std::optional<authority> parse_authority_form(std::string_view target) {
  return parse(target, std::nullopt);
}

std::optional<authority> parse_host_header(std::string_view value, std::uint16_t default_port) {
  return parse(value, default_port);
}

std::optional<absolute_target> parse_absolute_http(std::string_view target) {
  constexpr std::string_view scheme = "http://";
  if (target.size() <= scheme.size()) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    char c = target[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c | 0x20);
    }
    if (c != scheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view rest = target.substr(scheme.size());
  const auto end = rest.find_first_of("/?#");
  std::string_view auth_text = rest.substr(0, end);
  if (auth_text.find('@') != std::string_view::npos) {
    return std::nullopt;
  }
  if (target.find('#') != std::string_view::npos) {
    return std::nullopt;
  }
  auto auth = parse(auth_text, std::uint16_t{80});
  if (!auth) {
    return std::nullopt;
  }
  absolute_target out{std::move(*auth), auth_text, "/"};
  if (end != std::string_view::npos) {
    out.origin_form = rest.substr(end);
  }
  return out;
}

}  // namespace airlock::proxy

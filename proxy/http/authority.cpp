#include "proxy/http/authority.hpp"

#include <arpa/inet.h>

#include <charconv>

#include "net/host.hpp"

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

// Parses host[:port]; an empty port (as in "host:") counts as missing.
std::optional<authority> parse(std::string_view text, std::optional<std::uint16_t> default_port) {
  authority out;
  std::string_view host_text;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host_text = text.substr(0, close + 1);
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    host_text = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  // One spelling per destination ("[0::1]" is "[::1]", "Example.COM." is "example.com",
  // "0x7f.1" and "[::ffff:127.0.0.1]" are 127.0.0.1), so rules and policy see the
  // address the bytes go to.
  auto host = net::canonical_host(host_text);
  if (!host) {
    return std::nullopt;
  }
  out.host = std::move(host->text);
  out.ipv6 = host->kind == net::host_kind::ipv6;
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
  return out;
}

}  // namespace

std::optional<authority> parse_authority_form(std::string_view target) {
  return parse(target, std::nullopt);
}

std::optional<authority> parse_host_header(std::string_view value, std::uint16_t default_port) {
  return parse(value, default_port);
}

bool starts_with_scheme(std::string_view target, std::string_view scheme) {
  if (target.size() <= scheme.size()) {
    return false;
  }
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    char c = target[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c | 0x20);
    }
    if (c != scheme[i]) {
      return false;
    }
  }
  return true;
}

std::optional<absolute_target> parse_absolute_form(std::string_view target) {
  // ws:// and wss:// are http:// and https:// for a WebSocket upgrade (RFC 6455 3): aiohttp
  // writes ws:// that way.
  struct scheme_form {
    std::string_view name;
    bool tls;
  };
  static constexpr scheme_form schemes[] = {
      {"http://", false}, {"ws://", false}, {"https://", true}, {"wss://", true}};
  const scheme_form* found = nullptr;
  for (const auto& s : schemes) {
    if (starts_with_scheme(target, s.name)) {
      found = &s;
      break;
    }
  }
  if (found == nullptr) {
    return std::nullopt;
  }
  const std::size_t scheme = found->name.size();
  std::string_view rest = target.substr(scheme);
  const auto end = rest.find_first_of("/?#");
  std::string_view auth_text = rest.substr(0, end);
  if (auth_text.find('@') != std::string_view::npos) {
    return std::nullopt;
  }
  if (target.find('#') != std::string_view::npos) {
    return std::nullopt;
  }
  auto auth = parse(auth_text, static_cast<std::uint16_t>(found->tls ? 443 : 80));
  if (!auth) {
    return std::nullopt;
  }
  absolute_target out{std::move(*auth), auth_text, "/", found->tls};
  if (end != std::string_view::npos) {
    out.origin_form = rest.substr(end);
  }
  return out;
}

}  // namespace airlock::proxy

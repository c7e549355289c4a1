#include "proxy/routes.hpp"

#include "proxy/authority.hpp"
#include "proxy/http_head.hpp"

namespace airlock::proxy {

namespace {

// The path as a server that decodes %2E, %2F and %5C and treats "\" as "/" would see it
// (some do); a dot-segment in any such reading is refused.
std::string lenient_decode(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%' && i + 2 < path.size()) {
      const int hi = http::hex_value(path[i + 1]);
      const int lo = http::hex_value(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        const char decoded = static_cast<char>(hi * 16 + lo);
        if (decoded == '.' || decoded == '/' || decoded == '\\') {
          c = decoded;
          i += 2;
        }
      }
    }
    out += c == '\\' ? '/' : c;
  }
  return out;
}

bool has_dot_segment(std::string_view path) {
  const std::string p = lenient_decode(path);
  std::size_t start = 0;
  while (start <= p.size()) {
    auto end = p.find('/', start);
    if (end == std::string::npos) {
      end = p.size();
    }
    const std::string_view seg = std::string_view(p).substr(start, end - start);
    if (seg == "." || seg == "..") {
      return true;
    }
    start = end + 1;
  }
  return false;
}

bool is_local_name(std::string_view host) {
  constexpr std::string_view suffix = ".localhost";
  return host == "localhost" ||
         (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix);
}

}  // namespace

std::optional<routed_request> match_route(const std::vector<config::route>& routes,
                                          std::string_view target) {
  std::optional<routed_request> best;
  for (const auto& r : routes) {
    if (target.substr(0, r.prefix.size()) != r.prefix) {
      continue;
    }
    const std::string_view rest = target.substr(r.prefix.size());
    if (!rest.empty() && rest.front() != '/' && rest.front() != '?') {
      continue;
    }
    if (!best || r.prefix.size() > best->route->prefix.size()) {
      best = routed_request{&r, rest};
    }
  }
  return best;
}

std::string route_origin_form(const config::route& route, std::string_view rest) {
  std::string out;
  out.reserve(route.base_path.size() + rest.size() + 1);
  out += route.base_path;
  if (rest.empty() || rest.front() == '?') {
    out += '/';
  }
  out += rest;
  return out;
}

refusal check_routed_request(std::string_view rest, std::string_view host_field, bool has_host,
                             bool has_origin, const std::vector<std::string>& route_hosts) {
  const std::string_view path = rest.substr(0, rest.find('?'));
  if (has_dot_segment(path)) {
    return refusal{400, "http_request_error",
                   "a routed path may not contain \".\" or \"..\" segments"};
  }
  if (has_origin) {
    return refusal{403, "http_request_denied",
                   "reverse routes refuse requests with an Origin header: a web page may not "
                   "use the workspace's credentials"};
  }
  if (has_host) {
    const auto host = parse_host_header(host_field, 80);
    bool allowed = host && (host->is_ip() || is_local_name(host->host));
    for (const auto& name : route_hosts) {
      allowed = allowed || (host && host->host == name);
    }
    if (!allowed) {
      return refusal{403, "http_request_denied",
                     "reverse routes answer to IP addresses, localhost and proxy.route_hosts "
                     "only; add this Host's name there if airlock is reached by it"};
    }
  }
  return refusal{};
}

std::string list_prefixes(const std::vector<config::route>& routes) {
  std::string out;
  for (const auto& r : routes) {
    if (!out.empty()) {
      out += ", ";
    }
    out += r.prefix;
  }
  return out;
}

}  // namespace airlock::proxy

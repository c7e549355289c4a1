#include "proxy/policy/routes.hpp"

#include "config/request_path.hpp"
#include "proxy/http/authority.hpp"

namespace airlock::proxy {

namespace {

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
  // The rest goes behind the route's base path: a spelling some server reads as another
  // path ("/..;/", "//", "%2e%2e", "%00") could leave the base path with the credential.
  if (const auto doubt = config::path_doubt(path); !doubt.empty()) {
    return refusal{
        400, "http_request_error",
        "a routed path must mean the same to every server; this one has " + std::string(doubt)};
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

#pragma once
// Reverse routes: which route serves an origin-form request on the proxy listener, the
// path it goes upstream with, and whether the request may use it at all. Pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "proxy/http/responses.hpp"

namespace airlock::proxy {

struct routed_request {
  const config::route* route = nullptr;
  std::string_view rest;  // the target after the prefix: "", "/...", or "?..."
};

// The route with the longest prefix covering target ("/p" covers "/p", "/p/..." and
// "/p?...", not "/px"). Prefixes compare byte for byte: "/P" or "/%70" match nothing.
std::optional<routed_request> match_route(const std::vector<config::route>& routes,
                                          std::string_view target);

// The upstream's origin-form target: the route's base path, then the rest ("/" when
// both are empty).
std::string route_origin_form(const config::route& route, std::string_view rest);

// Whether the request may take a route; a refusal (status 0 when allowed) otherwise.
// Refused: a path some mainstream server would read as another path (config::path_doubt:
// "." or ".." segments, also encoded, ";" parameters as in "/..;/", "//", encoded "/",
// "\" or NUL, overlong UTF-8), which could climb out of the base path; a Host naming
// anything but an IP address, localhost or one of route_hosts (DNS rebinding: a web page
// reading answers made with the workspace's credentials); and any request with Origin (a
// browser page, not an agent's client).
refusal check_routed_request(std::string_view rest, std::string_view host_field, bool has_host,
                             bool has_origin, const std::vector<std::string>& route_hosts);

// "/anthropic, /openai": what a request that matched no route is told.
std::string list_prefixes(const std::vector<config::route>& routes);

}  // namespace airlock::proxy

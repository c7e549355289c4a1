// Fuzz target: a request head as airlock reads it from an agent, head scanning in
// arbitrary splits, parsing, framing analysis, then whatever target form it carries
// (CONNECT authority, absolute URI, Host field, reverse route) and a chunked body after
// it. Checks invariants the session relies on, not just the absence of crashes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/http/authority.hpp"
#include "proxy/http/chunked.hpp"
#include "proxy/http/head.hpp"
#include "proxy/http/message.hpp"
#include "proxy/policy/routes.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace airlock::proxy;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  http::head_limits limits;
  limits.max_bytes = 8 * 1024;
  limits.max_headers = 32;

  // The first byte picks where the scan is resumed, as when the head arrives in pieces.
  const std::size_t split = size > 0 ? data[0] % (size + 1) : 0;
  auto scan = http::scan_head(input.substr(0, split), 0, limits);
  if (scan.st == http::head_scan::state::incomplete) {
    scan = http::scan_head(input, scan.scanned, limits);
  }
  if (scan.st != http::head_scan::state::complete) {
    return 0;
  }
  check(scan.skip + scan.length <= input.size());
  const std::string_view head = input.substr(scan.skip, scan.length);
  http::request_head req;
  if (http::parse_request(head, limits, req)) {
    return 0;
  }
  check(!req.method.empty());
  check(req.headers.size() <= limits.max_headers);
  http::request_info info;
  if (http::analyze_request(req, info)) {
    return 0;
  }

  if (const auto auth = parse_authority_form(req.target)) {
    check(auth->port != 0);
    // One spelling per authority: parsing its own text gives it back.
    const auto again = parse_authority_form(auth->to_string());
    check(again && *again == *auth);
  }
  if (const auto target = parse_absolute_form(req.target)) {
    check(!target->origin_form.empty());
    check(target->origin_form.front() == '/' || target->origin_form.front() == '?');
    check(target->auth.port != 0);
  }
  if (info.host != nullptr) {
    if (const auto host = parse_host_header(info.host->value, 80)) {
      check(host->host.find_first_of("\r\n ") == std::string::npos);
    }
  }
  static const std::vector<airlock::config::route> routes = [] {
    airlock::config::route r;
    r.prefix = "/anthropic";
    r.host = "api.anthropic.com";
    r.base_path = "/base";
    return std::vector<airlock::config::route>{r};
  }();
  if (const auto routed = match_route(routes, req.target)) {
    const std::string origin = route_origin_form(*routed->route, routed->rest);
    check(origin.substr(0, 5) == "/base");
    (void)check_routed_request(routed->rest, info.host ? info.host->value : "",
                               info.host != nullptr, false, {});
  }

  if (info.body == http::body_kind::chunked) {
    http::chunked_scanner chunks;
    const std::string_view body = input.substr(scan.skip + scan.length);
    std::size_t used = 0;
    // Fed in two pieces: the result must not depend on where reads end.
    const std::size_t cut = body.size() / 2;
    const auto first = chunks.feed(body.substr(0, cut));
    used += first.consumed;
    if (!first.error && !first.done) {
      const auto second = chunks.feed(body.substr(used));
      used += second.consumed;
    }
    check(used <= body.size());
  }
  return 0;
}

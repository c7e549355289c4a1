#pragma once
// Which addresses a dial may use (SSRF protection, DESIGN invariant 5): airlock's own
// listeners never (the request would loop), private classes only inside
// egress.allow_private, and neither class check for a resolve override, which is trusted
// config. Judged on the addresses the resolver returned; the dialler connects only to the
// ones that passed, so a name that resolves (or rebinds) to a private address gets no
// connection. Pure.
//
// How the dialler uses it (session::dial and session::is_self in upstream_connect.cpp):
//   const dial_plan plan = plan_dial(target, cfg.resolve);
//   endpoints: {plan.literal, plan.port} when set, else the lookup of plan.host, plan.port;
//   const endpoint_choice c = filter_endpoints(target, endpoints, plan, self, cfg.egress);
//   c.refused: count private_address_blocked, answer c.refused->answer; else connect to
//   c.allowed, in order.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/io/asio.hpp"

namespace airlock::proxy {

// What a dial to target looks up or connects to.
struct dial_plan {
  std::string host;  // the override's host, else the target's
  std::uint16_t port = 0;
  // From config resolve (keyed by target.to_string(), so a TLS upstream has the same key):
  // trusted, so the private-address classes do not apply; the self check does.
  bool overridden = false;
  std::optional<asio::ip::address> literal;  // host is an IP literal: no lookup
};

dial_plan plan_dial(const authority& target,
                    const std::map<std::string, config::endpoint>& resolve);

// Whether a connect(2) to ep reaches one of airlock's own listeners: the same port and the
// same address (an IPv4-mapped address is its IPv4 one), or loopback to a wildcard listener.
bool is_self(const tcp::endpoint& ep, std::span<const tcp::endpoint> self);

struct endpoint_choice {
  std::vector<tcp::endpoint> allowed;  // the endpoints that passed, in the resolver's order
  std::optional<refusal> refused;      // set exactly when none passed
};

// Filters resolved (the endpoints of the literal or the lookup, for a dial planned by plan)
// for a dial to target. The refusal, when none passed, is 403 private_address naming the
// class of the first endpoint refused ("airlock-itself" for a loop; "private" for an empty
// list).
endpoint_choice filter_endpoints(const authority& target, std::span<const tcp::endpoint> resolved,
                                 const dial_plan& plan, std::span<const tcp::endpoint> self,
                                 const config::egress_config& egress);

}  // namespace airlock::proxy

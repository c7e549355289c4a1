#pragma once
// The fixed label values of the metrics and access log: every series is registered at start
// from these sets, so nothing a client sends can add one. Decisions return them; observe
// only counts and names them.

#include <array>
#include <string_view>

namespace airlock::proxy {

enum class traffic_mode { forward, tunnel, intercept, route };
inline constexpr std::array<std::string_view, 4> traffic_mode_names = {"forward", "tunnel",
                                                                       "intercept", "route"};

// Why airlock answered a request itself.
enum class refusal_kind {
  telemetry,
  egress_denied,
  private_address,
  host_mismatch,
  secret_missing,
  credentials_revoked,
  route_not_found,
  bad_request,
  upstream_error,
  upstream_timeout,
  method_refused,
  head_budget,
  scrub_unreadable,  // a response from a scrubbed host in an encoding airlock cannot read
  decode_budget,     // proxy.max_decoding_bytes spent on compressed answers being scrubbed
  other,
};
inline constexpr std::array<std::string_view, 15> refusal_kind_names = {
    "telemetry",        "egress_denied",  "private_address",
    "host_mismatch",    "secret_missing", "credentials_revoked",
    "route_not_found",  "bad_request",    "upstream_error",
    "upstream_timeout", "method_refused", "head_budget",
    "scrub_unreadable", "decode_budget",  "other"};

}  // namespace airlock::proxy

#pragma once
// What airlock does as an intermediary (RFC 9110 7.6) beyond relaying: which methods it
// never relays where a credential could go up, which requests it answers itself
// (Max-Forwards: 0), which upgrade protocols it relays, and its Via entry. Pure.

#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy/http/head.hpp"

namespace airlock::proxy::http {

// Methods whose response carries the request back: TRACE (RFC 9110 9.3.8), TRACK (the
// same, from IIS) and DEBUG (IIS/ASP.NET, whose answers echo request data). Sent where
// airlock injects a credential, the answer would hand the key to the agent. Compared
// without regard to case: some servers upper-case methods before dispatching them.
bool reflects_request(std::string_view method);

// The methods airlock relays to a destination, for Allow in its own answers.
inline constexpr std::string_view relayed_methods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

enum class local_answer : std::uint8_t {
  forward,            // relay it (Max-Forwards, if any, one less)
  refuse_reflecting,  // 405: a reflecting method where a credential could go up
  options_here,       // 200 with Allow: OPTIONS with Max-Forwards: 0 ends at airlock
  trace_here,         // 405: TRACE with Max-Forwards: 0 ends at airlock, which never reflects
};

// credential_destination: the request goes where airlock injects credentials (an
// intercepted tunnel, a reverse route, a credential host reached over plain http).
// max_forwards: the request's Max-Forwards for OPTIONS and TRACE (request_info).
local_answer decide_local_answer(std::string_view method, std::optional<std::uint32_t> max_forwards,
                                 bool credential_destination);

// Whether Max-Forwards means anything for this method (RFC 9110 7.6.2: OPTIONS, TRACE).
bool uses_max_forwards(std::string_view method);

// Whether an Upgrade field value names only protocols airlock relays after a 101: only
// WebSocket. h2c is never passed on: after its 101 the bytes are HTTP/2 frames airlock
// does not parse, requests smuggled past every check here. False for an empty list.
bool is_relayed_upgrade(std::string_view upgrade);

// Whether a 101 switches to a protocol airlock relays: an Upgrade field, and every
// Upgrade field naming only WebSocket.
bool switches_to_relayed_upgrade(const response_head& head);

// airlock's Via field line for a message received as `received` (RFC 9110 7.6.3); a
// constant, so adding it costs one append.
std::string_view via_field(version received);

}  // namespace airlock::proxy::http

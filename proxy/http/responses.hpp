#pragma once
// Responses airlock writes itself. Each says why in three places an agent or its
// operator can read: the status, a Proxy-Status field (RFC 9209) with a machine
// readable error type, and a one-line text body. Pure: builds bytes, sends nothing.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "proxy/observe/labels.hpp"
#include "secrets/store.hpp"

namespace airlock::proxy {

// The kind a status has when nothing more specific is known (the metric label).
constexpr refusal_kind default_kind(int status) {
  if (status == 421) {
    return refusal_kind::host_mismatch;
  }
  if (status == 404) {
    return refusal_kind::route_not_found;
  }
  if (status == 504) {
    return refusal_kind::upstream_timeout;
  }
  if (status == 502) {
    return refusal_kind::upstream_error;
  }
  return status >= 400 && status < 500 ? refusal_kind::bad_request : refusal_kind::other;
}

struct refusal {
  refusal() = default;
  refusal(refusal_kind k, int status_in, std::string_view type, std::string detail_in = {})
      : status(status_in), kind(k), error_type(type), detail(std::move(detail_in)) {}
  refusal(int status_in, std::string_view type, std::string detail_in = {})
      : refusal(default_kind(status_in), status_in, type, std::move(detail_in)) {}

  int status = 0;
  refusal_kind kind = refusal_kind::other;  // counted once, where the answer is sent
  std::string_view error_type;              // RFC 9209 proxy error type, e.g. "connection_refused"
  std::string detail;                       // human text; never contains secret material
  std::string json_body;  // when set, the body (application/json) instead of the text
  // Policy refusals: X-Airlock-Reason says "<reason> rule=<rule>" for programs, and a JSON
  // body ({"error":reason,"rule":..,"detail":..,"retry":false}) goes to clients that
  // Accept application/json.
  std::string reason;
  std::string rule;
  std::string_view allow;  // a 405's Allow field: what the agent may send instead
};

// "HTTP/1.1 502 Bad Gateway" ... with Content-Length and, when close, Connection: close.
// json: the client accepts application/json (policy refusals then answer in JSON). A 204
// carries no body.
std::string make_error_response(const refusal& r, bool close, bool json = false);

// A head that needed more memory than proxy.max_pending_head_bytes had left: 503, the
// connection closes, and the agent may retry (the budget frees as other heads finish).
// response: the head was the upstream's answer rather than the request.
refusal head_budget_refusal(std::size_t limit, bool response);
// 503 for a compressed answer from a scrubbed host when proxy.max_decoding_bytes (limit) is
// spent: decoding it would hold memory no budget covers.
refusal decode_budget_refusal(std::size_t limit);

// Whether an Accept field value asks for JSON.
bool accepts_json(std::string_view accept);

std::string_view reason_phrase(int status);

// The kind of a refusal (its metric label).
inline refusal_kind classify(const refusal& r) {
  return r.kind;
}

// A credential rule that cannot inject: 503 naming the missing secret in setup, 403
// "credentials revoked" once revoked (JSON bodies for clients that ask).
refusal missing_secret_refusal(const std::string& secret, const std::string& rule,
                               secrets::phase phase);

}  // namespace airlock::proxy

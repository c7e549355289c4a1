#pragma once
// Responses airlock writes itself. Each says why in three places an agent or its
// operator can read: the status, a Proxy-Status field (RFC 9209) with a machine
// readable error type, and a one-line text body. Pure: builds bytes, sends nothing.

#include <string>
#include <string_view>
#include <utility>

namespace airlock::proxy {

struct refusal {
  refusal() = default;
  refusal(int status_in, std::string_view type, std::string detail_in = {})
      : status(status_in), error_type(type), detail(std::move(detail_in)) {}

  int status = 0;
  std::string_view error_type;  // RFC 9209 proxy error type, e.g. "connection_refused"
  std::string detail;           // human text; never contains secret material
  std::string json_body;        // when set, the body (application/json) instead of the text
};

// "HTTP/1.1 502 Bad Gateway" ... with Content-Length and, when close, Connection: close.
std::string make_error_response(const refusal& r, bool close);

std::string_view reason_phrase(int status);

}  // namespace airlock::proxy

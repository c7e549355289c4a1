#pragma once
// The outbound HTTP/1.1 client for requests airlock makes on its own behalf (revoke hooks):
// one request per connection. dial() is the data plane's dialer (resolve: overrides, lookups
// on the dns_pool, connect, TLS with the shared upstream context, verified and named as for
// every upstream) under this call's deadline. send_http() dials, writes the request, reads the
// response head with the strict parser of http/head and a bounded body. Every step runs under the
// call's deadline; errors are values, never exceptions.

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/model.hpp"
#include "proxy/flow/dialer.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/io/asio.hpp"
#include "proxy/tls/stream.hpp"

namespace airlock::proxy {

class dns_pool;

struct dial_target {
  authority name;  // what the certificate must name, SNI carries and overrides are keyed by
  bool tls = false;
};

// Why a call got no response. detail names the host and the step, never a request byte.
struct client_error {
  enum class step : std::uint8_t { resolve, connect, tls, write, read, response, too_large };
  step at = step::connect;
  bool timed_out = false;  // the deadline ended this step
  std::string detail;
};

using dial_result = std::variant<upstream_ptr, client_error>;

// Resolves, connects and (for a TLS target) handshakes by the deadline, with the dialer.
awaitable<dial_result> dial(const dial_target& to, const dial_context& with,
                            clock::time_point deadline);

struct http_call {
  dial_target to;
  std::string_view method;  // the request's: a response to HEAD has no body
  // The whole request, head and body, as it goes on the wire. It may carry a credential:
  // the client wipes it once written, or once it gives up before.
  std::span<char> request;
  std::size_t max_body = 64 * 1024;  // a longer body (chunk framing counted) is an error
  clock::time_point deadline;
};

struct http_response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // chunk framing removed
};

using http_result = std::variant<http_response, client_error>;

// Sends one request on a connection of its own and reads the final response (interim 1xx
// answers skipped); the connection is closed afterwards.
awaitable<http_result> send_http(const http_call& call, const dial_context& with);

}  // namespace airlock::proxy

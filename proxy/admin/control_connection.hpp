#pragma once
// One connection to a control listener (admin API or metrics), TCP or Unix socket:
// reads requests into small buffers that grow as needed and wipe every block they free
// (a pushed secret leaves no stale copy), under a header deadline, and answers each with
// the listener's handler. A caller is checked on the request head, before a body is read;
// a wrong admin token is answered after a pause and ends the connection: guessing is
// bounded per connection, never by a global lockout the agent could trigger to keep the
// orchestrator out.

#include <chrono>
#include <functional>
#include <optional>

#include "proxy/admin/connection_slots.hpp"
#include "proxy/admin/control_http.hpp"
#include "proxy/io/asio.hpp"

namespace airlock::proxy::control {

// Answers one request; a coroutine on the connection's executor (the control loop), so a
// slow answer (a revoke waiting on issuers) holds up only its own connection.
using control_handler = std::function<awaitable<control_response>(const control_request&)>;
// Whether the Authorization field lets the caller in: nullopt, or the refusal (401).
using head_check = std::function<std::optional<control_response>(std::string_view authorization)>;

struct serve_context {
  head_check check;  // empty: no body is taken and the connection is never busy (metrics)
  connection_slots* slots = nullptr;
  std::optional<connection_slots::handle> slot;
  std::size_t* refusing = nullptr;  // refusals in flight, decremented at the end
};

struct connection_limits {
  std::size_t header_bytes = 8 * 1024;
  std::size_t body_bytes = 64 * 1024;  // a secret value, never more
  std::chrono::milliseconds header_timeout{5000};
  std::chrono::milliseconds io_timeout{10000};
  std::chrono::milliseconds failure_delay{250};  // before answering a wrong token
};

// Serves requests until the peer closes, a deadline passes or an error; releases the
// context's slot and refusal count at the end. refusal, when set, is written instead (peer
// not allowed, listener full). Stream: boost::beast::basic_stream over tcp or
// asio::local::stream_protocol.
template <class Stream>
awaitable<void> serve_control(Stream stream, control_handler handler, serve_context ctx,
                              std::optional<control_response> refusal,
                              connection_limits limits = {});

}  // namespace airlock::proxy::control

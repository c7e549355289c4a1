#pragma once
// An upstream that misbehaves in one chosen way on every connection, for the
// failures airlock must turn into a clear error (502/504) or a visibly broken
// response rather than a clean-looking one. (A refused connection needs no server:
// see unused_port in raw_client.hpp.)

#include <string>

#include "tests/support/loopback_server.hpp"

namespace airlock::test {

enum class fault {
  accept_then_reset,      // RST as soon as the connection is accepted
  reset_after_head,       // read the request, send a head (Content-Length: 1000) and 100 bytes, RST
  truncated_body,         // head with Content-Length: 1000, 500 bytes, then an orderly close
  close_delimited_reset,  // head without length (body runs to close), 100 bytes, then RST
  truncated_chunked,      // chunked head and one whole chunk, then an orderly close: no last chunk
  reset_mid_chunked,      // chunked head, one whole chunk and half the next, then RST
  stall_mid_chunked,      // chunked head and one whole chunk, then silence on an open connection
  stall,                  // read the request and never answer
};

class fault_server {
 public:
  explicit fault_server(fault mode);

  // Closes the listener and every connection now (the destructor does it too).
  void stop() { server_.stop(); }

  std::uint16_t port() const { return server_.port(); }
  std::string url(std::string_view path = "/") const { return server_.url(path); }
  std::size_t connections() const { return server_.connections_accepted(); }
  // See loopback_server::wait_connections_ended.
  bool wait_connections_ended(std::chrono::milliseconds timeout) const {
    return server_.wait_connections_ended(timeout);
  }

 private:
  asio::awaitable<void> serve(tcp::socket sock);

  fault mode_;
  loopback_server server_;  // last: stops before mode_ goes away
};

}  // namespace airlock::test

#pragma once
// What an exchange sees of its client: the bytes that came after the request head and more
// on demand (the body source), and where the answer goes (the response sink, refusals
// included). The HTTP/1.1 connection implements it; an HTTP/2 stream can implement it too
// and drive the same exchange.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proxy/flow/byte_buffer.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/io/asio.hpp"
#include "proxy/tls/stream.hpp"

namespace airlock::proxy {

class client_side {
 public:
  virtual ~client_side() = default;

  // Bytes read from the client but not yet used: after the head, the start of its body.
  virtual byte_buffer& pending() = 0;
  // The client's leg, for body reads and for relaying bytes after a protocol switch.
  virtual stream_ref leg() = 0;
  // Bytes read from the leg by the exchange itself (counted for metrics and the log).
  virtual void count_in(std::size_t n) = 0;
  // Bytes written to the leg by the exchange itself.
  virtual void count_out(std::size_t n) = 0;
  // Writes a then b completely; false when the client is gone or too slow.
  virtual awaitable<bool> send(std::string_view a, std::string_view b = {}) = 0;
  // Answers with r (the one place refusals are counted and logged).
  virtual awaitable<void> refuse(const refusal& r, bool close) = 0;
  // The request is over with this status from the upstream: its access-log line.
  virtual void answered(int status) = 0;
  // A close from here resets the connection (a close-delimited body cut short).
  virtual void reset_on_close() = 0;
  // Draining: the answer says "Connection: close".
  virtual bool closing() const = 0;
};

}  // namespace airlock::proxy

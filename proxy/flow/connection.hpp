#pragma once
// One client connection: reads request heads and hands each to its exchange; speaks TLS to
// the client once a CONNECT is intercepted; answers what it refuses itself. Runs as a
// coroutine on its worker's single-threaded io_context; a watchdog enforces the deadline.

#include <memory>
#include <optional>
#include <string>

#include "proxy/flow/byte_buffer.hpp"
#include "proxy/flow/client_side.hpp"
#include "proxy/flow/exchange.hpp"
#include "proxy/flow/flow_context.hpp"
#include "proxy/flow/request_record.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/http/head.hpp"
#include "proxy/io/io_deadline.hpp"
#include "proxy/tls/stream.hpp"

namespace airlock::proxy {

class connection;

// Where a worker keeps its live connections (drain, revoke and shutdown reach them).
class connection_set {
 public:
  virtual void add(connection* c) = 0;
  virtual void remove(connection* c) = 0;

 protected:
  ~connection_set() = default;
};

class connection final : public std::enable_shared_from_this<connection>, private client_side {
 public:
  connection(tcp::socket client, flow_context& ctx, connection_set& set);
  ~connection() override;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Spawns the connection coroutine and its watchdog.
  void start();
  // Drain: closes the connection now if it is between requests; otherwise the current
  // response goes out with "Connection: close".
  void drain();
  // Closes every socket now (end of the drain deadline, revoke).
  void abort();
  // Whether this connection (or the upstream connection it holds) carried an injected
  // credential: revoke closes it, so nothing sent with the key keeps flowing.
  bool carried_credential() const { return exchange_.carried_credential(); }

 private:
  enum class phase { idle, reading, busy };
  enum class head_status { ok, closed, rejected };

  awaitable<void> run();
  awaitable<head_status> read_request_head(std::size_t& head_len);
  // A head whose body has not all arrived: acknowledged at once (TCP_QUICKACK).
  void ack_if_body_waits(std::size_t head_len);
  awaitable<void> reject_request(int status, std::string_view reason);
  void begin_request();
  // The TLS handshake with the client of an intercepted CONNECT: whether requests now
  // keep coming, over TLS.
  awaitable<bool> intercept(const authority& target);
  void on_deadline();
  // close_notify to an intercepted client before the close, unless the close says a body
  // was cut short.
  awaitable<void> close_tls();
  void close_all();

  // client_side
  byte_buffer& pending() override { return in_; }
  stream_ref leg() override { return stream_ref(client_, client_tls_ ? &*client_tls_ : nullptr); }
  void count_in(std::size_t n) override;
  void count_out(std::size_t n) override;
  awaitable<bool> send(std::string_view a, std::string_view b = {}) override;
  awaitable<void> refuse(const refusal& r, bool close) override;
  void answered(int status) override { log_line(status, ""); }
  void reset_on_close() override;
  bool closing() const override { return draining_ || ctx_.draining; }

  void log_line(int status, std::string_view reason);

  tcp::socket client_;
  flow_context& ctx_;
  connection_set& set_;
  io_deadline deadline_;
  phase phase_ = phase::reading;
  bool draining_ = false;
  bool first_request_ = true;
  bool resetting_ = false;  // reset_on_close: the close must not look like a clean end
  byte_buffer in_;          // from the client
  std::optional<tls_socket_stream> client_tls_;  // set once a CONNECT is intercepted
  std::optional<authority> intercepted_;         // the CONNECT authority of that tunnel
  std::string peer_;                             // for the access log
  std::uint64_t in_total_ = 0;
  std::uint64_t out_total_ = 0;
  http::request_head req_;
  http::request_info req_info_;
  request_record record_;
  exchange exchange_;
};

}  // namespace airlock::proxy

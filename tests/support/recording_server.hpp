#pragma once
// An upstream that keeps every byte it receives, so a test can assert what airlock
// did and did not forward (smuggling tests expect nothing at all), and answers each
// request it can frame with one fixed response.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/loopback_server.hpp"
#include "tests/support/request_log.hpp"

namespace airlock::test {

// What happens to a connection after a response.
enum class keep_alive_mode {
  keep,                  // serve further requests on it
  close_after_response,  // FIN right after each response (a server with a short keep-alive)
  drop_reused,           // answer the first request; read the next one and close unanswered
  reset_reused,          // the same, but a TCP reset instead of an orderly close
  answer_first_only,     // answer the server's very first request; every later one, on any
                         // connection, is read and closed unanswered (a retry fails too)
};

struct recording_options {
  std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  keep_alive_mode mode = keep_alive_mode::keep;
  std::chrono::milliseconds delay{0};  // before each response
};

class recording_server {
 public:
  explicit recording_server(recording_options opts = {});

  // Closes the listener and every connection now (the destructor does it too).
  void stop() { server_.stop(); }

  std::uint16_t port() const { return server_.port(); }
  std::string url(std::string_view path = "/") const { return server_.url(path); }
  // "127.0.0.1:PORT", for Host fields and CONNECT targets.
  std::string authority() const { return "127.0.0.1:" + std::to_string(port()); }

  std::size_t connections() const { return server_.connections_accepted(); }
  // See loopback_server::wait_connections_ended.
  bool wait_connections_ended(std::chrono::milliseconds timeout) const {
    return server_.wait_connections_ended(timeout);
  }
  // Every byte received, connection after connection in order of arrival.
  std::string received() const { return log_.received(); }
  // Each request (head and Content-Length body) as received, in order.
  std::vector<std::string> requests() const { return log_.requests(); }
  // What each connection received, for those that have ended, in order of ending.
  std::vector<std::string> ended_connections() const { return log_.ended_connections(); }

  // Blocks until `count` requests have arrived or the timeout passes; true if they did.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
    return log_.wait_for_requests(count, timeout);
  }

 private:
  asio::awaitable<void> serve(tcp::socket sock);

  recording_options opts_;
  request_log log_;
  std::atomic<std::size_t> answered_{0};  // responses sent, on all connections
  loopback_server server_;                // last: stops before the state above goes away
};

}  // namespace airlock::test

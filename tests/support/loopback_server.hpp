#pragma once
// The common part of the in-process upstreams: a listener on 127.0.0.1 port 0 with
// its own io_context and thread, one coroutine per accepted connection, and a stop
// that ends them all. A server class owns one of these as its last member, so the
// thread stops before the state its handler uses is destroyed.

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace airlock::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

class loopback_server {
 public:
  using handler = std::function<asio::awaitable<void>(tcp::socket)>;

  // Binds 127.0.0.1:0 and starts serving at once; each connection runs serve(socket).
  explicit loopback_server(handler serve);
  ~loopback_server();
  loopback_server(const loopback_server&) = delete;
  loopback_server& operator=(const loopback_server&) = delete;

  // Ends every connection and joins the thread; idempotent.
  void stop();

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:PORT" + path.
  std::string url(std::string_view path = "/") const;
  std::size_t connections_accepted() const { return accepted_.load(); }
  // Connections whose handler has returned: the server closed them or saw them closed.
  std::size_t connections_ended() const { return ended_.load(); }
  // Blocks until every accepted connection has ended or the timeout passes; true if
  // they did. After a client has its answer, this tells "nothing more will arrive"
  // from "not arrived yet", and a connection that ended was not kept for reuse.
  bool wait_connections_ended(std::chrono::milliseconds timeout) const;

 private:
  asio::awaitable<void> accept_loop();

  handler serve_;
  std::unique_ptr<asio::io_context> io_;
  std::optional<tcp::acceptor> acceptor_;  // destroyed before io_
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> ended_{0};
  std::thread thread_;
};

// Reads from sock into buf until it holds a complete request head (CRLFCRLF).
// Returns the head's length including the CRLFCRLF, or 0 when the peer closed or
// failed first. Bytes after the head stay in buf.
asio::awaitable<std::size_t> read_head(tcp::socket& sock, std::string& buf);

// Writes all of data; false on error.
asio::awaitable<bool> write_all(tcp::socket& sock, std::string_view data);

// Closes with a TCP reset instead of an orderly FIN.
void close_with_reset(tcp::socket& sock);

// Content-Length of a request head, 0 when absent or unparsable.
std::size_t content_length_of(std::string_view head);

}  // namespace airlock::test

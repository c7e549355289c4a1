#pragma once
// A connection leg that is either plain TCP or TLS over TCP. The session's relay code
// is written once against stream_ref; both branches yield the same awaitable type, so
// choosing costs a branch, not a coroutine frame.

#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <span>

#include "proxy/io/asio.hpp"
#include "proxy/tls/tls_socket_stream.hpp"

namespace airlock::proxy {

// Non-owning view of one leg.
class stream_ref {
 public:
  stream_ref(tcp::socket& sock, tls_socket_stream* tls = nullptr) : sock_(&sock), tls_(tls) {}

  auto read_some(asio::mutable_buffer b) {
    return tls_ != nullptr ? tls_->read_some(b) : sock_->async_read_some(b, use_tuple);
  }

  // b must be contiguous (an array of buffers) and outlive the co_await.
  template <typename Buffers>
  auto write(const Buffers& b) {
    return tls_ != nullptr ? tls_->write(std::span<const asio::const_buffer>(b))
                           : asio::async_write(*sock_, b, use_tuple);
  }

  tcp::socket& socket() { return *sock_; }
  bool is_tls() const { return tls_ != nullptr; }
  bool same_socket(const stream_ref& other) const { return sock_ == other.sock_; }

 private:
  tcp::socket* sock_;
  tls_socket_stream* tls_;
};

// An upstream connection with a stable address, so its TLS layer can refer to the
// socket while the connection moves between a session and the pool.
struct upstream_conn {
  explicit upstream_conn(tcp::socket s) : sock(std::move(s)) {}

  tcp::socket sock;
  std::optional<tls_socket_stream> tls;
  // A request on it carried an injected credential: revoke closes it.
  bool carried_credential = false;

  stream_ref stream() { return stream_ref(sock, tls ? &*tls : nullptr); }
};

using upstream_ptr = std::unique_ptr<upstream_conn>;

}  // namespace airlock::proxy

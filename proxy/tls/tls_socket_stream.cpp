#include "proxy/tls/tls_socket_stream.hpp"

#include "proxy/tls/tls_socket_bio.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <cstring>

namespace airlock::proxy {

namespace {

// The most plaintext handed to SSL_write at once: one TLS record.
constexpr std::size_t max_record = 16 * 1024;
// Kept output past which a read sends it itself rather than leave it to a running write:
// more than that write's one record, so only a flood of replies to the peer reaches it.
constexpr std::size_t max_kept = 2 * max_record;

bool is_wait(int ssl_error) {
  return ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE;
}

tcp::socket::wait_type wait_type_for(int ssl_error) {
  return ssl_error == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write;
}

// The next bytes to hand SSL_write: those from offset `from` of bufs (size bytes in all), up
// to one record. Straight from the buffer when it holds a record or is all that is left;
// otherwise gathered, so that a response head and a short body make one record and one
// send() instead of two. The copy is only valid until the next call on this thread.
std::string_view next_record(std::span<const asio::const_buffer> bufs, std::size_t size,
                             std::size_t from) {
  const std::size_t left = size - from;
  std::size_t i = 0;
  while (from >= bufs[i].size()) {
    from -= bufs[i].size();
    ++i;
  }
  const char* here = static_cast<const char*>(bufs[i].data()) + from;
  const std::size_t in_this = bufs[i].size() - from;
  if (in_this >= max_record || in_this == left) {
    return {here, std::min(in_this, max_record)};
  }
  thread_local std::array<char, max_record> gathered;
  std::size_t len = 0;
  for (; i < bufs.size() && len < max_record; ++i, from = 0) {
    const std::size_t take = std::min(bufs[i].size() - from, max_record - len);
    if (take == 0) {
      continue;  // an empty buffer may have no storage at all (memcpy from null is undefined)
    }
    std::memcpy(gathered.data() + len, static_cast<const char*>(bufs[i].data()) + from, take);
    len += take;
  }
  return {gathered.data(), len};
}

}  // namespace

tls_socket_stream::tls_socket_stream(tcp::socket& sock, SSL* ssl) : sock_(sock), ssl_(ssl) {
  // Partial writes and a moving buffer: write() loops itself and may retry from another
  // address (the BIO never refuses a write, so OpenSSL should not hold one pending anyway).
  // Release: an idle connection keeps no record buffers. No renegotiation: a write then
  // never reads application data off the socket while the reader waits for it.
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                         SSL_MODE_RELEASE_BUFFERS);
  SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);
  const BIO_METHOD* method = tls_socket_bio::method();
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (bio != nullptr) {
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);  // one reference, owned by ssl_
  }
}

tls_socket_stream::~tls_socket_stream() {
  SSL_free(ssl_);
}

error_code tls_socket_stream::map_error(int ssl_error) {
  error_code ec = asio::ssl::error::unexpected_result;
  switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN:
      ec = asio::error::eof;  // close_notify: an orderly end
      break;
    case SSL_ERROR_SYSCALL:
      if (last_errno_ != 0) {
        ec = error_code(last_errno_, asio::error::get_system_category());
      } else if (peer_eof_) {
        ec = asio::ssl::error::stream_truncated;
      } else {
        ec = asio::ssl::error::unspecified_system_error;
      }
      break;
    case SSL_ERROR_SSL: {
      const unsigned long code = ERR_peek_error();
      if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
          ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ec = asio::ssl::error::stream_truncated;  // a FIN without close_notify
      } else if (code != 0) {
        ec = error_code(static_cast<int>(code), asio::error::get_ssl_category());
      }
      break;
    }
    default:
      break;
  }
  ERR_clear_error();
  return ec;
}

int tls_socket_stream::send_kept() {
  while (out_used_ < out_.size()) {
    const ssize_t n = ::send(sock_.native_handle(), out_.data() + out_used_,
                             out_.size() - out_used_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
    }
    out_used_ += static_cast<std::size_t>(n);
  }
  std::string().swap(out_);  // nothing kept while idle
  out_used_ = 0;
  return 0;
}

awaitable<error_code> tls_socket_stream::flush() {
  while (has_output()) {
    if (!sock_.is_open()) {
      co_return asio::error::bad_descriptor;
    }
    if (const int e = send_kept(); e != 0) {
      co_return error_code(e, asio::error::get_system_category());
    }
    if (!has_output()) {
      break;
    }
    const auto [ec] = co_await sock_.async_wait(tcp::socket::wait_write, use_tuple);
    if (ec) {
      co_return ec;
    }
  }
  co_return error_code{};
}

awaitable<error_code> tls_socket_stream::handshake(tls_role role, std::string_view early) {
  early_.assign(early.data(), early.size());
  early_used_ = 0;
  if (role == tls_role::client) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
    limit_.start();
  }
  for (;;) {
    if (!sock_.is_open()) {
      co_return asio::error::bad_descriptor;
    }
    ERR_clear_error();
    last_errno_ = 0;
    const int r = SSL_do_handshake(ssl_);
    const int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    if (err != SSL_ERROR_NONE && !is_wait(err)) {
      send_kept();  // the alert that says why, if the socket takes it now
      co_return map_error(err);
    }
    if (has_output()) {
      // The peer answers only what it has received.
      const error_code ec = co_await flush();
      if (ec) {
        co_return ec;
      }
    }
    if (err == SSL_ERROR_NONE) {
      limit_.stop();
      co_return error_code{};
    }
    const auto [ec] = co_await sock_.async_wait(wait_type_for(err), use_tuple);
    if (ec) {
      co_return ec;
    }
  }
}

awaitable<tls_socket_stream::io_result> tls_socket_stream::read_some(asio::mutable_buffer b) {
  if (b.size() == 0) {
    co_return io_result{error_code{}, 0};
  }
  for (;;) {
    if (!sock_.is_open()) {
      co_return io_result{asio::error::bad_descriptor, 0};
    }
    ERR_clear_error();
    last_errno_ = 0;
    std::size_t n = 0;
    const int r = SSL_read_ex(ssl_, b.data(), b.size(), &n);
    const int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    if (err != SSL_ERROR_NONE && !is_wait(err)) {
      send_kept();  // an alert, if the socket takes it now
      co_return io_result{map_error(err), 0};
    }
    // Output of a read (a key update reply): a write under way sends it with its own;
    // otherwise it goes now. Past a bound the read waits for it even then, so a peer that
    // requests updates but reads nothing cannot make the kept output grow.
    if (has_output() && (!writing_ || out_.size() - out_used_ > max_kept)) {
      const error_code ec = co_await flush();
      if (ec && err != SSL_ERROR_NONE) {
        co_return io_result{ec, 0};
      }
    }
    if (err == SSL_ERROR_NONE) {
      co_return io_result{error_code{}, n};  // a failed flush shows on the next operation
    }
    const auto [ec] = co_await sock_.async_wait(wait_type_for(err), use_tuple);
    if (ec) {
      co_return io_result{ec, 0};
    }
  }
}

awaitable<tls_socket_stream::io_result> tls_socket_stream::write(
    std::span<const asio::const_buffer> bufs) {
  struct writing_flag {
    explicit writing_flag(bool& f) : flag(f) { flag = true; }
    ~writing_flag() { flag = false; }
    bool& flag;
  };
  const writing_flag busy(writing_);
  std::size_t size = 0;
  for (const asio::const_buffer& b : bufs) {
    size += b.size();
  }
  std::size_t total = 0;
  while (total < size) {
    if (!sock_.is_open()) {
      co_return io_result{asio::error::bad_descriptor, total};
    }
    // One record per call: the BIO keeps what the socket does not take, so this bounds it.
    // A retry after WANT_READ passes the same bytes again, as OpenSSL requires.
    const std::string_view record = next_record(bufs, size, total);
    ERR_clear_error();
    last_errno_ = 0;
    std::size_t n = 0;
    const int r = SSL_write_ex(ssl_, record.data(), record.size(), &n);
    const int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    if (err != SSL_ERROR_NONE && !is_wait(err)) {
      send_kept();
      co_return io_result{map_error(err), total};
    }
    if (err == SSL_ERROR_NONE) {
      total += n;
    }
    // What the socket did not take yet (this record, a read's reply) goes before more.
    if (has_output()) {
      const error_code ec = co_await flush();
      if (ec) {
        co_return io_result{ec, total};
      }
    }
    if (err != SSL_ERROR_NONE) {
      // WANT_READ: the rest of a post-handshake message must arrive first.
      const auto [ec] = co_await sock_.async_wait(wait_type_for(err), use_tuple);
      if (ec) {
        co_return io_result{ec, total};
      }
    }
  }
  co_return io_result{error_code{}, total};
}

awaitable<error_code> tls_socket_stream::shutdown() {
  for (;;) {
    if (!sock_.is_open()) {
      co_return asio::error::bad_descriptor;
    }
    ERR_clear_error();
    last_errno_ = 0;
    const int r = SSL_shutdown(ssl_);
    const int err = r >= 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    if (err != SSL_ERROR_NONE && !is_wait(err)) {
      send_kept();
      co_return map_error(err);
    }
    if (has_output()) {
      const error_code ec = co_await flush();
      if (ec) {
        co_return ec;
      }
    }
    if (err == SSL_ERROR_NONE) {
      co_return error_code{};  // close_notify is out; the peer's is not awaited
    }
    const auto [ec] = co_await sock_.async_wait(wait_type_for(err), use_tuple);
    if (ec) {
      co_return ec;
    }
  }
}

}  // namespace airlock::proxy

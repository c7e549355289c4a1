#include "proxy/tls/tls_socket_bio.hpp"

#include <openssl/bio.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proxy/tls/tls_socket_stream.hpp"

namespace airlock::proxy {

tls_socket_stream& tls_socket_bio::owner(BIO* b) {
  return *static_cast<tls_socket_stream*>(BIO_get_data(b));
}

int tls_socket_bio::write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  tls_socket_stream& s = owner(b);
  if (len <= 0) {
    return 0;
  }
  const auto size = static_cast<std::size_t>(len);
  if (s.has_output()) {
    if (const int e = s.send_kept(); e != 0) {
      s.last_errno_ = e;
      return -1;
    }
  }
  std::size_t sent = 0;
  if (!s.has_output()) {
    ssize_t n = 0;
    do {
      n = ::send(s.sock_.native_handle(), data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      s.last_errno_ = errno;
      return -1;
    }
    sent = n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  s.out_.append(data + sent, size - sent);
  return len;
}

int tls_socket_bio::read(BIO* b, char* out, int len) {
  BIO_clear_retry_flags(b);
  if (len <= 0) {
    return 0;
  }
  tls_socket_stream& s = owner(b);
  len = static_cast<int>(s.limit_.allow(static_cast<std::size_t>(len)));
  if (len == 0) {
    s.last_errno_ = EMSGSIZE;  // see handshake_limit
    return -1;
  }
  if (s.early_used_ < s.early_.size()) {
    const std::size_t n = std::min(static_cast<std::size_t>(len), s.early_.size() - s.early_used_);
    if (!s.limit_.take(s.early_.data() + s.early_used_, n)) {
      s.last_errno_ = EMSGSIZE;
      return -1;
    }
    std::memcpy(out, s.early_.data() + s.early_used_, n);
    s.early_used_ += n;
    if (s.early_used_ == s.early_.size()) {
      std::string().swap(s.early_);
      s.early_used_ = 0;
    }
    return static_cast<int>(n);
  }
  ssize_t n = 0;
  do {
    n = ::recv(s.sock_.native_handle(), out, static_cast<std::size_t>(len), MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    if (!s.limit_.take(out, static_cast<std::size_t>(n))) {
      s.last_errno_ = EMSGSIZE;
      return -1;
    }
    return static_cast<int>(n);
  }
  if (n == 0) {
    s.peer_eof_ = true;  // BIO_eof() then tells OpenSSL the input ended, not paused
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    BIO_set_retry_read(b);
  } else {
    s.last_errno_ = errno;
  }
  return -1;
}

long tls_socket_bio::ctrl(BIO* b, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // kept output is sent by the stream's operations, which can wait
    case BIO_CTRL_EOF:
      return owner(b).peer_eof_ ? 1 : 0;
    default:
      return 0;
  }
}

int tls_socket_bio::create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

// One method table for the process, made on first use; null if OpenSSL cannot make it.
const BIO_METHOD* tls_socket_bio::method() {
  static BIO_METHOD* const m = [] {
    const int index = BIO_get_new_index();
    BIO_METHOD* made =
        index < 0 ? nullptr : BIO_meth_new(index | BIO_TYPE_SOURCE_SINK, "airlock socket");
    if (made != nullptr) {
      BIO_meth_set_write(made, write);
      BIO_meth_set_read(made, read);
      BIO_meth_set_ctrl(made, ctrl);
      BIO_meth_set_create(made, create);
    }
    return made;
  }();
  return m;
}

}  // namespace airlock::proxy

#include "tests/support/raw_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace airlock::test {

namespace {

using clock = std::chrono::steady_clock;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

int remaining_ms(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Connects a fresh socket with a timeout; returns the fd, or -errno.
int connect_with_timeout(std::uint16_t port, milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return -errno;
  }
  const sockaddr_in addr = loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      const int e = errno;
      ::close(fd);
      return -e;
    }
    pollfd p{fd, POLLOUT, 0};
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r <= 0) {
      ::close(fd);
      return -ETIMEDOUT;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ::close(fd);
      return -err;
    }
  }
  // Blocking from here on: every read is preceded by a poll with a deadline.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> find_header(std::string_view head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos || end == start) {
      break;
    }
    const std::string_view line = head.substr(start, end - start);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
      }
      return std::string(value);
    }
    pos = end;
  }
  return std::nullopt;
}

// True when chunked is the final transfer coding: it frames the body (RFC 9112 6.3);
// codings before it ("gzip, chunked") are left in the body as they came.
bool chunked_last(std::string_view codings) {
  const auto comma = codings.rfind(',');
  std::string_view last = comma == std::string_view::npos ? codings : codings.substr(comma + 1);
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) {
    last.remove_prefix(1);
  }
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) {
    last.remove_suffix(1);
  }
  return iequals(last, "chunked");
}

enum class decode { complete, incomplete, malformed };

// Decodes a whole chunked body from data; consumed covers trailers and the final CRLF.
// trailers: the trailer field lines, each with its CRLF.
decode decode_chunked(std::string_view data, std::string& body, std::string& trailers,
                      std::size_t& consumed) {
  body.clear();
  trailers.clear();
  std::size_t pos = 0;
  for (;;) {
    const auto eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      return decode::incomplete;
    }
    std::size_t size = 0;
    std::size_t i = pos;
    for (; i < eol && std::isxdigit(static_cast<unsigned char>(data[i])); ++i) {
      const int c = std::tolower(static_cast<unsigned char>(data[i]));
      size = size * 16 + static_cast<std::size_t>(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    if (i == pos) {
      return decode::malformed;
    }
    pos = eol + 2;
    if (size == 0) {
      // Trailer fields until an empty line.
      for (;;) {
        const auto end = data.find("\r\n", pos);
        if (end == std::string_view::npos) {
          return decode::incomplete;
        }
        const bool empty = end == pos;
        if (!empty) {
          trailers.append(data.substr(pos, end + 2 - pos));
        }
        pos = end + 2;
        if (empty) {
          consumed = pos;
          return decode::complete;
        }
      }
    }
    if (data.size() < pos + size + 2) {
      return decode::incomplete;
    }
    body.append(data.substr(pos, size));
    if (data.substr(pos + size, 2) != "\r\n") {
      return decode::malformed;
    }
    pos += size + 2;
  }
}

}  // namespace

std::optional<std::string> http_response::header(std::string_view name) const {
  return find_header(head, name);
}

raw_client::raw_client(std::uint16_t port, milliseconds timeout) {
  fd_ = connect_with_timeout(port, timeout);
  if (fd_ < 0) {
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " +
                             std::strerror(-fd_));
  }
}

raw_client::~raw_client() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
  }
  if (ctx_ != nullptr) {
    SSL_CTX_free(ctx_);
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool raw_client::send(std::string_view bytes) {
  if (ssl_ != nullptr) {
    // A stalled peer must not hang the test: the deadline bounds the whole send.
    const auto deadline = clock::now() + milliseconds(10000);
    while (!bytes.empty()) {
      const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (!wait_ssl(SSL_get_error(ssl_, n), deadline)) {
        return false;
      }
    }
    return true;
  }
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void raw_client::shutdown_send() {
  if (ssl_ != nullptr) {
    SSL_shutdown(ssl_);
  }
  ::shutdown(fd_, SHUT_WR);
}

bool raw_client::wait_ssl(int ssl_error, clock::time_point deadline) {
  short events = 0;
  if (ssl_error == SSL_ERROR_WANT_READ) {
    events = POLLIN;
  } else if (ssl_error == SSL_ERROR_WANT_WRITE) {
    events = POLLOUT;
  } else {
    return false;
  }
  pollfd p{fd_, events, 0};
  int r = 0;
  do {
    r = ::poll(&p, 1, remaining_ms(deadline));
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

std::string raw_client::start_tls(const std::string& host, const std::filesystem::path& ca_file,
                                  milliseconds timeout) {
  buffer_.clear();
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr || SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
    return "cannot load " + ca_file.string();
  }
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1 ||
      SSL_set_tlsext_host_name(ssl_, host.c_str()) != 1 || SSL_set1_host(ssl_, host.c_str()) != 1) {
    return "cannot set up TLS for " + host;
  }
  // Non-blocking from here on, so every TLS read and write can honour a deadline.
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  const auto deadline = clock::now() + timeout;
  for (;;) {
    ERR_clear_error();
    const int r = SSL_connect(ssl_);
    if (r == 1) {
      return "";
    }
    const int err = SSL_get_error(ssl_, r);
    if (!wait_ssl(err, deadline)) {
      const long verify = SSL_get_verify_result(ssl_);
      char reason[256] = "timed out";
      if (const unsigned long code = ERR_get_error(); code != 0) {
        ERR_error_string_n(code, reason, sizeof(reason));
      }
      return std::string("TLS handshake failed: ") + reason +
             (verify != X509_V_OK ? std::string(" (") + X509_verify_cert_error_string(verify) + ")"
                                  : std::string());
    }
  }
}

bool raw_client::fill(clock::time_point deadline) {
  if (closed_) {
    return false;
  }
  if (ssl_ != nullptr) {
    char chunk[16384];
    for (;;) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, chunk, sizeof(chunk));
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (!wait_ssl(err, deadline)) {
          return false;
        }
        continue;
      }
      // close_notify is an orderly end; anything else (a bare FIN included) counts as a reset.
      closed_ = true;
      reset_ = err != SSL_ERROR_ZERO_RETURN;
      return false;
    }
  }
  pollfd p{fd_, POLLIN, 0};
  int r = 0;
  do {
    r = ::poll(&p, 1, remaining_ms(deadline));
  } while (r < 0 && errno == EINTR);
  if (r <= 0) {
    return false;
  }
  char chunk[16384];
  ssize_t n = 0;
  do {
    n = ::recv(fd_, chunk, sizeof(chunk), 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    closed_ = true;
    reset_ = n < 0;
    return false;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::string raw_client::read_some(milliseconds timeout) {
  fill(clock::now() + timeout);
  return take_buffered();
}

bool raw_client::read_until(std::string_view needle, milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (buffer_.find(needle) == std::string::npos) {
    if (!fill(deadline)) {
      return buffer_.find(needle) != std::string::npos;
    }
  }
  return true;
}

std::optional<http_response> raw_client::read_response(milliseconds timeout, bool bodiless) {
  const auto deadline = clock::now() + timeout;
  std::size_t head_end = 0;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) {
      return std::nullopt;
    }
  }
  http_response r;
  r.head = buffer_.substr(0, head_end + 4);
  if (r.head.size() < 12 || r.head.compare(0, 5, "HTTP/") != 0) {
    return std::nullopt;
  }
  r.status = std::atoi(r.head.c_str() + 9);
  const std::size_t body_start = head_end + 4;
  const bool no_body =
      bodiless || (r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304;
  const auto te = r.header("Transfer-Encoding");
  const auto cl = r.header("Content-Length");
  if (no_body) {
    buffer_.erase(0, body_start);
    return r;
  }
  if (te && chunked_last(*te)) {
    for (;;) {
      std::size_t consumed = 0;
      const auto st = decode_chunked(std::string_view(buffer_).substr(body_start), r.body,
                                     r.trailers, consumed);
      if (st == decode::complete) {
        buffer_.erase(0, body_start + consumed);
        return r;
      }
      if (st == decode::malformed || !fill(deadline)) {
        return std::nullopt;
      }
    }
  }
  if (cl) {
    const std::size_t length = std::stoull(*cl);
    while (buffer_.size() < body_start + length) {
      if (!fill(deadline)) {
        return std::nullopt;
      }
    }
    r.body = buffer_.substr(body_start, length);
    buffer_.erase(0, body_start + length);
    return r;
  }
  while (fill(deadline)) {
  }
  if (!closed_) {
    return std::nullopt;
  }
  r.body = buffer_.substr(body_start);
  buffer_.clear();
  return r;
}

bool raw_client::wait_closed(milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (!closed_ && clock::now() < deadline) {
    fill(deadline);
  }
  return closed_;
}

std::string raw_client::take_buffered() {
  std::string out;
  out.swap(buffer_);
  return out;
}

std::uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int e = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    throw std::runtime_error(std::string("cannot bind 127.0.0.1:0: ") + std::strerror(e));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

int try_connect(std::uint16_t port, milliseconds timeout) {
  const int fd = connect_with_timeout(port, timeout);
  if (fd < 0) {
    return -fd;
  }
  ::close(fd);
  return 0;
}

}  // namespace airlock::test

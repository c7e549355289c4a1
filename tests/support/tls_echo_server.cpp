#include "tests/support/tls_echo_server.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <stdexcept>
#include <thread>

namespace airlock::test {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

asio::ssl::context make_context(const cert_pair& cert, int max_version) {
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  if (max_version != 0) {
    // Old protocols need SHA-1 and the like, which OpenSSL 3 refuses above level 0.
    SSL_CTX* native = ctx.native_handle();
    if (SSL_CTX_set_cipher_list(native, "DEFAULT:@SECLEVEL=0") != 1 ||
        SSL_CTX_set_min_proto_version(native, TLS1_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(native, max_version) != 1) {
      throw std::runtime_error("tls_echo_server: cannot restrict the protocol version");
    }
  }
  ctx.use_certificate_chain_file(cert.cert.string(), ec);
  if (!ec) {
    ctx.use_private_key_file(cert.key.string(), asio::ssl::context::pem, ec);
  }
  if (ec) {
    throw std::runtime_error("tls_echo_server: cannot load " + cert.cert.string() + ": " +
                             ec.message());
  }
  return ctx;
}

}  // namespace

std::string echo_response(const std::string& request) {
  const auto end = request.find("\r\n\r\n");
  const std::string head = request.substr(0, end == std::string::npos ? end : end + 4);
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(head.size()) + "\r\n\r\n" + head;
}

std::vector<std::string> field_values(std::string_view head, std::string_view name) {
  std::vector<std::string> out;
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
      out.emplace_back(trim(line.substr(colon + 1)));
    }
    pos = end;
  }
  return out;
}

std::string request_line(std::string_view head) {
  return std::string(head.substr(0, head.find("\r\n")));
}

tls_echo_server::tls_echo_server(tls_echo_options opts)
    : opts_(std::move(opts)),
      ctx_(make_context(opts_.cert, opts_.max_version)),
      server_([this](tcp::socket s) { return serve(std::move(s)); }) {}

std::size_t tls_echo_server::handshakes() const {
  std::lock_guard lock(mutex_);
  return handshakes_;
}

std::size_t tls_echo_server::resumed() const {
  std::lock_guard lock(mutex_);
  return resumed_;
}

asio::awaitable<void> tls_echo_server::serve(tcp::socket sock) {
  asio::ssl::stream<tcp::socket> tls(std::move(sock), ctx_);
  // A peer that stalls in the handshake is ended by stop(); tests never wait on it.
  auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (hec) {
    co_return;
  }
  {
    std::lock_guard lock(mutex_);
    ++handshakes_;
    if (SSL_session_reused(tls.native_handle()) == 1) {
      ++resumed_;
    }
  }
  std::string buf;
  for (;;) {
    const auto head_end = buf.find("\r\n\r\n");
    const std::size_t length = head_end == std::string::npos
                                   ? 0
                                   : head_end + 4 + content_length_of(buf.substr(0, head_end + 4));
    if (head_end == std::string::npos || buf.size() < length) {
      char chunk[16384];
      auto [ec, n] = co_await tls.async_read_some(asio::buffer(chunk), use_tuple);
      if (ec) {
        co_return;
      }
      log_.add_bytes(std::string_view(chunk, n));
      buf.append(chunk, n);
      continue;
    }
    const std::string request = buf.substr(0, length);
    buf.erase(0, length);
    log_.add_request(request);
    if (!co_await answer(tls, request)) {
      co_return;
    }
  }
}

asio::awaitable<bool> tls_echo_server::answer(asio::ssl::stream<tcp::socket>& tls,
                                              const std::string& request) {
  std::vector<std::string> parts;
  if (opts_.respond_parts) {
    parts = opts_.respond_parts(request);
  } else {
    parts.push_back(opts_.respond ? opts_.respond(request) : echo_response(request));
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0 && opts_.part_gap.count() > 0) {
      asio::steady_timer gap(tls.get_executor(), opts_.part_gap);
      auto [tec] = co_await gap.async_wait(use_tuple);
      (void)tec;
    }
    auto [wec, written] = co_await asio::async_write(tls, asio::buffer(parts[i]), use_tuple);
    if (wec) {
      co_return false;
    }
  }
  if (opts_.close_after_response) {
    // close_notify, so the end is not a truncation; a peer that never answers it gets the
    // TCP close two seconds later.
    auto done = std::make_shared<bool>(false);
    asio::steady_timer limit(tls.get_executor(), std::chrono::seconds(2));
    limit.async_wait([&tls, done](boost::system::error_code ec) {
      if (!ec && !*done) {
        boost::system::error_code ignored;
        tls.next_layer().close(ignored);
      }
    });
    auto [sec] = co_await tls.async_shutdown(use_tuple);
    (void)sec;
    *done = true;
    limit.cancel();
    co_return false;
  }
  co_return true;
}

}  // namespace airlock::test

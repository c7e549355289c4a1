#include "tests/support/loopback_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <exception>

namespace airlock::test {

loopback_server::loopback_server(handler serve)
    : serve_(std::move(serve)),
      io_(std::make_unique<asio::io_context>()),
      acceptor_(std::in_place, *io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
  port_ = acceptor_->local_endpoint().port();
  asio::co_spawn(*io_, accept_loop(), asio::detached);
  thread_ = std::thread([this] { io_->run(); });
}

loopback_server::~loopback_server() {
  stop();
}

void loopback_server::stop() {
  if (!thread_.joinable()) {
    return;
  }
  io_->stop();
  thread_.join();
  // I/O objects must go before their context; destroying the context then destroys
  // the suspended connection coroutines, which closes their sockets.
  acceptor_.reset();
  io_.reset();
}

std::string loopback_server::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

bool loopback_server::wait_connections_ended(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ended_.load() < accepted_.load()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

asio::awaitable<void> loopback_server::accept_loop() {
  for (;;) {
    auto [ec, sock] = co_await acceptor_->async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) {
        co_return;
      }
      continue;
    }
    accepted_.fetch_add(1);
    boost::system::error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(acceptor_->get_executor(), serve_(std::move(sock)),
                   [this](const std::exception_ptr&) { ended_.fetch_add(1); });
  }
}

asio::awaitable<std::size_t> read_head(tcp::socket& sock, std::string& buf) {
  for (;;) {
    const auto end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      co_return end + 4;
    }
    char chunk[16384];
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), use_tuple);
    if (ec) {
      co_return 0;
    }
    buf.append(chunk, n);
  }
}

asio::awaitable<bool> write_all(tcp::socket& sock, std::string_view data) {
  auto [ec, n] =
      co_await asio::async_write(sock, asio::buffer(data.data(), data.size()), use_tuple);
  co_return !ec;
}

void close_with_reset(tcp::socket& sock) {
  boost::system::error_code ignored;
  sock.set_option(asio::socket_base::linger(true, 0), ignored);
  sock.close(ignored);
}

std::size_t content_length_of(std::string_view head) {
  std::string lower(head);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) {
    return 0;
  }
  std::size_t i = at + 17;
  while (i < lower.size() && (lower[i] == ' ' || lower[i] == '\t')) {
    ++i;
  }
  std::size_t value = 0;
  while (i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i]))) {
    value = value * 10 + static_cast<std::size_t>(lower[i] - '0');
    ++i;
  }
  return value;
}

}  // namespace airlock::test

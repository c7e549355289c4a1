#include "tests/support/fault_server.hpp"

namespace airlock::test {

fault_server::fault_server(fault mode)
    : mode_(mode), server_([this](tcp::socket s) { return serve(std::move(s)); }) {}

asio::awaitable<void> fault_server::serve(tcp::socket sock) {
  if (mode_ == fault::accept_then_reset) {
    close_with_reset(sock);
    co_return;
  }
  std::string buf;
  if (co_await read_head(sock, buf) == 0) {
    co_return;
  }
  switch (mode_) {
    case fault::accept_then_reset:
      break;
    case fault::reset_after_head: {
      const std::string partial =
          "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(100, 'r');
      co_await write_all(sock, partial);
      close_with_reset(sock);
      break;
    }
    case fault::truncated_body: {
      const std::string partial =
          "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(500, 't');
      co_await write_all(sock, partial);
      boost::system::error_code ignored;
      sock.shutdown(tcp::socket::shutdown_send, ignored);
      sock.close(ignored);
      break;
    }
    case fault::close_delimited_reset: {
      const std::string partial =
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + std::string(100, 'c');
      co_await write_all(sock, partial);
      close_with_reset(sock);
      break;
    }
    case fault::stall:
      // Keep reading so the connection stays open until the peer gives up.
      for (;;) {
        char chunk[4096];
        auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), use_tuple);
        if (ec) {
          break;
        }
      }
      break;
  }
}

}  // namespace airlock::test

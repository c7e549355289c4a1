#include "tests/support/fault_server.hpp"

namespace airlock::test {

namespace {

// What a faulty upstream sends once it has read the request head, and what it does then.
struct broken_response {
  enum class ending { reset, close, stall };
  std::string bytes;
  ending then = ending::stall;
};

const std::string chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

broken_response broken_response_for(fault mode) {
  using ending = broken_response::ending;
  switch (mode) {
    case fault::reset_after_head:
      return {"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(100, 'r'),
              ending::reset};
    case fault::truncated_body:
      return {"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(500, 't'),
              ending::close};
    case fault::close_delimited_reset:
      return {"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + std::string(100, 'c'),
              ending::reset};
    case fault::truncated_chunked:
      return {chunked_head + "5\r\nhello\r\n", ending::close};
    case fault::reset_mid_chunked:
      return {chunked_head + "5\r\nhello\r\na\r\n01234", ending::reset};
    case fault::stall_mid_chunked:
      return {chunked_head + "5\r\nhello\r\n", ending::stall};
    case fault::accept_then_reset:
    case fault::stall:
      break;
  }
  return {};
}

}  // namespace

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
  const broken_response response = broken_response_for(mode_);
  if (!response.bytes.empty() && !co_await write_all(sock, response.bytes)) {
    co_return;
  }
  switch (response.then) {
    case broken_response::ending::reset:
      close_with_reset(sock);
      break;
    case broken_response::ending::close: {
      boost::system::error_code ignored;
      sock.shutdown(tcp::socket::shutdown_send, ignored);
      sock.close(ignored);
      break;
    }
    case broken_response::ending::stall:
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

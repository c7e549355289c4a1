#include "tests/support/sse_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <cstdio>

namespace airlock::test {

sse_server::sse_server(sse_options opts)
    : opts_(opts), server_([this](tcp::socket s) { return serve(std::move(s)); }) {}

std::vector<sse_server::time_point> sse_server::sent_times() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

std::string sse_server::event_text(int i) {
  return "data: event " + std::to_string(i);
}

asio::awaitable<void> sse_server::serve(tcp::socket sock) {
  std::string buf;
  if (co_await read_head(sock, buf) == 0) {
    co_return;
  }
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  if (!co_await write_all(sock, head)) {
    co_return;
  }
  asio::steady_timer timer(sock.get_executor());
  for (int i = 0; i < opts_.events; ++i) {
    if (i > 0) {
      timer.expires_after(opts_.interval);
      co_await timer.async_wait(use_tuple);
    }
    const std::string event = event_text(i) + "\n\n";
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", event.size());
    const std::string chunk = size + event + "\r\n";
    {
      std::lock_guard lock(mutex_);
      sent_.push_back(std::chrono::steady_clock::now());
    }
    if (!co_await write_all(sock, chunk)) {
      co_return;
    }
  }
  co_await write_all(sock, "0\r\n\r\n");
  // Stay until the client closes, as a keep-alive server would.
  for (;;) {
    char chunk[1024];
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), use_tuple);
    if (ec) {
      co_return;
    }
  }
}

}  // namespace airlock::test

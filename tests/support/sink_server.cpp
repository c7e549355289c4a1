#include "tests/support/sink_server.hpp"

#include <array>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "tests/support/files.hpp"

namespace airlock::test {

namespace http = boost::beast::http;

sink_server::sink_server(sink_options opts)
    : opts_(opts), server_([this](tcp::socket s) { return serve(std::move(s)); }) {}

std::vector<sink_result> sink_server::results() const {
  std::lock_guard lock(mutex_);
  return results_;
}

asio::awaitable<void> sink_server::serve(tcp::socket sock) {
  boost::beast::flat_buffer buf;
  std::array<char, 64 * 1024> chunk{};
  for (;;) {
    http::request_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    auto [ec, n] = co_await http::async_read_header(sock, buf, parser, use_tuple);
    if (ec) {
      co_return;
    }
    sink_result r;
    const auto& req = parser.get();
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.chunked = parser.chunked();
    r.expect_continue = req[http::field::expect] == "100-continue";
    std::size_t index = 0;
    {
      std::lock_guard lock(mutex_);
      index = results_.size();
      results_.push_back(r);
    }
    if (r.expect_continue && opts_.send_continue) {
      if (!co_await write_all(sock, "HTTP/1.1 100 Continue\r\n\r\n")) {
        co_return;
      }
    }
    fnv1a hash;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      auto [rec, rn] = co_await http::async_read(sock, buf, parser, use_tuple);
      if (rec && rec != http::error::need_buffer) {
        co_return;
      }
      const std::size_t got = chunk.size() - parser.get().body().size;
      hash.update(std::string_view(chunk.data(), got));
      r.bytes += got;
    }
    r.fnv1a = hash.value();
    r.complete = true;
    {
      std::lock_guard lock(mutex_);
      results_[index] = r;
    }
    const std::string body = "bytes=" + std::to_string(r.bytes) + " fnv1a=" + to_hex(r.fnv1a) +
                             " chunked=" + (r.chunked ? "1" : "0") + "\n";
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body;
    if (!co_await write_all(sock, response) || !parser.keep_alive()) {
      co_return;
    }
  }
}

}  // namespace airlock::test

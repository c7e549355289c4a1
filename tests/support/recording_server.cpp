#include "tests/support/recording_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <thread>

namespace airlock::test {

recording_server::recording_server(recording_options opts)
    : opts_(std::move(opts)), server_([this](tcp::socket s) { return serve(std::move(s)); }) {}

asio::awaitable<void> recording_server::serve(tcp::socket sock) {
  // Everything this connection received, logged when it ends (on every way out).
  struct connection_record {
    request_log& log;
    std::string received;
    ~connection_record() { log.add_ended_connection(std::move(received)); }
  } record{log_, {}};
  std::string buf;         // unparsed input
  std::size_t served = 0;  // requests answered on this connection
  for (;;) {
    // Frame the next request if the buffer holds one; otherwise read more.
    const auto head_end = buf.find("\r\n\r\n");
    const std::size_t length = head_end == std::string::npos
                                   ? 0
                                   : head_end + 4 + content_length_of(buf.substr(0, head_end + 4));
    if (head_end == std::string::npos || buf.size() < length) {
      char chunk[16384];
      auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), use_tuple);
      if (ec) {
        co_return;
      }
      log_.add_bytes(std::string_view(chunk, n));
      record.received.append(chunk, n);
      buf.append(chunk, n);
      continue;
    }
    log_.add_request(buf.substr(0, length));
    buf.erase(0, length);
    // Like a server whose keep-alive timer fired just as the request came, or one that
    // has gone away since its first answer.
    const bool reused = served > 0 && (opts_.mode == keep_alive_mode::drop_reused ||
                                       opts_.mode == keep_alive_mode::reset_reused);
    if (reused || (opts_.mode == keep_alive_mode::answer_first_only && answered_.load() > 0)) {
      if (opts_.mode == keep_alive_mode::reset_reused) {
        close_with_reset(sock);
      }
      co_return;
    }
    if (opts_.delay.count() > 0) {
      asio::steady_timer timer(sock.get_executor(), opts_.delay);
      co_await timer.async_wait(use_tuple);
    }
    if (!co_await write_all(sock, opts_.response)) {
      co_return;
    }
    ++served;
    answered_.fetch_add(1);
    if (opts_.mode == keep_alive_mode::close_after_response) {
      boost::system::error_code ignored;
      sock.shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
  }
}

}  // namespace airlock::test

#include "proxy/control/control_connection.hpp"

#include <openssl/crypto.h>

#include <array>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "secrets/wiping_allocator.hpp"

namespace airlock::proxy::control {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// Every block these free is wiped first: the body may be a pushed secret, and the read
// buffer holds whatever arrived with the head.
using wiping_buffer = beast::basic_flat_buffer<secrets::wiping_allocator<char>>;
using wiping_body =
    http::basic_string_body<char, std::char_traits<char>, secrets::wiping_allocator<char>>;
using request_parser = http::request_parser<wiping_body, secrets::wiping_allocator<char>>;

http::response<http::string_body> to_beast(const control_response& r, unsigned version,
                                           bool keep_alive, bool head) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "airlock");
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : r.headers) {
    res.set(name, value);
  }
  res.body() = r.body + "\n";
  res.keep_alive(keep_alive);
  res.prepare_payload();
  if (head) {
    res.body().clear();  // Content-Length stays that of the GET
  }
  return res;
}

// The bytes still unread (a pipelined request) move to a new buffer; the old one is
// freed, and so wiped, with the request it held.
void keep_only_unread(wiping_buffer& buffer) {
  wiping_buffer fresh(buffer.max_size());
  if (buffer.size() > 0) {
    fresh.commit(asio::buffer_copy(fresh.prepare(buffer.size()), buffer.data()));
  }
  buffer = std::move(fresh);
}

template <class Stream>
awaitable<void> write_once(Stream& stream, const control_response& r, bool keep_alive,
                           const connection_limits& limits, unsigned version = 11,
                           bool head = false) {
  const auto res = to_beast(r, version, keep_alive, head);
  stream.expires_after(limits.io_timeout);
  auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
  (void)ec;
  (void)n;
}

// After a refusal sent before the request was read: closing with its bytes unread would
// reset the connection, and the client could lose the answer. Reads (and drops) a little
// of what it still sends, briefly, after saying we are done.
template <class Stream>
awaitable<void> linger_briefly(Stream& stream) {
  error_code ec;
  stream.socket().shutdown(asio::socket_base::shutdown_send, ec);
  std::array<char, 4096> sink{};
  stream.expires_after(std::chrono::seconds(1));
  for (std::size_t total = 0; total < 64 * 1024 && !ec;) {
    std::size_t n = 0;
    std::tie(ec, n) = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    total += n;
  }
}

// Reads one request; nullopt and a refusal (or nothing, for a quiet end) otherwise.
template <class Stream>
awaitable<bool> read_request(Stream& stream, wiping_buffer& buffer, request_parser& parser,
                             const connection_limits& limits, connection_slots::slot* slot,
                             std::optional<control_response>& refusal) {
  parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
  parser.body_limit(limits.body_bytes);
  stream.expires_after(limits.header_timeout);
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  if (ec) {
    if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != beast::error::timeout &&
        ec != asio::error::connection_reset && ec != asio::error::operation_aborted) {
      refusal = json_error(400, "bad_request", ec.message());
    }
    co_return false;
  }
  if (slot != nullptr) {
    slot->busy = true;
  }
  // A chunked body would be read without a known size; secrets come with Content-Length.
  if (parser.chunked()) {
    refusal = json_error(411, "length_required", "send the body with Content-Length");
    co_return false;
  }
  if (parser.content_length().value_or(0) > limits.body_bytes) {
    refusal = json_error(413, "too_large", "bodies here are at most 64 KiB");
    co_return false;
  }
  stream.expires_after(limits.io_timeout);
  std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_tuple);
  co_return !ec;
}

}  // namespace

template <class Stream>
awaitable<void> serve_control(Stream stream, control_handler handler, connection_slots* slots,
                              std::optional<connection_slots::handle> slot,
                              std::optional<control_response> refusal, connection_limits limits) {
  struct release_on_exit {
    connection_slots* slots;
    std::optional<connection_slots::handle> slot;
    ~release_on_exit() {
      if (slots != nullptr && slot) {
        slots->release(*slot);
      }
    }
  } release{slots, slot};
  if (refusal) {
    co_await write_once(stream, *refusal, false, limits);
    co_await linger_briefly(stream);
    co_return;
  }
  if (slot) {
    if ((*slot)->evicted) {
      co_return;  // evicted before it began
    }
    (*slot)->close = [&stream] { stream.close(); };
  }
  wiping_buffer buffer(limits.header_bytes + limits.body_bytes);
  int failures = 0;
  for (;;) {
    connection_slots::slot* s = slot ? &**slot : nullptr;
    if (s != nullptr) {
      s->busy = false;
      if (s->evicted) {
        co_return;
      }
    }
    request_parser parser;
    std::optional<control_response> bad;
    const bool complete = co_await read_request(stream, buffer, parser, limits, s, bad);
    if (!complete) {
      if (bad) {
        co_await write_once(stream, *bad, false, limits);
      }
      co_return;
    }
    auto& req = parser.get();
    auto& body = req.body();
    const std::string authorization(req[http::field::authorization]);
    const control_request creq{req.method_string(), req.target(), authorization,
                               std::span<char>(body.data(), body.size())};
    const control_response result = handler(creq);
    OPENSSL_cleanse(body.data(), body.size());
    keep_only_unread(buffer);
    bool keep_alive = req.keep_alive();
    if (result.status == 401) {
      // Guessing costs time on this connection, and a few wrong tokens end it.
      asio::steady_timer pause(stream.get_executor(), limits.failure_delay);
      co_await pause.async_wait(use_tuple);
      keep_alive = keep_alive && ++failures < limits.failures_per_connection;
    }
    co_await write_once(stream, result, keep_alive, limits, req.version(),
                        req.method() == http::verb::head);
    if (!keep_alive) {
      co_return;
    }
  }
}

template awaitable<void> serve_control(beast::tcp_stream, control_handler, connection_slots*,
                                       std::optional<connection_slots::handle>,
                                       std::optional<control_response>, connection_limits);
template awaitable<void> serve_control(beast::basic_stream<asio::local::stream_protocol>,
                                       control_handler, connection_slots*,
                                       std::optional<connection_slots::handle>,
                                       std::optional<control_response>, connection_limits);

}  // namespace airlock::proxy::control

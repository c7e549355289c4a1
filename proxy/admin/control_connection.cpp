#include "proxy/admin/control_connection.hpp"

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

enum class read_result { complete, ended, refused, unauthorised };

// Reads one request. The caller is checked on the head alone, before any body is read or
// the connection counts as busy: an unauthenticated caller can neither pin a slot with a
// body it never sends nor make airlock hold one.
template <class Stream>
awaitable<read_result> read_request(Stream& stream, wiping_buffer& buffer, request_parser& parser,
                                    const connection_limits& limits, const serve_context& ctx,
                                    std::optional<control_response>& refusal) {
  parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
  parser.body_limit(limits.body_bytes);
  stream.expires_after(limits.header_timeout);
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  if (ec) {
    if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != beast::error::timeout &&
        ec != asio::error::connection_reset && ec != asio::error::operation_aborted) {
      refusal = json_error(400, "bad_request", ec.message());
      co_return read_result::refused;
    }
    co_return read_result::ended;
  }
  const bool has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
  if (!ctx.check) {
    // Metrics and health take no body: nothing to wait for.
    if (has_body) {
      refusal = json_error(413, "body_not_allowed", "these endpoints take no request body");
      co_return read_result::refused;
    }
    co_return read_result::complete;
  }
  if (auto refused = ctx.check(parser.get()[http::field::authorization])) {
    refusal = std::move(refused);
    co_return read_result::unauthorised;
  }
  if (ctx.slot) {
    (*ctx.slot)->busy = true;
  }
  // A chunked body would be read without a known size; secrets come with Content-Length.
  if (parser.chunked()) {
    refusal = json_error(411, "length_required", "send the body with Content-Length");
    co_return read_result::refused;
  }
  if (parser.content_length().value_or(0) > limits.body_bytes) {
    refusal = json_error(413, "too_large", "bodies here are at most 64 KiB");
    co_return read_result::refused;
  }
  stream.expires_after(limits.io_timeout);
  std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_tuple);
  co_return ec ? read_result::ended : read_result::complete;
}

}  // namespace

template <class Stream>
awaitable<void> serve_control(Stream stream, control_handler handler, serve_context ctx,
                              std::optional<control_response> refusal, connection_limits limits) {
  struct release_on_exit {
    serve_context& ctx;
    ~release_on_exit() {
      if (ctx.slots != nullptr && ctx.slot) {
        ctx.slots->release(*ctx.slot);
      }
      if (ctx.refusing != nullptr) {
        --*ctx.refusing;
      }
    }
  } release{ctx};
  if (refusal) {
    co_await write_once(stream, *refusal, false, limits);
    co_await linger_briefly(stream);
    co_return;
  }
  if (ctx.slot) {
    if ((*ctx.slot)->evicted) {
      co_return;  // evicted before it began
    }
    (*ctx.slot)->close = [&stream] { stream.close(); };
  }
  wiping_buffer buffer(limits.header_bytes + limits.body_bytes);
  for (;;) {
    if (ctx.slot) {
      (*ctx.slot)->busy = false;
      if ((*ctx.slot)->evicted) {
        co_return;
      }
    }
    request_parser parser;
    std::optional<control_response> bad;
    const read_result got = co_await read_request(stream, buffer, parser, limits, ctx, bad);
    if (got == read_result::unauthorised) {
      // Guessing costs time, and a wrong token ends the connection (its body unread).
      asio::steady_timer pause(stream.get_executor(), limits.failure_delay);
      co_await pause.async_wait(use_tuple);
    }
    if (got != read_result::complete) {
      if (bad) {
        co_await write_once(stream, *bad, false, limits);
      }
      co_return;
    }
    auto& req = parser.get();
    auto& body = req.body();
    const control_request creq{req.method_string(), req.target(), req[http::field::authorization],
                               std::span<char>(body.data(), body.size())};
    const control_response result = co_await handler(creq);
    OPENSSL_cleanse(body.data(), body.size());
    keep_only_unread(buffer);
    const bool keep_alive = req.keep_alive();
    co_await write_once(stream, result, keep_alive, limits, req.version(),
                        req.method() == http::verb::head);
    if (!keep_alive) {
      co_return;
    }
  }
}

template awaitable<void> serve_control(beast::tcp_stream, control_handler, serve_context,
                                       std::optional<control_response>, connection_limits);
template awaitable<void> serve_control(beast::basic_stream<asio::local::stream_protocol>,
                                       control_handler, serve_context,
                                       std::optional<control_response>, connection_limits);

}  // namespace airlock::proxy::control

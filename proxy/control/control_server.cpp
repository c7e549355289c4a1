#include "proxy/control/control_server.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <array>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <boost/beast/core/flat_static_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "proxy/control/health.hpp"
#include "proxy/responses.hpp"

namespace airlock::proxy::control {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::size_t header_limit = 8 * 1024;
constexpr std::size_t body_limit = 64 * 1024;  // a secret value, never more
constexpr auto io_timeout = std::chrono::seconds(10);

tcp::endpoint bind(tcp::acceptor& acceptor, const config::endpoint& at, std::string_view what) {
  error_code ec;
  const auto address = asio::ip::make_address(at.host == "localhost" ? "127.0.0.1" : at.host, ec);
  if (ec) {
    throw std::runtime_error(std::string(what) + ".listen: " + at.host + " is not an IP address");
  }
  const tcp::endpoint ep(address, at.port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(ep, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot listen on " + at.to_string() + " (" + std::string(what) +
                             "): " + ec.message());
  }
  return acceptor.local_endpoint();
}

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

}  // namespace

secrets::secret_value read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("admin.token_file: cannot read " + path);
  }
  std::string text;
  text.reserve(4096);
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const bool ok = secrets::normalise_secret_text(text) && text.size() >= 16;
  if (!ok) {
    OPENSSL_cleanse(text.data(), text.size());
    throw std::runtime_error("admin.token_file: " + path +
                             " must hold one line of at least 16 bytes");
  }
  auto token = secrets::secret_value::adopt("admin-token", text);
  if (!token) {
    throw std::runtime_error("admin.token_file: no secure memory for the token");
  }
  return std::move(*token);
}

control_server::control_server(const config::config& cfg, secrets::store& store)
    : store_(store), revoker_(cfg, store) {
  std::optional<secrets::secret_value> token;
  if (!cfg.admin.token_file.empty()) {
    token = read_token_file(cfg.admin.token_file);
  }
  admin_ = std::make_unique<admin_api>(store, std::move(token), revoker_);
  bind(admin_acceptor_, cfg.admin.listen, "admin");
  bind(metrics_acceptor_, cfg.metrics.listen, "metrics");
}

control_server::~control_server() {
  stop();
}

void control_server::start() {
  asio::co_spawn(io_, accept_loop(admin_acceptor_, listener::admin), asio::detached);
  asio::co_spawn(io_, accept_loop(metrics_acceptor_, listener::metrics), asio::detached);
  asio::co_spawn(io_, refresh_loop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void control_server::stop() {
  io_.stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

awaitable<void> control_server::accept_loop(tcp::acceptor& acceptor, listener which) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      // Out of descriptors and the like: wait instead of spinning.
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket), which), asio::detached);
  }
}

awaitable<void> control_server::serve(tcp::socket socket, listener which) {
  beast::tcp_stream stream(std::move(socket));
  // A fixed buffer that never reallocates, so a pushed secret leaves exactly one copy
  // here, wiped after each request.
  std::array<char, header_limit + body_limit> storage{};
  beast::flat_static_buffer_base buffer(storage.data(), storage.size());
  struct wipe_on_exit {
    std::array<char, header_limit + body_limit>& bytes;
    ~wipe_on_exit() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  } wipe{storage};

  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    stream.expires_after(io_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    if (ec) {
      if (ec != http::error::end_of_stream && ec != asio::error::eof &&
          ec != beast::error::timeout && ec != asio::error::connection_reset) {
        const auto bad = to_beast(json_error(400, "bad_request", ec.message()), 11, false, false);
        co_await http::async_write(stream, bad, use_tuple);
      }
      co_return;
    }
    // A chunked body grows by reallocation, leaving stale copies of a secret behind.
    if (parser.chunked()) {
      const auto refused =
          to_beast(json_error(411, "length_required", "send the body with Content-Length"), 11,
                   false, false);
      co_await http::async_write(stream, refused, use_tuple);
      co_return;
    }
    if (parser.content_length().value_or(0) > body_limit) {
      const auto refused = to_beast(json_error(413, "too_large", "bodies here are at most 64 KiB"),
                                    11, false, false);
      co_await http::async_write(stream, refused, use_tuple);
      co_return;
    }
    std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec) {
      co_return;
    }
    auto& req = parser.get();
    std::string& body = req.body();
    const std::string authorization(req[http::field::authorization]);
    const control_request creq{req.method_string(), req.target(), authorization,
                               std::span<char>(body.data(), body.size())};
    control_response result;
    if (which == listener::admin) {
      result = admin_->handle(creq);
    } else if (creq.target == "/metrics" && metrics_text_ &&
               (creq.method == "GET" || creq.method == "HEAD")) {
      result.body = metrics_text_();
      result.content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else {
      result = handle_health(creq, store_);
    }
    OPENSSL_cleanse(body.data(), body.size());
    OPENSSL_cleanse(storage.data(), storage.size());
    const bool keep_alive = req.keep_alive();
    auto res = to_beast(result, req.version(), keep_alive, req.method() == http::verb::head);
    stream.expires_after(io_timeout);
    std::tie(ec, n) = co_await http::async_write(stream, res, use_tuple);
    if (ec || !keep_alive) {
      co_return;
    }
  }
}

awaitable<void> control_server::refresh_loop() {
  for (;;) {
    refresh_timer_.expires_after(refresh_interval);
    auto [ec] = co_await refresh_timer_.async_wait(use_tuple);
    if (ec) {
      co_return;
    }
    for (const auto& name : store_.refresh_files()) {
      spdlog::info("secret {} rotated: its file changed", name);
    }
  }
}

}  // namespace airlock::proxy::control

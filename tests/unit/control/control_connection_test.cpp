// A control connection checks the caller once, on the request head: with a wrong token the
// handler never runs and the body is never read; the 401 comes after a pause and ends the
// connection, so guessing costs time per connection. The right token reaches the handler.

#include "proxy/admin/control_connection.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>

#include "proxy/admin/admin_api.hpp"

namespace airlock::proxy::control {
namespace {

using namespace std::chrono_literals;
using local = asio::local::stream_protocol;

constexpr const char* token = "admin-token-0123456789abcdef";
constexpr auto pause = 100ms;

struct conversation {
  std::string answer;  // every byte the server sent until it closed
  std::chrono::steady_clock::duration took{};
  int handled = 0;
  std::string body_seen;
};

// Serves one connection with a real admin_api's head check and a handler that records what
// reached it; the client sends request and reads until the server closes.
conversation talk(const std::string& request, bool check_token = true) {
  config::config cfg;
  cfg.secrets = {{"k", config::secret_source::kind::push, "", true, std::nullopt}};
  secrets::store store(cfg.secrets);
  revoker revoke(cfg, store);
  admin_api api(store, secrets::secret_value("admin-token", token), revoke);
  conversation out;
  asio::io_context io;
  local::socket server(io);
  local::socket client(io);
  asio::local::connect_pair(server, client);
  serve_context ctx;
  if (check_token) {
    ctx.check = [&api](std::string_view authorization) { return api.authorise(authorization); };
  }
  control_handler handler = [&out](const control_request& req) -> awaitable<control_response> {
    ++out.handled;
    out.body_seen.assign(req.body.data(), req.body.size());
    co_return control_response{};
  };
  connection_limits limits;
  limits.failure_delay = pause;
  asio::co_spawn(io,
                 serve_control(boost::beast::basic_stream<local>(std::move(server)),
                               std::move(handler), std::move(ctx), std::nullopt, limits),
                 asio::detached);
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await asio::async_write(client, asio::buffer(request), use_tuple);
        std::array<char, 4096> buf{};
        for (;;) {
          auto [ec, n] = co_await client.async_read_some(asio::buffer(buf), use_tuple);
          if (ec) {
            break;
          }
          out.answer.append(buf.data(), n);
        }
        out.took = std::chrono::steady_clock::now() - start;
      },
      asio::detached);
  io.run_for(5s);
  return out;
}

TEST(control_connection, a_wrong_token_is_refused_on_the_head_after_a_pause_and_closed) {
  for (const std::string& auth :
       std::vector<std::string>{"Authorization: Bearer wrong-guess\r\n", "",
                                std::string("Authorization: Basic ") + token + "\r\n"}) {
    const auto c = talk("PUT /v1/secrets/k HTTP/1.1\r\nHost: a\r\n" + auth +
                        "Content-Length: 8\r\n\r\nsk-AGENT");
    EXPECT_EQ(c.answer.rfind("HTTP/1.1 401 ", 0), 0u) << c.answer;
    EXPECT_NE(c.answer.find("WWW-Authenticate: Bearer"), std::string::npos) << c.answer;
    EXPECT_GE(c.took, pause) << auth;  // guessing costs time
    EXPECT_EQ(c.handled, 0) << auth;   // the handler never saw it
    EXPECT_EQ(c.answer.find("Connection: keep-alive"), std::string::npos);
  }
}

TEST(control_connection, the_right_token_reaches_the_handler_with_the_body) {
  const auto c =
      talk(std::string("PUT /v1/secrets/k HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ") + token +
           "\r\nContent-Length: 8\r\nConnection: close\r\n\r\nsk-VALUE");
  EXPECT_EQ(c.answer.rfind("HTTP/1.1 200 ", 0), 0u) << c.answer;
  EXPECT_EQ(c.handled, 1);
  EXPECT_EQ(c.body_seen, "sk-VALUE");
  EXPECT_LT(c.took, pause);
}

TEST(control_connection, without_a_check_no_body_is_taken) {
  // The metrics listener: no token, and so no body either.
  const auto c = talk("GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody", false);
  EXPECT_EQ(c.answer.rfind("HTTP/1.1 413 ", 0), 0u) << c.answer;
  EXPECT_EQ(c.handled, 0);
}

}  // namespace
}  // namespace airlock::proxy::control

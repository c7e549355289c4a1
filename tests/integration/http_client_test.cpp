// The outbound client airlock uses for its own requests (revoke hooks), against real
// loopback servers: every framing of an answer, the deadline at every step (a lookup that
// never ends, a silent server, a handshake that never starts), and TLS verified as for the
// data plane's upstreams. Names are answered by a fake resolver: nothing leaves loopback.

#include "proxy/flow/http_client.hpp"

#include <gtest/gtest.h>
#include <netdb.h>

#include <boost/asio/co_spawn.hpp>
#include <mutex>
#include <thread>

#include "proxy/flow/dns_pool.hpp"
#include "proxy/tls/tls_state.hpp"
#include "tests/support/files.hpp"
#include "tests/support/loopback_server.hpp"
#include "tests/support/test_certs.hpp"
#include "tests/support/tls_echo_server.hpp"

namespace airlock::test {
namespace {

using namespace std::chrono_literals;
using proxy::client_error;
using step = client_error::step;

// Answers every connection with response after reading its request head (after delay);
// keeps what it was sent.
class canned_server {
 public:
  explicit canned_server(std::string response, std::chrono::milliseconds delay = 0ms,
                         bool answer = true)
      : response_(std::move(response)),
        delay_(delay),
        answer_(answer),
        server_([this](tcp::socket sock) { return serve(std::move(sock)); }) {}

  std::uint16_t port() const { return server_.port(); }
  std::string received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  asio::awaitable<void> serve(tcp::socket sock) {
    std::string buf;
    const std::size_t head = co_await read_head(sock, buf);
    {
      std::lock_guard lock(mutex_);
      received_ += buf.substr(0, head);
    }
    asio::steady_timer wait(sock.get_executor(), delay_);
    co_await wait.async_wait(use_tuple);
    if (!answer_) {
      wait.expires_after(1h);  // silent: holds the connection open
      co_await wait.async_wait(use_tuple);
    }
    co_await write_all(sock, response_);
  }

  std::string response_;
  std::chrono::milliseconds delay_;
  bool answer_;
  mutable std::mutex mutex_;
  std::string received_;
  loopback_server server_;  // last: stops before the state above goes
};

class http_client_test : public ::testing::Test {
 protected:
  struct outcome {
    proxy::http_result result;
    std::string request_after;  // the caller's request buffer once the call returned
    std::chrono::steady_clock::duration took;
  };

  outcome call(proxy::dial_target to, std::string request, std::string_view method = "GET",
               std::chrono::milliseconds timeout = 2s, std::size_t max_body = 64 * 1024) {
    asio::io_context io;
    const proxy::dial_context with{dns_, tls_ ? tls_->native_handle() : nullptr, &resolve_};
    const proxy::http_call c{std::move(to), method, std::span<char>(request.data(), request.size()),
                             max_body, std::chrono::steady_clock::now() + timeout};
    std::optional<proxy::http_result> result;
    const auto start = std::chrono::steady_clock::now();
    asio::co_spawn(io, proxy::send_http(c, with),
                   [&result](std::exception_ptr, proxy::http_result r) { result = std::move(r); });
    io.run();
    return outcome{std::move(result.value()), request, std::chrono::steady_clock::now() - start};
  }

  static proxy::dial_target plain(std::string host, std::uint16_t port) {
    return proxy::dial_target{proxy::authority{std::move(host), port, false}, false};
  }
  static proxy::dial_target over_tls(std::string host, std::uint16_t port) {
    return proxy::dial_target{proxy::authority{std::move(host), port, false}, true};
  }
  static const proxy::http_response& answer(const outcome& o) {
    return std::get<proxy::http_response>(o.result);
  }
  static const client_error& failure(const outcome& o) { return std::get<client_error>(o.result); }
  void trust(const std::filesystem::path& ca) {
    config::tls_config cfg;
    cfg.upstream_ca_file = ca.string();
    tls_.emplace(proxy::make_upstream_context(cfg));
  }

  test_certs make_pki() {
    std::filesystem::create_directories(tmp_ / "pki");
    return make_test_certs(tmp_ / "pki");
  }

  static constexpr const char* request = "GET /r HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";

  temp_dir tmp_;
  // "named.test" and "localhost" are 127.0.0.1; "stall.test" never answers in time; any other
  // name is unknown.
  proxy::dns_pool dns_{
      1, 4, 16, [](const std::string& host, const std::string& port) {
        proxy::dns_pool::result r;
        if (host == "named.test" || host == "localhost") {
          r.endpoints = {tcp::endpoint(asio::ip::address_v4::loopback(),
                                       static_cast<std::uint16_t>(std::stoi(port)))};
        } else if (host == "stall.test") {
          std::this_thread::sleep_for(3s);
          r.error = EAI_AGAIN;
        } else {
          r.error = EAI_NONAME;
        }
        return r;
      }};
  std::map<std::string, config::endpoint> resolve_;
  std::optional<asio::ssl::context> tls_;
};

TEST_F(http_client_test, content_length_answer_and_the_request_is_wiped) {
  canned_server up("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Issuer: yes\r\n\r\nhello");
  const auto o = call(plain("127.0.0.1", up.port()), request);
  ASSERT_TRUE(std::holds_alternative<proxy::http_response>(o.result)) << failure(o).detail;
  EXPECT_EQ(answer(o).status, 201);
  EXPECT_EQ(answer(o).body, "hello");
  EXPECT_EQ(answer(o).headers, (std::vector<std::pair<std::string, std::string>>{
                                   {"Content-Length", "5"}, {"X-Issuer", "yes"}}));
  EXPECT_EQ(up.received(), request);
  // It may have carried a credential: gone once written.
  EXPECT_EQ(o.request_after, std::string(std::strlen(request), '\0'));
}

TEST_F(http_client_test, chunked_until_close_interim_and_head_answers) {
  canned_server chunked(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n");
  auto o = call(plain("127.0.0.1", chunked.port()), request);
  ASSERT_TRUE(std::holds_alternative<proxy::http_response>(o.result)) << failure(o).detail;
  EXPECT_EQ(answer(o).body, "hello!");

  canned_server until_close("HTTP/1.0 200 OK\r\n\r\nbye");
  o = call(plain("127.0.0.1", until_close.port()), request);
  ASSERT_TRUE(std::holds_alternative<proxy::http_response>(o.result)) << failure(o).detail;
  EXPECT_EQ(answer(o).body, "bye");

  canned_server interim("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
  o = call(plain("127.0.0.1", interim.port()), request);
  ASSERT_TRUE(std::holds_alternative<proxy::http_response>(o.result)) << failure(o).detail;
  EXPECT_EQ(answer(o).status, 204);

  // A HEAD answer announces a length and sends nothing: read as such, not waited for.
  canned_server head("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 0ms);
  o = call(plain("127.0.0.1", head.port()), "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", "HEAD", 1s);
  ASSERT_TRUE(std::holds_alternative<proxy::http_response>(o.result)) << failure(o).detail;
  EXPECT_EQ(answer(o).status, 200);
  EXPECT_LT(o.took, 500ms);
}

TEST_F(http_client_test, what_is_not_http_is_an_error_not_a_status) {
  for (const char* bad :
       {"HTTP/1.1 2x0 OK\r\n\r\n", "hello\n\n", "HTTP/1.1 200 OK\r\nBad Field\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    canned_server up(bad);
    const auto o = call(plain("127.0.0.1", up.port()), request);
    ASSERT_TRUE(std::holds_alternative<client_error>(o.result)) << bad;
    EXPECT_EQ(failure(o).at, step::response) << bad << ": " << failure(o).detail;
    EXPECT_FALSE(failure(o).timed_out);
  }
}

TEST_F(http_client_test, a_body_over_the_cap_is_refused) {
  canned_server announced("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
  auto o = call(plain("127.0.0.1", announced.port()), request, "GET", 2s, 1000);
  ASSERT_TRUE(std::holds_alternative<client_error>(o.result));
  EXPECT_EQ(failure(o).at, step::too_large) << failure(o).detail;
  canned_server endless("HTTP/1.0 200 OK\r\n\r\n" + std::string(5000, 'x'));
  o = call(plain("127.0.0.1", endless.port()), request, "GET", 2s, 1000);
  ASSERT_TRUE(std::holds_alternative<client_error>(o.result));
  EXPECT_EQ(failure(o).at, step::too_large) << failure(o).detail;
}

TEST_F(http_client_test, every_step_ends_at_the_deadline) {
  // A server that takes the request and never answers.
  canned_server silent("", 0ms, false);
  auto o = call(plain("127.0.0.1", silent.port()), request, "GET", 300ms);
  ASSERT_TRUE(std::holds_alternative<client_error>(o.result));
  EXPECT_EQ(failure(o).at, step::read);
  EXPECT_TRUE(failure(o).timed_out);
  EXPECT_LT(o.took, 1s);
  // A lookup that does not come back in time.
  o = call(plain("stall.test", 80), request, "GET", 300ms);
  ASSERT_TRUE(std::holds_alternative<client_error>(o.result));
  EXPECT_EQ(failure(o).at, step::resolve);
  EXPECT_TRUE(failure(o).timed_out);
  EXPECT_LT(o.took, 1s);
  // A TLS peer that never says a word.
  trust(make_pki().ca_cert);
  o = call(over_tls("127.0.0.1", silent.port()), request, "GET", 300ms);
  ASSERT_TRUE(std::holds_alternative<client_error>(o.result));
  EXPECT_EQ(failure(o).at, step::tls) << failure(o).detail;
  EXPECT_TRUE(failure(o).timed_out);
  EXPECT_LT(o.took, 1s);
  EXPECT_EQ(o.request_after, std::string(std::strlen(request), '\0'));
}

TEST_F(http_client_test, names_lookups_and_overrides) {
  canned_server up("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  // A name the fake resolver knows, with the port dialled as asked.
  resolve_["hook.test:443"] = config::endpoint{"127.0.0.1", up.port()};
  auto o = call(plain("hook.test", 443), request);
  ASSERT_TRUE(std::holds_alternative<proxy::http_response>(o.result)) << failure(o).detail;
  EXPECT_EQ(answer(o).status, 200);
  resolve_["named-override.test:80"] = config::endpoint{"named.test", up.port()};
  o = call(plain("named-override.test", 80), request);
  ASSERT_TRUE(std::holds_alternative<proxy::http_response>(o.result)) << failure(o).detail;
  o = call(plain("unknown.test", 80), request);
  ASSERT_TRUE(std::holds_alternative<client_error>(o.result));
  EXPECT_EQ(failure(o).at, step::resolve);
  EXPECT_NE(failure(o).detail.find("cannot resolve unknown.test"), std::string::npos);
  o = call(plain("127.0.0.1", 1), request);
  ASSERT_TRUE(std::holds_alternative<client_error>(o.result));
  EXPECT_EQ(failure(o).at, step::connect);
  EXPECT_NE(failure(o).detail.find("connection refused by 127.0.0.1:1"), std::string::npos);
}

TEST_F(http_client_test, tls_is_verified_like_the_data_planes_upstreams) {
  const auto pki = make_pki();
  trust(pki.ca_cert);
  tls_echo_server good(tls_echo_options{{pki.leaf_cert, pki.leaf_key}, {}});
  auto o = call(over_tls("localhost", good.port()), request);
  ASSERT_TRUE(std::holds_alternative<proxy::http_response>(o.result)) << failure(o).detail;
  EXPECT_EQ(answer(o).status, 200);
  EXPECT_EQ(request_line(answer(o).body), "GET /r HTTP/1.1");
  o = call(over_tls("127.0.0.1", good.port()), request);  // verified as an IP address
  ASSERT_TRUE(std::holds_alternative<proxy::http_response>(o.result)) << failure(o).detail;

  // The attacker's certificates: one no trusted CA signed, one for another name (reached
  // through an override, as a hijacked name would be). Nothing is sent to either.
  tls_echo_server self_signed(tls_echo_options{
      make_self_signed(tmp_.path(), "self", {"DNS:localhost", "IP:127.0.0.1"}), {}});
  o = call(over_tls("localhost", self_signed.port()), request);
  ASSERT_TRUE(std::holds_alternative<client_error>(o.result));
  EXPECT_EQ(failure(o).at, step::tls);
  EXPECT_NE(failure(o).detail.find("not trusted"), std::string::npos) << failure(o).detail;
  EXPECT_EQ(self_signed.received(), "");
  EXPECT_EQ(o.request_after, std::string(std::strlen(request), '\0'));

  tls_echo_server other_name(tls_echo_options{mint_leaf(pki, "other", {"DNS:other.test"}), {}});
  resolve_["issuer.test:443"] = config::endpoint{"127.0.0.1", other_name.port()};
  o = call(over_tls("issuer.test", 443), request);
  ASSERT_TRUE(std::holds_alternative<client_error>(o.result));
  EXPECT_EQ(failure(o).at, step::tls);
  EXPECT_NE(failure(o).detail.find("not trusted"), std::string::npos) << failure(o).detail;
  EXPECT_EQ(other_name.received(), "");
}

}  // namespace
}  // namespace airlock::test

#include "proxy/tls/tls_socket_stream.hpp"
#include "tests/support/client_hello.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include "proxy/tls/leaf_cache.hpp"
#include "proxy/tls/workspace_ca.hpp"

namespace airlock::proxy {
namespace {

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

// A loopback TCP connection, the workspace CA's leaf for "tls.test" on the server end and a
// client context that trusts the CA (or not), all run on one io_context as in a worker.
class tls_socket_stream_test : public testing::Test {
 protected:
  tls_socket_stream_test()
      : ca_(intercept::workspace_ca::generate()),
        leaves_(ca_),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        client_sock_(io_),
        server_sock_(io_) {
    client_sock_.connect(acceptor_.local_endpoint());
    server_sock_ = acceptor_.accept();
    server_ctx_ = leaves_.server_context("tls.test");
    client_ctx_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(client_ctx_.get(), SSL_VERIFY_PEER, nullptr);
  }

  void trust_ca() { X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx_.get()), ca_.cert()); }

  SSL* client_ssl() {
    SSL* ssl = SSL_new(client_ctx_.get());
    SSL_set_tlsext_host_name(ssl, "tls.test");
    SSL_set1_host(ssl, "tls.test");
    return ssl;
  }

  SSL* server_ssl() { return SSL_new(server_ctx_.get()); }

  // Runs body on the io_context until it finishes; fails the test if it is still running
  // after the limit (a lost wake-up would hang here).
  template <typename Body>
  void run(Body body, std::chrono::seconds limit = 20s) {
    bool done = false;
    std::exception_ptr failure;
    asio::co_spawn(io_, std::move(body), [&](std::exception_ptr e) {
      done = true;
      failure = e;
    });
    io_.run_for(limit);
    ASSERT_TRUE(done) << "still running after " << limit.count() << " s";
    if (failure) {
      std::rethrow_exception(failure);
    }
  }

  awaitable<std::tuple<error_code, error_code>> handshake_both(tls_socket_stream& client,
                                                               tls_socket_stream& server) {
    co_return co_await (client.handshake(tls_role::client) && server.handshake(tls_role::server));
  }

  static awaitable<error_code> write_text(tls_socket_stream& s, std::string_view text) {
    const std::array<asio::const_buffer, 1> bufs{asio::buffer(text.data(), text.size())};
    auto [ec, n] = co_await s.write(bufs);
    co_return ec;
  }

  static awaitable<std::string> read_text(tls_socket_stream& s, std::size_t want) {
    std::string got;
    std::array<char, 4096> chunk{};
    while (got.size() < want) {
      auto [ec, n] = co_await s.read_some(asio::buffer(chunk));
      if (ec) {
        break;
      }
      got.append(chunk.data(), n);
    }
    co_return got;
  }

  asio::io_context io_;
  intercept::workspace_ca ca_;
  intercept::leaf_cache leaves_;
  tcp::acceptor acceptor_;
  tcp::socket client_sock_;
  tcp::socket server_sock_;
  std::shared_ptr<SSL_CTX> server_ctx_;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> client_ctx_{nullptr, &SSL_CTX_free};
};

TEST_F(tls_socket_stream_test, HandshakeUsesBytesReadBeforeTheTlsLayer) {
  trust_ca();
  tls_socket_stream client(client_sock_, client_ssl());
  run([&]() -> awaitable<void> {
    // The ClientHello lands in a plain read first, as it does behind a CONNECT head.
    auto server_side = [&]() -> awaitable<error_code> {
      std::array<char, 8192> early{};
      auto [rec, n] = co_await server_sock_.async_read_some(asio::buffer(early), use_tuple);
      EXPECT_FALSE(rec);
      EXPECT_EQ(early[0], '\x16');
      tls_socket_stream server(server_sock_, server_ssl());
      const std::string_view hello(early.data(), n);
      const error_code ec = co_await server.handshake(tls_role::server, hello);
      if (ec) {
        co_return ec;
      }
      const std::string got = co_await read_text(server, 4);
      EXPECT_EQ(got, "ping");
      co_return co_await write_text(server, "pong");
    };
    auto client_side = [&]() -> awaitable<error_code> {
      const error_code ec = co_await client.handshake(tls_role::client);
      if (ec) {
        co_return ec;
      }
      co_return co_await write_text(client, "ping");
    };
    auto [cec, sec] = co_await (client_side() && server_side());
    EXPECT_FALSE(cec) << cec.message();
    EXPECT_FALSE(sec) << sec.message();
    const std::string got = co_await read_text(client, 4);
    EXPECT_EQ(got, "pong");
  });
}

// Both directions at once, each end a reader and a writer coroutine on one SSL object, with
// small send buffers so writes block mid-record, and key updates that make the peer's reader
// write a reply meanwhile (OpenSSL fails that read with "bad length" if the blocked record is
// still pending inside it). Only the send buffers are small: tiny receive windows stall
// loopback TCP itself (segments below the 64 KiB MSS wait for the persist timer).
TEST_F(tls_socket_stream_test, BothDirectionsAtOnceWithKeyUpdates) {
  trust_ca();
  for (tcp::socket* s : {&client_sock_, &server_sock_}) {
    s->set_option(asio::socket_base::send_buffer_size(8192));
  }
  tls_socket_stream client(client_sock_, client_ssl());
  tls_socket_stream server(server_sock_, server_ssl());
  constexpr std::size_t total = 4 * 1024 * 1024;
  auto pattern = [](std::size_t i) { return static_cast<char>((i * 31 + i / 251) & 0xff); };

  auto writer = [&](tls_socket_stream& s) -> awaitable<error_code> {
    std::vector<char> chunk(16 * 1024 + 7);
    std::size_t sent = 0;
    for (int round = 0; sent < total; ++round) {
      const std::size_t n = std::min(chunk.size(), total - sent);
      for (std::size_t i = 0; i < n; ++i) {
        chunk[i] = pattern(sent + i);
      }
      if (round % 16 == 0) {
        SSL_key_update(s.native_handle(), SSL_KEY_UPDATE_REQUESTED);
      }
      const std::array<asio::const_buffer, 2> bufs{asio::buffer(chunk.data(), n / 3),
                                                   asio::buffer(chunk.data() + n / 3, n - n / 3)};
      auto [ec, written] = co_await s.write(bufs);
      if (ec) {
        co_return ec;
      }
      EXPECT_EQ(written, n);
      sent += n;
    }
    co_return error_code{};
  };
  auto reader = [&](tls_socket_stream& s) -> awaitable<error_code> {
    std::vector<char> chunk(5000);
    std::size_t got = 0;
    bool intact = true;
    while (got < total) {
      auto [ec, n] = co_await s.read_some(asio::buffer(chunk));
      if (ec) {
        co_return ec;
      }
      for (std::size_t i = 0; i < n; ++i) {
        intact = intact && chunk[i] == pattern(got + i);
      }
      got += n;
    }
    EXPECT_TRUE(intact);
    co_return error_code{};
  };

  run([&]() -> awaitable<void> {
    auto [cec, sec] = co_await handshake_both(client, server);
    EXPECT_FALSE(cec) << cec.message();
    EXPECT_FALSE(sec) << sec.message();
    if (cec || sec) {
      co_return;
    }
    auto [a, b, c, d] =
        co_await (writer(client) && reader(client) && writer(server) && reader(server));
    EXPECT_FALSE(a) << a.message();
    EXPECT_FALSE(b) << b.message();
    EXPECT_FALSE(c) << c.message();
    EXPECT_FALSE(d) << d.message();
  });
}

TEST_F(tls_socket_stream_test, CloseNotifyIsEofAndABareFinIsTruncated) {
  trust_ca();
  tls_socket_stream client(client_sock_, client_ssl());
  tls_socket_stream server(server_sock_, server_ssl());
  run([&]() -> awaitable<void> {
    auto [cec, sec] = co_await handshake_both(client, server);
    EXPECT_FALSE(cec) << cec.message();
    EXPECT_FALSE(sec) << sec.message();
    if (cec || sec) {
      co_return;
    }
    const error_code shut = co_await server.shutdown();
    EXPECT_FALSE(shut) << shut.message();
    std::array<char, 64> buf{};
    auto [ec, n] = co_await client.read_some(asio::buffer(buf));
    EXPECT_EQ(ec, asio::error::eof) << ec.message();
    // The client's own direction is still open: a FIN with no close_notify cuts it short.
    client_sock_.shutdown(tcp::socket::shutdown_send);
    auto [ec2, n2] = co_await server.read_some(asio::buffer(buf));
    EXPECT_EQ(ec2, asio::ssl::error::stream_truncated) << ec2.message();
  });
}

TEST_F(tls_socket_stream_test, ResetIsConnectionReset) {
  trust_ca();
  tls_socket_stream client(client_sock_, client_ssl());
  tls_socket_stream server(server_sock_, server_ssl());
  run([&]() -> awaitable<void> {
    auto [cec, sec] = co_await handshake_both(client, server);
    EXPECT_FALSE(cec) << cec.message();
    if (cec) {
      co_return;
    }
    client_sock_.set_option(asio::socket_base::linger(true, 0));
    client_sock_.close();
    std::array<char, 64> buf{};
    auto [ec, n] = co_await server.read_some(asio::buffer(buf));
    EXPECT_EQ(ec, asio::error::connection_reset) << ec.message();
  });
}

TEST_F(tls_socket_stream_test, ClosedOrCancelledSocketEndsTheOperation) {
  trust_ca();
  tls_socket_stream client(client_sock_, client_ssl());
  tls_socket_stream server(server_sock_, server_ssl());
  run([&]() -> awaitable<void> {
    auto [cec, sec] = co_await handshake_both(client, server);
    EXPECT_FALSE(cec) << cec.message();
    if (cec) {
      co_return;
    }
    // A reader waiting for data wakes with operation_aborted when the deadline cancels.
    asio::steady_timer later(io_);
    later.expires_after(50ms);
    auto cancel_later = [&]() -> awaitable<error_code> {
      co_await later.async_wait(use_tuple);
      server_sock_.cancel();
      co_return error_code{};
    };
    auto read_one = [&]() -> awaitable<error_code> {
      std::array<char, 64> buf{};
      auto [ec, n] = co_await server.read_some(asio::buffer(buf));
      co_return ec;
    };
    auto [rec, ignored] = co_await (read_one() && cancel_later());
    EXPECT_EQ(rec, asio::error::operation_aborted) << rec.message();
    // Once closed, nothing reaches the descriptor number, which may belong to another socket.
    server_sock_.close();
    std::array<char, 64> buf{};
    auto [ec, n] = co_await server.read_some(asio::buffer(buf));
    EXPECT_EQ(ec, asio::error::bad_descriptor);
    const error_code wec = co_await write_text(server, "late");
    EXPECT_EQ(wec, asio::error::bad_descriptor);
  });
}

TEST_F(tls_socket_stream_test, UntrustedCertificateFailsWithAVerifyResult) {
  // The client does not trust the CA.
  tls_socket_stream client(client_sock_, client_ssl());
  tls_socket_stream server(server_sock_, server_ssl());
  run([&]() -> awaitable<void> {
    auto [cec, sec] = co_await handshake_both(client, server);
    EXPECT_TRUE(cec);
    EXPECT_TRUE(sec);
    EXPECT_NE(SSL_get_verify_result(client.native_handle()), X509_V_OK);
  });
}

// A client may announce a ClientHello of up to 128 KiB, which OpenSSL would buffer whole for
// every connection that sends one. The server side refuses it at its header (handshake_limit).
TEST_F(tls_socket_stream_test, OversizedClientHelloFailsBeforeItIsBuffered) {
  constexpr std::size_t announced = 100 * 1000;
  const std::string flight = test::client_hello_records(announced, announced);
  asio::write(client_sock_, asio::buffer(flight));  // fits the loopback socket buffers
  tls_socket_stream server(server_sock_, server_ssl());
  run([&]() -> awaitable<void> {
    const error_code ec = co_await server.handshake(tls_role::server);
    EXPECT_EQ(ec, error_code(EMSGSIZE, asio::error::get_system_category())) << ec.message();
  });
  // It stopped at the limit: the rest of the flight is still unread on the socket.
  EXPECT_GE(server_sock_.available(), flight.size() - handshake_limit::max_input);
}

}  // namespace
}  // namespace airlock::proxy

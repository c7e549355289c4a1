#include "proxy/flow/upstream_pool.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace airlock::proxy {
namespace {

using namespace std::chrono_literals;

// One end of a loopback TCP connection goes into the pool; the test keeps the other end to
// play the upstream server.
struct connection {
  tcp::socket pooled;
  tcp::socket server;
};

class upstream_pool_test : public testing::Test {
 protected:
  upstream_pool_test() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  connection connect() {
    tcp::socket client(io_);
    client.connect(acceptor_.local_endpoint());
    tcp::socket server = acceptor_.accept();
    return connection{std::move(client), std::move(server)};
  }

  // The local port identifies which pooled socket came back.
  static unsigned short port_of(const tcp::socket& s) { return s.local_endpoint().port(); }

  // True when the peer of `s` has closed: readable within the timeout and recv returns 0.
  static bool sees_eof(tcp::socket& s, std::chrono::milliseconds timeout = 2000ms) {
    pollfd p{s.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      return false;
    }
    char byte = 0;
    return ::recv(s.native_handle(), &byte, 1, MSG_DONTWAIT) == 0;
  }

  // Proves a socket taken from the pool still carries bytes both ways.
  static void expect_usable(tcp::socket& pooled, tcp::socket& server) {
    ASSERT_TRUE(pooled.is_open());
    const std::string ping = "GET / HTTP/1.1\r\n\r\n";
    asio::write(pooled, asio::buffer(ping));
    std::string got(ping.size(), '\0');
    asio::read(server, asio::buffer(got));
    EXPECT_EQ(got, ping);
    asio::write(server, asio::buffer("ok", 2));
    char reply[2] = {};
    asio::read(pooled, asio::buffer(reply));
    EXPECT_EQ(std::string(reply, 2), "ok");
  }

  // Waits until the kernel has delivered the FIN from `server` to the pooled end.
  static void wait_readable(tcp::socket& s) {
    pollfd p{s.native_handle(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 2000), 1);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
};

TEST_F(upstream_pool_test, empty_pool_has_nothing) {
  upstream_pool pool(4, 60s, 0s);
  EXPECT_FALSE((pool.take("a:80") != nullptr));
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST_F(upstream_pool_test, put_then_take_returns_the_same_live_socket) {
  upstream_pool pool(4, 60s, 0s);
  auto c = connect();
  const auto port = port_of(c.pooled);
  pool.put("example.com:80", std::make_unique<upstream_conn>(std::move(c.pooled)));
  EXPECT_EQ(pool.idle_count(), 1u);

  auto taken = pool.take("example.com:80");
  ASSERT_TRUE(taken != nullptr);
  EXPECT_EQ(port_of(taken->sock), port);
  EXPECT_EQ(pool.idle_count(), 0u);
  expect_usable(taken->sock, c.server);
  EXPECT_FALSE((pool.take("example.com:80") != nullptr));
}

TEST_F(upstream_pool_test, take_returns_the_most_recent_first) {
  upstream_pool pool(8, 60s, 0s);
  std::vector<connection> conns;
  std::vector<unsigned short> ports;
  for (int i = 0; i < 3; ++i) {
    conns.push_back(connect());
    ports.push_back(port_of(conns.back().pooled));
    pool.put("h:80", std::make_unique<upstream_conn>(std::move(conns.back().pooled)));
  }
  for (int i = 2; i >= 0; --i) {
    auto taken = pool.take("h:80");
    ASSERT_TRUE(taken != nullptr) << i;
    EXPECT_EQ(port_of(taken->sock), ports[static_cast<std::size_t>(i)]);
  }
  EXPECT_FALSE((pool.take("h:80") != nullptr));
}

TEST_F(upstream_pool_test, keys_are_separate) {
  upstream_pool pool(4, 60s, 0s);
  auto a = connect();
  auto b = connect();
  const auto port_a = port_of(a.pooled);
  const auto port_b = port_of(b.pooled);
  pool.put("a:80", std::make_unique<upstream_conn>(std::move(a.pooled)));
  pool.put("b:443", std::make_unique<upstream_conn>(std::move(b.pooled)));
  EXPECT_FALSE((pool.take("a:443") != nullptr));
  EXPECT_FALSE((pool.take("c:80") != nullptr));
  EXPECT_FALSE((pool.take("A:80") != nullptr));
  auto tb = pool.take("b:443");
  ASSERT_NE(tb, nullptr);
  EXPECT_EQ(port_of(tb->sock), port_b);
  auto ta = pool.take(std::string("a:80"));
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(port_of(ta->sock), port_a);
}

TEST_F(upstream_pool_test, socket_whose_peer_closed_is_dropped) {
  upstream_pool pool(4, 60s, 0s);
  auto c = connect();
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(c.pooled)));
  c.server.close();
  // Let the FIN arrive; take must see it and not hand the socket out.
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE((pool.take("h:80") != nullptr));
  EXPECT_EQ(pool.idle_count(), 0u);
}

// The probe is skipped for connections returned moments ago (it costs a syscall per
// request); the session's retry covers the rare one that died in that window.
TEST_F(upstream_pool_test, probe_applies_only_after_probe_after) {
  upstream_pool pool(4, 60s, 50ms);
  auto c = connect();
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(c.pooled)));
  c.server.close();
  std::this_thread::sleep_for(80ms);
  EXPECT_EQ(pool.take("h:80"), nullptr);

  auto fresh = connect();
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(fresh.pooled)));
  EXPECT_NE(pool.take("h:80"), nullptr);  // within probe_after: handed out unprobed

  // A request that cannot be retried (a POST) always gets a probed connection.
  auto dead = connect();
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(dead.pooled)));
  dead.server.close();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(pool.take("h:80", true), nullptr);
}

TEST_F(upstream_pool_test, dead_newest_is_skipped_for_an_older_live_one) {
  upstream_pool pool(4, 60s, 0s);
  auto live = connect();
  auto dead = connect();
  const auto live_port = port_of(live.pooled);
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(live.pooled)));
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(dead.pooled)));
  dead.server.close();
  std::this_thread::sleep_for(20ms);

  auto taken = pool.take("h:80");
  ASSERT_TRUE(taken != nullptr);
  EXPECT_EQ(port_of(taken->sock), live_port);
  EXPECT_EQ(pool.idle_count(), 0u);
  expect_usable(taken->sock, live.server);
}

TEST_F(upstream_pool_test, socket_with_unsolicited_bytes_is_dropped_and_closed) {
  upstream_pool pool(4, 60s, 0s);
  auto c = connect();
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(c.pooled)));
  const std::string unsolicited = "HTTP/1.1 408 Request Timeout\r\n\r\n";
  asio::write(c.server, asio::buffer(unsolicited));
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE((pool.take("h:80") != nullptr));
  // The pool closed its end: the server sees EOF (or a reset, as unread bytes were pending).
  pollfd p{c.server.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  char byte = 0;
  EXPECT_LE(::recv(c.server.native_handle(), &byte, 1, MSG_DONTWAIT), 0);
}

TEST_F(upstream_pool_test, bound_per_key_evicts_the_oldest) {
  upstream_pool pool(2, 60s, 0s);
  auto a = connect();
  auto b = connect();
  auto c = connect();
  const auto port_b = port_of(b.pooled);
  const auto port_c = port_of(c.pooled);
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(a.pooled)));
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(b.pooled)));
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(c.pooled)));
  EXPECT_EQ(pool.idle_count(), 2u);
  // The evicted connection was closed, not leaked.
  EXPECT_TRUE(sees_eof(a.server));
  EXPECT_FALSE(sees_eof(b.server, 0ms));
  EXPECT_FALSE(sees_eof(c.server, 0ms));

  auto first = pool.take("h:80");
  auto second = pool.take("h:80");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(port_of(first->sock), port_c);
  EXPECT_EQ(port_of(second->sock), port_b);
  EXPECT_FALSE((pool.take("h:80") != nullptr));
}

TEST_F(upstream_pool_test, bound_is_per_key) {
  upstream_pool pool(1, 60s, 0s);
  auto a = connect();
  auto b = connect();
  pool.put("a:80", std::make_unique<upstream_conn>(std::move(a.pooled)));
  pool.put("b:80", std::make_unique<upstream_conn>(std::move(b.pooled)));
  EXPECT_EQ(pool.idle_count(), 2u);
  EXPECT_TRUE((pool.take("a:80") != nullptr));
  EXPECT_TRUE((pool.take("b:80") != nullptr));
}

TEST_F(upstream_pool_test, total_bound_holds_across_keys) {
  // One connection per host name an agent can think of must not grow the pool past it.
  upstream_pool pool(4, 60s, 0s);
  pool.set_max_total(2);
  auto a = connect();
  auto b = connect();
  auto c = connect();
  auto a2 = connect();
  pool.put("a:80", std::make_unique<upstream_conn>(std::move(a.pooled)));
  pool.put("b:80", std::make_unique<upstream_conn>(std::move(b.pooled)));
  pool.put("c:80", std::make_unique<upstream_conn>(std::move(c.pooled)));
  EXPECT_EQ(pool.idle_count(), 2u);
  EXPECT_TRUE(sees_eof(c.server)) << "a third key is not kept";
  // A key already held swaps its oldest for the newer one.
  const auto newer = port_of(a2.pooled);
  pool.put("a:80", std::make_unique<upstream_conn>(std::move(a2.pooled)));
  EXPECT_EQ(pool.idle_count(), 2u);
  EXPECT_TRUE(sees_eof(a.server));
  auto taken = pool.take("a:80");
  ASSERT_TRUE(taken != nullptr);
  EXPECT_EQ(port_of(taken->sock), newer);
  // Room again once one is taken.
  auto d = connect();
  pool.put("d:80", std::make_unique<upstream_conn>(std::move(d.pooled)));
  EXPECT_EQ(pool.idle_count(), 2u);
  EXPECT_TRUE((pool.take("d:80") != nullptr));
}

TEST_F(upstream_pool_test, zero_bound_keeps_nothing) {
  upstream_pool pool(0, 60s, 0s);
  auto c = connect();
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(c.pooled)));
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_TRUE(sees_eof(c.server));
  EXPECT_FALSE((pool.take("h:80") != nullptr));
}

TEST_F(upstream_pool_test, sweep_drops_aged_entries_and_keeps_fresh_ones) {
  upstream_pool pool(8, 1h, 0s);
  auto old_conn = connect();
  auto new_conn = connect();
  const auto new_port = port_of(new_conn.pooled);
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(old_conn.pooled)));
  const auto after_old = clock::now();
  std::this_thread::sleep_for(30ms);
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(new_conn.pooled)));

  pool.sweep(clock::now());
  EXPECT_EQ(pool.idle_count(), 2u);

  // 10 ms past the old entry's deadline, at least 20 ms before the new one's.
  pool.sweep(after_old + 1h + 10ms);
  EXPECT_EQ(pool.idle_count(), 1u);
  EXPECT_TRUE(sees_eof(old_conn.server));
  EXPECT_FALSE(sees_eof(new_conn.server, 0ms));

  auto taken = pool.take("h:80");
  ASSERT_TRUE(taken != nullptr);
  EXPECT_EQ(port_of(taken->sock), new_port);
}

TEST_F(upstream_pool_test, sweep_empties_every_key) {
  upstream_pool pool(8, 1s, 0s);
  auto a = connect();
  auto b = connect();
  pool.put("a:80", std::make_unique<upstream_conn>(std::move(a.pooled)));
  pool.put("b:80", std::make_unique<upstream_conn>(std::move(b.pooled)));
  pool.sweep(clock::now() + 2s);
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_TRUE(sees_eof(a.server));
  EXPECT_TRUE(sees_eof(b.server));
  EXPECT_FALSE((pool.take("a:80") != nullptr));
  // The pool stays usable after a sweep.
  auto c = connect();
  pool.put("a:80", std::make_unique<upstream_conn>(std::move(c.pooled)));
  EXPECT_TRUE((pool.take("a:80") != nullptr));
}

TEST_F(upstream_pool_test, take_refuses_entries_past_the_age_limit) {
  upstream_pool pool(8, 5ms, 0s);
  auto c = connect();
  pool.put("h:80", std::make_unique<upstream_conn>(std::move(c.pooled)));
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE((pool.take("h:80") != nullptr));
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_TRUE(sees_eof(c.server));
}

TEST_F(upstream_pool_test, close_closes_everything_and_refuses_puts) {
  upstream_pool pool(8, 60s, 0s);
  auto a = connect();
  auto b = connect();
  pool.put("a:80", std::make_unique<upstream_conn>(std::move(a.pooled)));
  pool.put("b:80", std::make_unique<upstream_conn>(std::move(b.pooled)));
  pool.close();
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_TRUE(sees_eof(a.server));
  EXPECT_TRUE(sees_eof(b.server));
  EXPECT_FALSE((pool.take("a:80") != nullptr));

  auto c = connect();
  pool.put("a:80", std::make_unique<upstream_conn>(std::move(c.pooled)));
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_TRUE(sees_eof(c.server));
  EXPECT_FALSE((pool.take("a:80") != nullptr));
}

}  // namespace
}  // namespace airlock::proxy

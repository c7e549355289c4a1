// Bulk through a blind CONNECT tunnel: past the first 256 KiB a direction moves through a
// kernel pipe (splice) instead of user space. What the agent relies on must not change:
// every byte arrives in order, half-close still ends one direction only, a reset still
// ends the tunnel, and the byte counters still count exactly.

#include <gtest/gtest.h>

#include <boost/asio/write.hpp>
#include <thread>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/loopback_server.hpp"

namespace airlock::test {
namespace {

using tunnel_bulk_test = proxy_test;

constexpr std::size_t up_bytes = 8u << 20;
constexpr std::size_t down_bytes = 12u << 20;

// Not periodic at any power of two, so a dropped or repeated block shows.
std::string pattern(std::size_t n, std::size_t seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>((i * 131 + (i >> 11) * 7 + seed) % 251);
  }
  return s;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (const char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

// Reads everything the client sends until its half-close, then answers with the count
// and hash of what it got, then `down` bytes of pattern, then closes.
loopback_server::handler digest_then_send(std::size_t down) {
  return [down](tcp::socket sock) -> asio::awaitable<void> {
    std::string got;
    char chunk[65536];
    for (;;) {
      auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), use_tuple);
      if (ec) {
        break;
      }
      got.append(chunk, n);
    }
    const std::string answer =
        std::to_string(got.size()) + " " + std::to_string(fnv1a(got)) + "\n" + pattern(down, 3);
    co_await write_all(sock, answer);
    boost::system::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_send, ignored);
  };
}

// CONNECT to 127.0.0.1:port on client; the test fails if the tunnel is not established.
void open_tunnel(raw_client& client, std::uint16_t port) {
  const std::string target = "127.0.0.1:" + std::to_string(port);
  EXPECT_TRUE(client.send("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n"));
  const auto established = client.read_response(5s, true);
  ASSERT_TRUE(established);
  ASSERT_EQ(established->status, 200);
}

// Everything the peer sends until it closes (or the deadline passes).
std::string read_to_end(raw_client& client, std::chrono::milliseconds limit) {
  std::string all = client.take_buffered();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!client.closed() && std::chrono::steady_clock::now() < deadline) {
    all += client.read_some(1s);
  }
  return all;
}

TEST_F(tunnel_bulk_test, MegabytesBothWaysArriveIntactAndAreCountedExactly) {
  loopback_server upstream(digest_then_send(down_bytes));
  start_airlock();

  auto client = connect();
  open_tunnel(*client, upstream.port());
  const std::string up = pattern(up_bytes, 1);
  ASSERT_TRUE(client->send(up));
  client->shutdown_send();  // the upstream answers only after our end of input
  const std::string got = read_to_end(*client, 30s);
  ASSERT_TRUE(client->closed()) << "tunnel still open after " << got.size() << " bytes";
  const std::string expected_head =
      std::to_string(up.size()) + " " + std::to_string(fnv1a(up)) + "\n";
  ASSERT_GE(got.size(), expected_head.size());
  EXPECT_EQ(got.substr(0, expected_head.size()), expected_head);
  EXPECT_EQ(got.size() - expected_head.size(), down_bytes);
  EXPECT_TRUE(got.substr(expected_head.size()) == pattern(down_bytes, 3))
      << "downstream bytes differ";

  EXPECT_EQ(metric("airlock_tunnel_bytes_total{direction=\"up\"}"), static_cast<double>(up_bytes));
  EXPECT_EQ(metric("airlock_tunnel_bytes_total{direction=\"down\"}"),
            static_cast<double>(got.size()));
  EXPECT_EQ(metric("airlock_tunnel_splices_total"), 2) << "both directions turned bulk";
}

// Small exchanges, however many, stay in user space: an API call or an event stream never
// costs a pipe.
TEST_F(tunnel_bulk_test, ChattyTunnelIsNeverSpliced) {
  loopback_server upstream([](tcp::socket sock) -> asio::awaitable<void> {
    char chunk[4096];
    for (;;) {
      auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), use_tuple);
      if (ec || !co_await write_all(sock, std::string_view(chunk, n))) {
        break;
      }
    }
  });
  start_airlock();
  auto client = connect();
  open_tunnel(*client, upstream.port());
  const std::string message(1000, 'm');
  for (int i = 0; i < 600; ++i) {  // 600 KB each way, well past the bulk threshold
    ASSERT_TRUE(client->send(message));
    std::string echo = client->take_buffered();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (echo.size() < message.size() && std::chrono::steady_clock::now() < deadline) {
      echo += client->read_some(1s);
    }
    ASSERT_EQ(echo, message) << "echo " << i;
  }
  EXPECT_EQ(metric("airlock_tunnel_splices_total"), 0);
}

// A half-close on a spliced direction ends that direction only: the client keeps
// sending after the upstream has finished and closed its side.
TEST_F(tunnel_bulk_test, HalfCloseFromTheUpstreamLeavesTheUpwardDirectionOpen) {
  std::atomic<std::size_t> received{0};
  loopback_server upstream([&received](tcp::socket sock) -> asio::awaitable<void> {
    co_await write_all(sock, pattern(4u << 20, 5));
    boost::system::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_send, ignored);
    char chunk[65536];
    for (;;) {
      auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), use_tuple);
      if (ec) {
        break;
      }
      received += n;
    }
    co_await write_all(sock, "never seen");  // the client's side is closed by now
  });
  start_airlock();

  auto client = connect();
  open_tunnel(*client, upstream.port());
  std::string down;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (down.size() < (4u << 20) && !client->closed() &&
         std::chrono::steady_clock::now() < deadline) {
    down += client->take_buffered();
    down += client->read_some(1s);
  }
  EXPECT_TRUE(down == pattern(4u << 20, 5)) << "got " << down.size() << " bytes";
  // Still open upward, and that direction is spliced too once past the threshold.
  ASSERT_TRUE(client->send(pattern(2u << 20, 9)));
  client->shutdown_send();
  EXPECT_TRUE(client->wait_closed(10s));
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (received.load() < (2u << 20) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(received.load(), 2u << 20);
}

// An upstream that resets in the middle of a spliced download ends the tunnel promptly;
// the client never waits out the idle timeout.
TEST_F(tunnel_bulk_test, ResetMidDownloadEndsTheTunnel) {
  loopback_server upstream([](tcp::socket sock) -> asio::awaitable<void> {
    co_await write_all(sock, pattern(3u << 20, 7));
    close_with_reset(sock);
  });
  start_airlock();

  auto client = connect();
  open_tunnel(*client, upstream.port());
  const auto start = std::chrono::steady_clock::now();
  const std::string got = read_to_end(*client, 20s);
  EXPECT_TRUE(client->closed());
  EXPECT_LT(seconds_since(start), 10.0);
  EXPECT_LE(got.size(), 3u << 20);
}

}  // namespace
}  // namespace airlock::test

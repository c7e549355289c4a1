// Exhaustion from inside the workspace: an agent (hostile or just broken) that opens a
// thousand half-requests, stalls an upload, never reads a download, runs airlock out of
// descriptors or walks through ten thousand names. Each is cut off by a timeout or a
// bound, and a well-behaved client on the same airlock is still served meanwhile.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/loopback_server.hpp"
#include "tests/support/recording_server.hpp"
#include "tests/support/sanitizers.hpp"

namespace airlock::test {
namespace {

class exhaustion_test : public proxy_test {
 protected:
  // One well-behaved request through airlock, timed: it must not queue behind the attack.
  void expect_served_promptly(const recording_server& upstream) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", upstream.url("/ok")});
    EXPECT_EQ(r.out, "200") << r.err;
    EXPECT_LT(seconds_since(start), 1.5);
  }
};

// User + system CPU seconds the process has used, from /proc/PID/stat.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && (fields >> f); ++i) {
    if (i >= 14) {
      ticks += std::stod(f);
    }
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

TEST_F(exhaustion_test, ThousandSlowlorisConnectionsAreCutWhileOthersAreServed) {
  recording_server upstream;
  airlock_settings settings;
  settings.header_timeout = "2s";
  start_airlock(settings);

  std::vector<std::unique_ptr<raw_client>> attackers;
  const std::string partial = "GET " + upstream.url("/") + " HTTP/1.1\r\nHost: ";
  for (int i = 0; i < 1000; ++i) {
    attackers.push_back(connect());
    ASSERT_TRUE(attackers.back()->send(partial)) << "attacker " << i;
  }
  // Dripping a byte now and then does not extend the header deadline.
  for (int round = 0; round < 2; ++round) {
    std::this_thread::sleep_for(400ms);
    for (auto& a : attackers) {
      a->send("1");
    }
    expect_served_promptly(upstream);
  }
  const auto until = std::chrono::steady_clock::now() + 6s;
  std::size_t closed = 0;
  for (auto& a : attackers) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    closed += a->wait_closed(std::max(left, 1ms)) ? 1 : 0;
  }
  EXPECT_EQ(closed, attackers.size());
  EXPECT_EQ(upstream.requests().size(), 2u) << "only the well-behaved requests go up";
  attackers.clear();
  expect_served_promptly(upstream);
}

TEST_F(exhaustion_test, StalledUploadIsCutByTheIdleTimeoutAndNeverReused) {
  recording_server upstream;
  recording_server other;
  airlock_settings settings;
  settings.idle_timeout = "2s";
  start_airlock(settings);

  auto uploader = connect();
  ASSERT_TRUE(uploader->send("POST " + upstream.url("/upload") +
                             " HTTP/1.1\r\nHost: " + upstream.authority() +
                             "\r\nContent-Length: 100000\r\n\r\n" + std::string(10, 'x')));
  std::this_thread::sleep_for(300ms);
  expect_served_promptly(other);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(uploader->wait_closed(5s));
  EXPECT_LT(seconds_since(start), 4.0);
  // The half-sent upload's upstream connection is gone: the next request gets a new one,
  // not one the upstream still reads as the rest of the upload.
  expect_served_promptly(upstream);
  EXPECT_EQ(upstream.connections(), 2u);
  ASSERT_EQ(upstream.requests().size(), 1u);
  EXPECT_NE(upstream.requests()[0].find("GET /ok"), std::string::npos);
}

TEST_F(exhaustion_test, ClientThatNeverReadsHoldsTheUpstreamBackNotAirlocksMemory) {
  constexpr std::uint64_t body = 1ull << 30;
  std::atomic<std::uint64_t> written{0};
  std::atomic<bool> upstream_done{false};
  loopback_server upstream([&](tcp::socket sock) -> asio::awaitable<void> {
    std::string head;
    if (co_await read_head(sock, head) == 0) {
      co_return;
    }
    co_await write_all(sock,
                       "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body) + "\r\n\r\n");
    const std::string chunk(64 * 1024, 'z');
    while (written.load() < body) {
      if (!co_await write_all(sock, chunk)) {
        break;
      }
      written += chunk.size();
    }
    upstream_done = true;
  });
  airlock_settings settings;
  settings.idle_timeout = "3s";
  start_airlock(settings);
  const std::uint64_t rss_before = airlock().rss_kib();

  auto reader = connect();
  ASSERT_TRUE(reader->send("GET " + upstream.url("/huge") + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                           std::to_string(upstream.port()) + "\r\n\r\n"));
  std::this_thread::sleep_for(1500ms);
  const std::uint64_t in_flight = written.load();
  std::this_thread::sleep_for(500ms);
  // Socket buffers fill, then the upstream is held back: nothing piles up in airlock.
  EXPECT_LT(written.load(), 64ull << 20) << "upstream was never held back";
  EXPECT_LT(written.load() - in_flight, 4ull << 20)
      << "still flowing to a client that reads nothing";
  if (!sanitized_build) {
    EXPECT_LT(airlock().rss_kib(), rss_before + 16 * 1024);
  }
  // The idle timeout ends both legs: the upstream's blocked write fails.
  const auto until = std::chrono::steady_clock::now() + 8s;
  while (!upstream_done.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(upstream_done.load());
  EXPECT_TRUE(reader->wait_closed(2s));
}

TEST_F(exhaustion_test, OutOfDescriptorsBacksOffWithoutSpinningAndRecovers) {
  if (sanitized_build) {
    // UBSan's vptr check probes memory through a pipe(2); at EMFILE that fails and it
    // reports every virtual call as an invalid object (seen: boost error_category).
    GTEST_SKIP() << "the sanitizer runtime itself needs descriptors";
  }
  recording_server upstream;
  start_airlock();
  const rlimit low{256, 256};
  ASSERT_EQ(prlimit(airlock().pid(), RLIMIT_NOFILE, &low, nullptr), 0) << std::strerror(errno);

  // More connections than descriptors: accept fails with EMFILE and the rest wait in
  // the backlog.
  std::vector<std::unique_ptr<raw_client>> crowd;
  for (int i = 0; i < 300; ++i) {
    crowd.push_back(connect());
  }
  std::this_thread::sleep_for(500ms);
  const double cpu_before = cpu_seconds(airlock().pid());
  std::this_thread::sleep_for(2s);
  EXPECT_LT(cpu_seconds(airlock().pid()) - cpu_before, 0.3) << "accept loop spinning on EMFILE";
  EXPECT_TRUE(airlock().running());

  crowd.clear();
  const auto until = std::chrono::steady_clock::now() + 8s;
  std::string status;
  while (std::chrono::steady_clock::now() < until) {
    status = curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                   upstream.url("/after")})
                 .out;
    if (status == "200") {
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(status, "200") << "airlock did not recover once descriptors were free";
}

using exhaustion_intercept_test = intercept_test;

// CONNECT host:443 through airlock at port, then a verified TLS handshake for host inside
// the tunnel; "" on success, else what failed. One SSL_CTX serves every call: making one
// per connection (as raw_client does) would cost more than the handshakes measured.
std::string handshake_through(std::uint16_t port, SSL_CTX* ctx, const std::string& host) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::strerror(errno);
  }
  const timeval limit{10, 0};  // every blocking call below is bounded
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string err;
  const std::string connect_req =
      "CONNECT " + host + ":443 HTTP/1.1\r\nHost: " + host + ":443\r\n\r\n";
  std::string head;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::send(fd, connect_req.data(), connect_req.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(connect_req.size())) {
    err = std::string("connect: ") + std::strerror(errno);
  }
  while (err.empty() && head.find("\r\n\r\n") == std::string::npos) {
    char c;
    if (::recv(fd, &c, 1, 0) != 1) {  // byte by byte: nothing after the head is consumed
      err = "no answer to CONNECT";
    }
    head += c;
  }
  if (err.empty() && head.rfind("HTTP/1.1 200", 0) != 0) {
    err = "CONNECT answered " + head.substr(0, head.find('\r'));
  }
  if (err.empty()) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
    if (SSL_connect(ssl) != 1 || SSL_get_verify_result(ssl) != X509_V_OK) {
      err = "TLS handshake failed: " +
            std::string(X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
    }
    SSL_free(ssl);
  }
  ::close(fd);
  return err;
}

// Every CONNECT to a new name under a wildcard rule mints a leaf; a walk through ten
// thousand names must leave the cache at its bound, not ten thousand certificates.
TEST_F(exhaustion_intercept_test, TenThousandInterceptedNamesKeepTheLeafCacheBounded) {
  start_intercepting("  key: { env: AIRLOCK_TEST_KEY }\n",
                     "  - { host: \"*.many.test\", headers: { x-api-key: \"{{key}}\" } }\n",
                     {{"AIRLOCK_TEST_KEY", api_key}});
  const std::uint64_t rss_start = airlock().rss_kib();
  // Past the cache bound either way; a sanitized build mints and handshakes 3x slower.
  constexpr int names = sanitized_build ? 3000 : 10000;
  constexpr int threads = 3;
  std::atomic<int> failures{0};
  std::atomic<int> next{0};
  std::string first_error;
  std::mutex error_mutex;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx.get(), airlock_ca().c_str(), nullptr), 1);
  const auto handshake = [&](int i) {
    const std::string host = "n" + std::to_string(i) + ".many.test";
    const std::string err = handshake_through(airlock().port(), ctx.get(), host);
    if (!err.empty()) {
      ++failures;
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (first_error.empty()) {
        first_error = host + ": " + err;
      }
    }
  };
  std::atomic<std::uint64_t> rss_after_first_thousand{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < names; i = next++) {
        handshake(i);
        if (i == 1500) {
          rss_after_first_thousand = airlock().rss_kib();
        }
      }
    });
  }
  for (auto& th : pool) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0) << first_error;
  EXPECT_GE(metric("airlock_leaf_certificates_minted_total"), names);
  EXPECT_LE(metric("airlock_leaf_cache_entries"), 1000);
  // Past the cache bound, memory stays flat while names keep coming.
  if (!sanitized_build) {
    EXPECT_LT(airlock().rss_kib(), std::max(rss_after_first_thousand.load(), rss_start) + 8 * 1024);
  }
  // An evicted name is minted again and still works.
  handshake(0);
  EXPECT_EQ(failures.load(), 0) << first_error;
}

}  // namespace
}  // namespace airlock::test

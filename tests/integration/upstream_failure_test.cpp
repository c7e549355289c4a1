// An upstream that refuses, resets, stalls or cuts a body short, or a name that does
// not resolve: the client gets a clear airlock error before the response started, and
// a visibly failed transfer after it started, never a clean-looking success.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/fault_server.hpp"

namespace airlock::test {
namespace {

using upstream_failure_test = proxy_test;

TEST_F(upstream_failure_test, RefusedIs502) {
  const std::string url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/";
  start_airlock();

  const auto r =
      curl({"-D", scratch("head").string(), "-o", "/dev/null", "-w", "%{http_code}", url});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "502");
  EXPECT_NE(read_file(scratch("head")).find("error=connection_refused"), std::string::npos)
      << read_file(scratch("head"));
}

TEST_F(upstream_failure_test, ResetBeforeResponseIs502) {
  fault_server upstream(fault::accept_then_reset);
  start_airlock();

  const auto r = curl({"-o", "/dev/null", "-w", "%{http_code}", upstream.url("/")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "502");
}

TEST_F(upstream_failure_test, StallIs504AfterIdleTimeout) {
  fault_server upstream(fault::stall);
  airlock_settings settings;
  settings.idle_timeout = "1s";
  start_airlock(settings);

  const auto r = curl(
      {"-D", scratch("head").string(), "-o", "/dev/null", "-w", "%{http_code}", upstream.url("/")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "504");
  EXPECT_GE(r.elapsed, 900ms);
  EXPECT_LT(r.elapsed, 3s);
  EXPECT_NE(read_file(scratch("head")).find("Proxy-Status: airlock"), std::string::npos);
}

TEST_F(upstream_failure_test, TruncatedBodyIsPartialForClient) {
  fault_server upstream(fault::truncated_body);
  start_airlock();

  const auto r =
      curl({"-o", "/dev/null", "-w", "%{http_code} %{size_download}", upstream.url("/")});
  // 18: "transfer closed with outstanding read data remaining".
  EXPECT_EQ(r.exit_code, 18) << r.err;
  EXPECT_EQ(r.out, "200 500");
}

TEST_F(upstream_failure_test, ResetAfterHeadIsFailureForClient) {
  fault_server upstream(fault::reset_after_head);
  start_airlock();

  const auto r = curl({"-o", "/dev/null", "-w", "%{http_code}", upstream.url("/")});
  // 18 (partial file) or 56 (receive failure): anything but success.
  EXPECT_TRUE(r.exit_code == 18 || r.exit_code == 56) << r.exit_code << " " << r.err;
}

TEST_F(upstream_failure_test, CloseDelimitedBodyCutByResetIsResetForClient) {
  fault_server upstream(fault::close_delimited_reset);
  start_airlock();

  // The body runs until close, so only a reset can tell the client it was cut short.
  const auto r = curl({"-o", "/dev/null", "-w", "%{http_code}", upstream.url("/")});
  EXPECT_EQ(r.exit_code, 56) << r.err;
}

// A chunked body is complete only with its last chunk: when the upstream stops before
// it, by closing, by a reset or by going silent, airlock must not write one, and must
// end the connection so the client can tell. The upstream connection, out of step now,
// is closed rather than pooled.
TEST_F(upstream_failure_test, CutChunkedBodyIsNeverCompletedForClient) {
  airlock_settings settings;
  settings.idle_timeout = "1s";
  start_airlock(settings);
  const std::pair<fault, const char*> cuts[] = {{fault::truncated_chunked, "close"},
                                                {fault::reset_mid_chunked, "reset"},
                                                {fault::stall_mid_chunked, "stall"}};
  for (const auto& [mode, name] : cuts) {
    SCOPED_TRACE(name);
    fault_server upstream(mode);
    auto client = connect();
    ASSERT_TRUE(client->send("GET " + upstream.url("/") + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                             std::to_string(upstream.port()) + "\r\n\r\n"));
    EXPECT_FALSE(client->read_response(5s)) << "a complete response: " << client->buffered();
    EXPECT_TRUE(client->closed()) << client->buffered();
    const std::string got = client->buffered();
    EXPECT_EQ(got.rfind("HTTP/1.1 200 ", 0), 0u) << got;
    EXPECT_NE(got.find("\r\n\r\n5\r\nhello\r\n"), std::string::npos) << got;
    EXPECT_EQ(got.find("\r\n0\r\n"), std::string::npos) << "a last chunk was made up: " << got;
    EXPECT_TRUE(upstream.wait_connections_ended(2s)) << "the upstream connection was kept";
  }
}

// A name that does not resolve (.invalid never does, RFC 6761) is a 502 that says so,
// at once, for a forwarded request and a CONNECT alike.
TEST_F(upstream_failure_test, UnresolvableNameIs502WithTheReason) {
  start_airlock();

  auto started = std::chrono::steady_clock::now();
  const auto r = curl({"-D", scratch("head").string(), "-o", "/dev/null", "-w", "%{http_code}",
                       "http://no-such-host.invalid/"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_unresolvable(std::atoi(r.out.c_str()), read_file(scratch("head")), "no-such-host.invalid");
  EXPECT_LT(seconds_since(started), 5.0);

  started = std::chrono::steady_clock::now();
  auto client = connect();
  ASSERT_TRUE(client->send(
      "CONNECT no-such-host.invalid:443 HTTP/1.1\r\nHost: no-such-host.invalid:443\r\n\r\n"));
  const auto answer = client->read_response(5s);
  ASSERT_TRUE(answer) << client->buffered();
  expect_unresolvable(answer->status, answer->head, "no-such-host.invalid");
  EXPECT_TRUE(client->wait_closed(2s));
  EXPECT_LT(seconds_since(started), 5.0);
}

// A listener whose accept queue is full: the kernel drops further SYNs, so a connect to it
// hangs (as to a blackholed address) without a packet leaving loopback.
class full_listener {
 public:
  full_listener(int family, std::uint16_t port) {
    listener_ = ::socket(family, SOCK_STREAM, 0);
    sockaddr_storage at{};
    socklen_t len = 0;
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&at);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof(sockaddr_in);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&at);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      a->sin6_addr = in6addr_loopback;
      len = sizeof(sockaddr_in6);
    }
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ok_ = ::bind(listener_, reinterpret_cast<sockaddr*>(&at), len) == 0 &&
          ::listen(listener_, 0) == 0;
    for (int i = 0; ok_ && i < 3; ++i) {  // fill the queue; the last ones may hang, unasked
      const int c = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&at), len);
      fillers_.push_back(c);
    }
    std::this_thread::sleep_for(100ms);
  }
  ~full_listener() {
    for (int c : fillers_) {
      ::close(c);
    }
    ::close(listener_);
  }
  full_listener(const full_listener&) = delete;
  full_listener& operator=(const full_listener&) = delete;
  bool ok() const { return ok_; }

 private:
  int listener_ = -1;
  bool ok_ = false;
  std::vector<int> fillers_;
};

// A name whose addresses do not answer (localhost: 127.0.0.1 and, where /etc/hosts says so,
// ::1, both with full accept queues): the connect timeout ends the dial, not one timeout
// per address plus the kernel's own SYN retries (minutes) for the rest. (dialer_test checks
// that the deadline closes the connecting socket, which is what stops the next address.)
TEST_F(upstream_failure_test, EveryAddressOfANameHangingEndsAtTheConnectTimeout) {
  const std::uint16_t port = unused_port();
  full_listener v4(AF_INET, port);
  full_listener v6(AF_INET6, port);
  if (!v4.ok() || !v6.ok()) {
    GTEST_SKIP() << "cannot listen on both 127.0.0.1 and ::1";
  }
  airlock_settings settings;
  settings.connect_timeout = "1s";
  start_airlock(settings);

  const auto started = std::chrono::steady_clock::now();
  const auto r = curl({"-D", scratch("head").string(), "-o", "/dev/null", "-w", "%{http_code}",
                       "--max-time", "8", "http://localhost:" + std::to_string(port) + "/"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "504");
  EXPECT_NE(read_file(scratch("head")).find("error=connection_timeout"), std::string::npos)
      << read_file(scratch("head"));
  EXPECT_LT(seconds_since(started), 3.0);
}

}  // namespace
}  // namespace airlock::test

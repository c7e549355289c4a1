// SIGTERM: airlock stops accepting, lets in-flight requests finish within
// timeouts.drain, closes what is left at the deadline, and exits 0.

#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/recording_server.hpp"
#include "tests/support/sse_server.hpp"

namespace airlock::test {
namespace {

class drain_test : public proxy_test {
 protected:
  // Once the listener is closed, a connect is refused; polls since SIGTERM is handled
  // asynchronously. Returns whether refusal was seen within the timeout.
  bool new_connections_refused(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (try_connect(airlock().port(), 200ms) == ECONNREFUSED) {
        return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

TEST_F(drain_test, InFlightStreamCompletesAndNewConnectionsAreRefused) {
  constexpr int events = 5;
  sse_server sse({events, 200ms});
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("GET " + sse.url("/") + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                           std::to_string(sse.port()) + "\r\n\r\n"));
  ASSERT_TRUE(client->read_until(sse_server::event_text(0), 5s)) << client->buffered();

  const auto sigterm = std::chrono::steady_clock::now();
  airlock().terminate();
  EXPECT_TRUE(new_connections_refused(2s));

  // The rest of the stream, through the terminating chunk.
  ASSERT_TRUE(client->read_until("0\r\n\r\n", 5s)) << client->buffered();
  for (int i = 0; i < events; ++i) {
    EXPECT_NE(client->buffered().find(sse_server::event_text(i)), std::string::npos) << i;
  }
  EXPECT_TRUE(client->wait_closed(2s)) << "a draining airlock keeps no connection alive";
  const auto status = airlock().wait_exit(5s);
  ASSERT_TRUE(status) << "airlock still running";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(seconds_since(sigterm), 3.0);
}

TEST_F(drain_test, InFlightSlowResponseCompletes) {
  recording_server upstream(
      {"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate", keep_alive_mode::keep, 1000ms});
  start_airlock();

  auto request = start_curl(
      tmp_.path(), {"-x", airlock().proxy_url(), "-w", " %{http_code}", upstream.url("/slow")});
  ASSERT_TRUE(upstream.wait_for_requests(1, 5s));
  airlock().terminate();
  EXPECT_TRUE(new_connections_refused(2s));

  const auto r = request->finish(10s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "late 200");
  const auto status = airlock().wait_exit(5s);
  ASSERT_TRUE(status) << "airlock still running";
  EXPECT_EQ(*status, 0);
}

TEST_F(drain_test, IdleKeepAliveConnectionIsClosedAtOnce) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("GET " + upstream.url("/") +
                           " HTTP/1.1\r\nHost: " + upstream.authority() + "\r\n\r\n"));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  const auto sigterm = std::chrono::steady_clock::now();
  airlock().terminate();
  EXPECT_TRUE(client->wait_closed(2s));
  const auto status = airlock().wait_exit(5s);
  ASSERT_TRUE(status) << "airlock still running";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(seconds_since(sigterm), 1.5) << "an idle connection should not hold up the exit";
}

TEST_F(drain_test, TunnelOutlivingDrainDeadlineIsClosed) {
  recording_server upstream;
  airlock_settings settings;
  settings.drain_timeout = "1s";
  start_airlock(settings);

  auto client = connect();
  ASSERT_TRUE(client->send("CONNECT " + upstream.authority() +
                           " HTTP/1.1\r\nHost: " + upstream.authority() + "\r\n\r\n"));
  const auto established = client->read_response(5s, true);
  ASSERT_TRUE(established);
  ASSERT_EQ(established->status, 200);

  const auto sigterm = std::chrono::steady_clock::now();
  airlock().terminate();
  const auto status = airlock().wait_exit(5s);
  const double took = seconds_since(sigterm);
  ASSERT_TRUE(status) << "airlock still running";
  EXPECT_EQ(*status, 0);
  EXPECT_GE(took, 0.9) << "the tunnel was cut before the drain deadline";
  EXPECT_LT(took, 3.0);
  EXPECT_TRUE(client->wait_closed(2s));
}

}  // namespace
}  // namespace airlock::test

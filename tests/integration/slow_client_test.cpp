// Slow clients (slowloris): a request head must be complete within
// timeouts.header of its first byte, however slowly the bytes keep coming.

#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

class slow_client_test : public proxy_test {
 protected:
  void SetUp() override {
    airlock_settings settings;
    settings.header_timeout = "1s";
    start_airlock(settings);
  }
};

TEST_F(slow_client_test, PartialHeadGets408) {
  recording_server upstream;
  auto client = connect();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client->send("GET " + upstream.url("/") + " HTTP/1.1\r\nHost: "));
  const auto r = client->read_response(5s);
  const double took = seconds_since(start);
  ASSERT_TRUE(r) << "no response; closed=" << client->closed();
  EXPECT_EQ(r->status, 408);
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 2.0);
  EXPECT_TRUE(client->wait_closed(2s));
  EXPECT_EQ(upstream.connections(), 0u);
}

TEST_F(slow_client_test, DrippingBytesDoNotExtendTheDeadline) {
  recording_server upstream;
  auto client = connect();
  const std::string head = "GET " + upstream.url("/") +
                           " HTTP/1.1\r\nHost: " + upstream.authority() +
                           "\r\nX-Slow: " + std::string(100, 'z');
  const auto start = std::chrono::steady_clock::now();
  // One byte every 100 ms: each arrives well within any per-read timeout.
  for (std::size_t i = 0; i < head.size() && !client->closed(); ++i) {
    if (!client->send(head.substr(i, 1)) || client->read_until("\r\n\r\n", 100ms)) {
      break;
    }
  }
  const auto r = client->read_response(3s);
  const double took = seconds_since(start);
  ASSERT_TRUE(r) << "no response; closed=" << client->closed();
  EXPECT_EQ(r->status, 408);
  EXPECT_LT(took, 2.0);
  EXPECT_TRUE(client->wait_closed(2s));
}

TEST_F(slow_client_test, SilentConnectionIsClosed) {
  auto client = connect();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client->wait_closed(3s));
  EXPECT_LT(seconds_since(start), 2.0);
  // Nothing was asked, so nothing is answered.
  EXPECT_EQ(client->buffered(), "");
}

}  // namespace
}  // namespace airlock::test

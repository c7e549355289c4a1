// Resource limits from the config: connections beyond proxy.max_connections get a
// 503 that says why, and heads with too many fields get 431.

#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

using limits_test = proxy_test;

TEST_F(limits_test, ConnectionsBeyondTheLimitGet503) {
  recording_server upstream;
  airlock_settings settings;
  settings.max_connections = 1;
  start_airlock(settings);

  auto first = connect();
  // Make sure the first connection is accepted and counted before the second comes.
  ASSERT_TRUE(first->send("GET " + upstream.url("/") +
                          " HTTP/1.1\r\nHost: " + upstream.authority() + "\r\n\r\n"));
  ASSERT_TRUE(first->read_response(5s));

  auto second = connect();
  const auto r = second->read_response(5s);
  ASSERT_TRUE(r) << "no response; closed=" << second->closed();
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("max_connections"), std::string::npos) << r->body;
  EXPECT_TRUE(second->wait_closed(2s));

  // Once the first goes away, there is room again.
  first.reset();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    auto third = connect();
    third->send("GET " + upstream.url("/") + " HTTP/1.1\r\nHost: " + upstream.authority() +
                "\r\n\r\n");
    const auto again = third->read_response(5s);
    served = again && again->status == 200;
    if (!served) {
      std::this_thread::sleep_for(20ms);
    }
  }
  EXPECT_TRUE(served);
}

TEST_F(limits_test, TooManyHeaderFieldsIs431) {
  recording_server upstream;
  airlock_settings settings;
  settings.max_header_count = 10;
  start_airlock(settings);

  auto client = connect();
  std::string request =
      "GET " + upstream.url("/") + " HTTP/1.1\r\nHost: " + upstream.authority() + "\r\n";
  for (int i = 0; i < 20; ++i) {
    request += "X-Field-" + std::to_string(i) + ": " + std::to_string(i) + "\r\n";
  }
  ASSERT_TRUE(client->send(request + "\r\n"));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(client->wait_closed(2s));
  EXPECT_EQ(upstream.connections(), 0u);
}

}  // namespace
}  // namespace airlock::test

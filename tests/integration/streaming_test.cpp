// Server-sent events: each event must reach the client when the upstream sends it,
// not when a buffer fills or the response ends.

#include <gtest/gtest.h>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/sse_server.hpp"

namespace airlock::test {
namespace {

using streaming_test = proxy_test;
using steady = std::chrono::steady_clock;

TEST_F(streaming_test, SseEventsArriveOneByOne) {
  constexpr int events = 5;
  sse_server sse({events, 200ms});
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("GET " + sse.url("/events") + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                           std::to_string(sse.port()) + "\r\nAccept: text/event-stream\r\n\r\n"));
  std::string seen;
  std::vector<steady::time_point> arrived;
  const auto deadline = steady::now() + 10s;
  while (static_cast<int>(arrived.size()) < events && steady::now() < deadline) {
    const std::string got = client->read_some(500ms);
    const auto now = steady::now();
    if (got.empty() && client->closed()) {
      break;
    }
    seen += got;
    while (static_cast<int>(arrived.size()) < events &&
           seen.find(sse_server::event_text(static_cast<int>(arrived.size()))) !=
               std::string::npos) {
      arrived.push_back(now);
    }
  }
  ASSERT_EQ(static_cast<int>(arrived.size()), events) << seen;
  EXPECT_NE(seen.find("Content-Type: text/event-stream"), std::string::npos) << seen;

  const auto sent = sse.sent_times();
  ASSERT_EQ(static_cast<int>(sent.size()), events);
  for (int i = 0; i < events; ++i) {
    const auto lag = std::chrono::duration_cast<std::chrono::milliseconds>(arrived[i] - sent[i]);
    EXPECT_LT(lag, 100ms) << "event " << i << " arrived " << lag.count() << " ms after it was sent";
    if (i > 0) {
      // Spaced as sent: held-back events would arrive together.
      EXPECT_GT(arrived[i] - arrived[i - 1], 100ms)
          << "event " << i << " came with event " << i - 1;
    }
  }
}

}  // namespace
}  // namespace airlock::test

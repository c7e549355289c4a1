#pragma once
// A text/event-stream upstream: answers each request with `events` events, one
// chunk each, `interval` apart, and records when it sent each one so a test can
// tell whether the proxy passed them on one by one or held them back.

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/loopback_server.hpp"

namespace airlock::test {

struct sse_options {
  int events = 5;
  std::chrono::milliseconds interval{200};
};

class sse_server {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit sse_server(sse_options opts = {});

  // Closes the listener and every connection now (the destructor does it too).
  void stop() { server_.stop(); }

  std::uint16_t port() const { return server_.port(); }
  std::string url(std::string_view path = "/") const { return server_.url(path); }

  // Send times of the events so far, in order, across connections.
  std::vector<time_point> sent_times() const;

  // The payload line of event i, as a client sees it: "data: event i".
  static std::string event_text(int i);

 private:
  asio::awaitable<void> serve(tcp::socket sock);

  sse_options opts_;
  mutable std::mutex mutex_;
  std::vector<time_point> sent_;
  loopback_server server_;  // last: stops before the state above goes away
};

}  // namespace airlock::test

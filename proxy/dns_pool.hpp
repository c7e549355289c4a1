#pragma once
// Name lookups off the data plane. getaddrinfo blocks, and Asio's resolver runs all the
// lookups of an io_context on one private thread, one after another: one name whose server
// never answers would hold back every other new host on that worker until the C library
// gives up (seconds), whatever the connect deadline. Here a few threads shared by every
// worker do the lookups, and a session waits only as long as its own deadline: a late
// answer is dropped, and the thread it held is the only thing it costs.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/asio.hpp"

namespace airlock::proxy {

class dns_pool {
 public:
  // One lookup in flight. The session waits on `done`, a timer that never expires by itself:
  // the answer cancels it (with `answer` set), and so does the session's deadline (without).
  struct lookup {
    explicit lookup(const asio::any_io_executor& ex) : done(ex, clock::time_point::max()) {}

    asio::steady_timer done;
    struct result {
      std::vector<tcp::endpoint> endpoints;
      int error = 0;  // a getaddrinfo EAI_* code; 0 when endpoints holds the answer
    };
    std::optional<result> answer;  // written on done's executor only
  };

  // Starts `threads` lookup threads; `max_queued` lookups may wait for one (more are refused
  // at once with EAI_AGAIN, so a flood of names cannot grow memory).
  dns_pool(std::size_t threads, std::size_t max_queued);
  // shutdown(), then leaves threads still inside getaddrinfo to finish on their own.
  ~dns_pool();
  dns_pool(const dns_pool&) = delete;
  dns_pool& operator=(const dns_pool&) = delete;

  // Queues a lookup of host for port; the answer is posted to l->done's executor. Never
  // blocks, never throws for a refused lookup (that is an answer too).
  void start(std::shared_ptr<lookup> l, std::string host, std::uint16_t port);

  // From here on nothing is posted anywhere: call before the executors lookups were started
  // from are destroyed. Queued lookups are dropped unanswered.
  void shutdown();

 private:
  struct state;
  // A lookup thread's body: takes queued lookups until shut down.
  static void run(const std::shared_ptr<state>& s);

  std::shared_ptr<state> state_;
};

}  // namespace airlock::proxy

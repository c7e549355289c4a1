#pragma once
// Name lookups off the data plane. getaddrinfo blocks, and Asio's resolver runs all the
// lookups of an io_context on one private thread, one after another: one name whose server
// never answers would hold back every other new host on that worker until the C library
// gives up (seconds), whatever the connect deadline. Here threads shared by every worker,
// more while all are busy, do the lookups, and a session waits only as long as its own deadline: a
// late answer is dropped, and the thread it held is the only thing it costs.
//
// An agent retrying a host whose name server is down asks for the same stalled name again
// and again; were each ask its own lookup, a handful of retries would hold every thread and
// stall every new host on every worker. So everyone asking for a name while its lookup is
// queued or running shares that one lookup, and a queued lookup all its askers have given
// up on is never made.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/io/asio.hpp"

namespace airlock::proxy {

class dns_pool {
 public:
  // One session's wait for an answer. The session waits on `done`, a timer that never
  // expires by itself: the answer cancels it (with `answer` set), and so does the session's
  // deadline (without). The session holding it is what keeps the ask alive: once released,
  // the pool treats the ask as given up.
  struct lookup {
    explicit lookup(const asio::any_io_executor& ex) : done(ex, clock::time_point::max()) {}

    asio::steady_timer done;
    struct result {
      std::vector<tcp::endpoint> endpoints;
      int error = 0;  // a getaddrinfo EAI_* code; 0 when endpoints holds the answer
    };
    std::optional<result> answer;  // written on done's executor only
  };
  using result = lookup::result;
  // What a lookup thread runs; blocking is allowed. Tests pass their own.
  using resolver = std::function<result(const std::string& host, const std::string& port)>;

  // getaddrinfo for a TCP connection to host:port, numeric port, any family configured here.
  static result system_resolve(const std::string& host, const std::string& port);

  // Starts `threads` lookup threads, and more while every one is busy, up to `max_threads`
  // (a stalled name holds its thread until the C library gives up, seconds). `max_waiting`
  // asks may be outstanding; more are refused at once with EAI_AGAIN, so a flood of names
  // cannot grow memory.
  dns_pool(std::size_t threads, std::size_t max_threads, std::size_t max_waiting,
           resolver resolve = system_resolve);
  // shutdown(), then leaves threads still inside a lookup to finish on their own.
  ~dns_pool();
  dns_pool(const dns_pool&) = delete;
  dns_pool& operator=(const dns_pool&) = delete;

  // Asks for host:port; the answer is posted to l->done's executor. Never blocks, never
  // throws for a refused ask (that is an answer too). The pool keeps only a weak reference.
  void start(const std::shared_ptr<lookup>& l, const std::string& host, std::uint16_t port);

  // From here on nothing is posted anywhere: call before the executors lookups were started
  // from are destroyed. Outstanding asks are dropped unanswered.
  void shutdown();

 private:
  struct state;
  // A lookup thread's body: makes queued lookups until shut down.
  static void run(const std::shared_ptr<state>& s);

  std::shared_ptr<state> state_;
};

}  // namespace airlock::proxy

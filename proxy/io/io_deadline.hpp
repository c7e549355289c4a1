#pragma once
// One deadline per connection instead of one timer per operation: the session moves
// the expiry before each I/O (a store, or a timer reset only when it moves earlier),
// and a watchdog coroutine calls on_expiry when it passes, which cancels whatever
// I/O is pending. The session then sees operation_aborted with fired() set.

#include <functional>

#include "proxy/io/asio.hpp"

namespace airlock::proxy {

class io_deadline {
 public:
  explicit io_deadline(const asio::any_io_executor& ex) : timer_(ex, clock::time_point::max()) {}

  void arm(clock::duration d) { arm_at(clock::now() + d); }

  void arm_at(clock::time_point when) {
    expiry_ = when;
    fired_ = false;
    if (when < timer_.expiry()) {
      timer_.expires_at(when);  // wakes the watchdog so it waits for the earlier time
    }
  }

  // No deadline until the next arm().
  void disarm() { expiry_ = clock::time_point::max(); }

  bool fired() const { return fired_; }

  // Ends watch(); call when the connection is done.
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

  // Runs until stop(). on_expiry runs on the connection's executor, between operations.
  // on_expiry is a caller's named variable that outlives the watch: a lambda converted to
  // std::function inside the co_await expression would be destroyed twice by GCC 12.
  awaitable<void> watch(const std::function<void()>& on_expiry) {
    while (!stopped_) {
      timer_.expires_at(expiry_);
      co_await timer_.async_wait(use_tuple);
      if (stopped_) {
        break;
      }
      if (expiry_ <= clock::now()) {
        fired_ = true;
        expiry_ = clock::time_point::max();
        on_expiry();
      }
    }
  }

 private:
  asio::steady_timer timer_;
  clock::time_point expiry_ = clock::time_point::max();
  bool fired_ = false;
  bool stopped_ = false;
};

}  // namespace airlock::proxy

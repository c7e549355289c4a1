#pragma once
// The process-wide budget for memory held by heads that outgrow a connection's first
// buffer (proxy.max_pending_head_bytes). Every connection may hold one read buffer of
// each kind without asking; a request or response head that needs more reserves the
// difference here, and gives it back when its buffer shrinks or the connection ends. So
// the memory heads can hold is max_connections x the base buffers + this limit, however
// many clients send 60 KB heads at once.
//
// Lock-free (workers are threads): one compare-and-swap per growth step, and nothing on
// the common path, where heads fit the first buffer.

#include <atomic>
#include <cstddef>

namespace airlock::proxy {

class head_budget {
 public:
  explicit head_budget(std::size_t limit) : limit_(limit) {}
  head_budget(const head_budget&) = delete;
  head_budget& operator=(const head_budget&) = delete;

  // Takes n bytes if they fit under the limit; never overshoots, even under contention.
  bool try_reserve(std::size_t n) {
    std::size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ - used) {
        return false;
      }
    } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }

  void release(std::size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }

  std::size_t used() const { return used_.load(std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

 private:
  std::atomic<std::size_t> used_{0};
  const std::size_t limit_;
};

// One holder's share of a budget, adjusted to what it currently needs and given back when
// the holder goes (a session's copies of a large head: the upstream request, its target).
class head_hold {
 public:
  explicit head_hold(head_budget& budget) : budget_(budget) {}
  ~head_hold() { cover(0); }
  head_hold(const head_hold&) = delete;
  head_hold& operator=(const head_hold&) = delete;

  // Holds exactly n bytes; false, holding what it held before, when the budget refuses more.
  bool cover(std::size_t n) {
    if (n > held_) {
      if (!budget_.try_reserve(n - held_)) {
        return false;
      }
    } else if (n < held_) {
      budget_.release(held_ - n);
    }
    held_ = n;
    return true;
  }

  std::size_t held() const { return held_; }

 private:
  head_budget& budget_;
  std::size_t held_ = 0;
};

}  // namespace airlock::proxy

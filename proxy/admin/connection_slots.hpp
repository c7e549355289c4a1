#pragma once
// The live connections of one control listener, oldest first, with a fixed cap. The
// agent can reach the TCP listeners (same network namespace): unbounded, a flood of
// half-sent heads would take airlock's memory; refused outright at the cap, the flood
// would lock the orchestrator and the kubelet out. So a full listener closes its oldest
// connection that is only waiting for a head (a real client sends its request at once)
// and refuses a newcomer only when every connection is busy being answered.
// Single-threaded: used on the control thread only.

#include <cstddef>
#include <functional>
#include <list>
#include <optional>

namespace airlock::proxy::control {

class connection_slots {
 public:
  struct slot {
    std::function<void()> close;  // ends the connection's pending I/O
    bool busy = false;            // a request is being answered: never evicted
    bool evicted = false;         // closed to make room; gone once its coroutine ends
  };
  using handle = std::list<slot>::iterator;

  explicit connection_slots(std::size_t cap) : cap_(cap) {}

  // A slot for a new connection. At the cap the oldest idle connection is closed and its
  // slot given up; nullopt (refuse the newcomer) when every connection is busy.
  std::optional<handle> admit(std::function<void()> close);
  void release(handle h);

  // Connections counted against the cap (evicted ones are on their way out).
  std::size_t size() const { return live_.size() - closing_; }
  std::size_t cap() const { return cap_; }
  std::size_t evicted() const { return evicted_; }

 private:
  std::size_t cap_;
  std::list<slot> live_;
  std::size_t evicted_ = 0;
  std::size_t closing_ = 0;  // evicted, not yet released
};

}  // namespace airlock::proxy::control

#include "proxy/admin/connection_slots.hpp"

namespace airlock::proxy::control {

std::optional<connection_slots::handle> connection_slots::admit(std::function<void()> close) {
  if (size() >= cap_) {
    auto oldest_idle = live_.begin();
    while (oldest_idle != live_.end() && (oldest_idle->busy || oldest_idle->evicted)) {
      ++oldest_idle;
    }
    if (oldest_idle == live_.end()) {
      return std::nullopt;
    }
    // The evicted connection's coroutine still holds its handle and releases it when its
    // I/O completes with an error, on the next turn of the loop.
    auto evict = std::move(oldest_idle->close);
    oldest_idle->close = nullptr;
    oldest_idle->evicted = true;
    ++closing_;
    ++evicted_;
    if (evict) {
      evict();
    }
  }
  live_.push_back(slot{std::move(close), false, false});
  return std::prev(live_.end());
}

void connection_slots::release(handle h) {
  if (h->evicted) {
    --closing_;
  }
  live_.erase(h);
}

}  // namespace airlock::proxy::control

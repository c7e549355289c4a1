#include "tests/support/request_log.hpp"

#include <thread>

namespace airlock::test {

void request_log::add_bytes(std::string_view bytes) {
  std::lock_guard lock(mutex_);
  received_.append(bytes);
}

void request_log::add_request(std::string request) {
  std::lock_guard lock(mutex_);
  requests_.push_back(std::move(request));
}

void request_log::add_ended_connection(std::string received) {
  std::lock_guard lock(mutex_);
  ended_.push_back(std::move(received));
}

std::string request_log::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::vector<std::string> request_log::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<std::string> request_log::ended_connections() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

bool request_log::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (requests_.size() >= count) {
        return true;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace airlock::test

#pragma once
// What a test upstream received, shared between its serving thread and the test:
// every byte in order of arrival, each framed request, and what each connection
// received once it has ended. Thread-safe.

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace airlock::test {

class request_log {
 public:
  void add_bytes(std::string_view bytes);
  void add_request(std::string request);
  void add_ended_connection(std::string received);

  std::string received() const;
  std::vector<std::string> requests() const;
  // Every byte each ended connection received, one entry a connection, in order of ending.
  std::vector<std::string> ended_connections() const;

  // Blocks until `count` requests have arrived or the timeout passes; true if they did.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mutex_;
  std::string received_;
  std::vector<std::string> requests_;
  std::vector<std::string> ended_;
};

}  // namespace airlock::test

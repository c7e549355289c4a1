#pragma once
// Idle keep-alive connections to upstreams, per worker (so no locks), keyed by
// "host:port". Bounded per key and by age; a connection the peer closed while it
// sat idle is detected and dropped when taken, never handed out.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/asio.hpp"
#include "proxy/stream.hpp"

namespace airlock::proxy {

class upstream_pool {
 public:
  upstream_pool(std::size_t max_idle_per_key, clock::duration max_idle_age)
      : max_per_key_(max_idle_per_key), max_age_(max_idle_age) {}

  // The most recently returned live connection for key, or nullptr.
  upstream_ptr take(std::string_view key);

  // Keeps conn for reuse; closes it instead when the key is full or the pool is closed.
  void put(std::string_view key, upstream_ptr conn);

  // Closes connections idle longer than the age limit.
  void sweep(clock::time_point now);

  // Closes everything and refuses further puts (drain).
  void close();

  std::size_t idle_count() const;

 private:
  struct entry {
    upstream_ptr conn;
    clock::time_point since;
  };
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::unordered_map<std::string, std::vector<entry>, key_hash, std::equal_to<>> idle_;
  std::size_t max_per_key_;
  clock::duration max_age_;
  bool closed_ = false;
};

}  // namespace airlock::proxy

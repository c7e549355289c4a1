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

#include "proxy/io/asio.hpp"
#include "proxy/tls/stream.hpp"

namespace airlock::proxy {

class upstream_pool {
 public:
  // probe_after: connections idle at least this long are probed for liveness when
  // taken. The probe is a syscall, a fifth of a pooled request's; one back in the pool
  // for under a second was answering a moment ago, and if it closed since, the retry
  // of an idempotent request covers it.
  upstream_pool(std::size_t max_idle_per_key, clock::duration max_idle_age,
                clock::duration probe_after = std::chrono::seconds(1))
      : max_per_key_(max_idle_per_key), max_age_(max_idle_age), probe_after_(probe_after) {}

  // The most recently returned live connection for key, or nullptr. always_probe is for
  // requests that cannot be retried (a POST): they never get an unprobed connection.
  upstream_ptr take(std::string_view key, bool always_probe = false);

  // All keys together keep at most n (default: no bound besides the per-key one), so the
  // connections a pool holds are bounded whatever the number of hosts.
  void set_max_total(std::size_t n) { max_total_ = n; }

  // Keeps conn for reuse; closes it instead when the key or the pool is full, or the pool
  // is closed.
  void put(std::string_view key, upstream_ptr conn);

  // Closes connections idle longer than the age limit.
  void sweep(clock::time_point now);

  // Closes everything and refuses further puts (drain).
  void close();

  // Closes the idle connections that carried a credential (revoke); returns how many.
  std::size_t close_credentialed();

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
  std::size_t max_total_ = static_cast<std::size_t>(-1);
  std::size_t count_ = 0;  // entries in idle_
  clock::duration max_age_;
  clock::duration probe_after_;
  bool closed_ = false;
};

}  // namespace airlock::proxy

#pragma once
// Process-wide traffic counters. The hot path only does relaxed increments; the
// metrics exporter (and the shutdown log line) read them. Fixed fields, no labels,
// so nothing a client sends can add a series.

#include <atomic>
#include <cstdint>

namespace airlock::proxy {

struct stats {
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::int64_t> connections_active{0};
  std::atomic<std::uint64_t> connections_refused{0};  // over max_connections
  std::atomic<std::uint64_t> requests_total{0};
  std::atomic<std::uint64_t> requests_rejected{0};  // 4xx answered by airlock itself
  std::atomic<std::uint64_t> upstream_errors{0};    // 502/504 answered by airlock
  std::atomic<std::uint64_t> upstream_connects{0};
  std::atomic<std::uint64_t> upstream_reuses{0};
  std::atomic<std::uint64_t> upstream_tls_handshakes{0};
  std::atomic<std::uint64_t> upstream_tls_resumed{0};
  std::atomic<std::uint64_t> upstream_tls_verify_failures{0};
  std::atomic<std::uint64_t> tunnels_total{0};
  std::atomic<std::int64_t> tunnels_active{0};
  std::atomic<std::uint64_t> bytes_from_client{0};
  std::atomic<std::uint64_t> bytes_to_client{0};
  std::atomic<std::uint64_t> tunnel_bytes_up{0};
  std::atomic<std::uint64_t> tunnel_bytes_down{0};
  std::atomic<std::uint64_t> tunnel_splices{0};      // directions relayed by splice(2)
  std::atomic<std::uint64_t> telemetry_blocked{0};   // per entry: policy::blocked
  std::atomic<std::uint64_t> egress_denied{0};       // allow/deny lists
  std::atomic<std::uint64_t> egress_report_only{0};  // would have been denied
  std::atomic<std::uint64_t> private_address_blocked{0};

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  static void add(std::atomic<std::int64_t>& c, std::int64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace airlock::proxy

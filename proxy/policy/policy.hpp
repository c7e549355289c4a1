#pragma once
// The egress decision for one destination: vendor telemetry blocked, then the deny list,
// then the allow list and the default. The same decision for CONNECT (host only: the path
// is unknown), absolute-form requests, intercepted requests and reverse routes. Pure
// apart from the counters, which only go up.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"

namespace airlock::proxy {

struct verdict {
  enum class kind { allow, telemetry, denied };
  kind what = kind::allow;
  std::string_view rule;     // the telemetry entry's name or the egress pattern as written
  std::size_t entry = 0;     // telemetry: index into policy::telemetry()
  bool report_only = false;  // denied by egress, let through because of report_only
};

class policy {
 public:
  explicit policy(const config::config& cfg);
  policy(const policy&) = delete;
  policy& operator=(const policy&) = delete;

  // host as authority parsing leaves it (net::canonical_host: lowercase, no trailing dot,
  // IPv4 and IPv4-mapped IPv6 as a dotted quad);
  // path: the origin-form target when airlock can see it, nullopt for a CONNECT.
  verdict decide(std::string_view host, std::uint16_t port,
                 std::optional<std::string_view> path) const;

  // Whether a telemetry entry with a path covers host and port: its requests must be seen
  // (intercepted) to be judged. host as for decide().
  bool judges_paths(std::string_view host, std::uint16_t port) const;

  // Telemetry entries in force: the defaults minus unblock, then telemetry.block.
  const std::vector<config::telemetry_entry>& telemetry() const { return entries_; }
  int telemetry_answer() const { return answer_; }

  // Counts, by entry index, of telemetry requests refused.
  std::uint64_t blocked(std::size_t entry) const { return counts_[entry].load(); }
  void count_blocked(std::size_t entry) const { counts_[entry].fetch_add(1); }

 private:
  std::vector<config::telemetry_entry> entries_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  const config::egress_config& egress_;
  int answer_;
};

// Whether pattern covers host and port (exact or "*.suffix"; IPv6 and IPv4-mapped
// literals compared in canonical form).
bool pattern_matches(const config::host_pattern& pattern, std::string_view host,
                     std::uint16_t port);

}  // namespace airlock::proxy

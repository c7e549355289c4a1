#pragma once
// Prometheus metrics. Every labelled series is registered at start from fixed sets (modes,
// status classes, refusal reasons, address classes) and from config names (credential
// rules, telemetry entries, secrets): nothing a client sends can add a series. The data
// plane only increments references it was handed; the scrape reads the rest (connection
// counts, TLS, lifecycle) from the counters and objects that already keep them.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "config/model.hpp"
#include "proxy/observe/labels.hpp"

namespace airlock::proxy {

struct stats;

class metrics {
 public:
  explicit metrics(const config::config& cfg);
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  void request(traffic_mode m, int status) {
    const int cls = status >= 100 && status < 600 ? status / 100 - 1 : 4;
    requests_[static_cast<std::size_t>(m)][static_cast<std::size_t>(cls)]->Increment();
  }
  // Time from the request head to the upstream's response head.
  void upstream_latency(traffic_mode m, double seconds) {
    latency_[static_cast<std::size_t>(m)]->Observe(seconds);
  }
  void refused(refusal_kind k) { refusals_[static_cast<std::size_t>(k)]->Increment(); }
  // rule: index into config.credentials.
  void injected(std::size_t rule) { injections_[rule]->Increment(); }
  // Occurrences of a secret masked in responses from a host the rule names.
  void scrubbed(std::size_t rule, std::uint64_t n) {
    scrubs_[rule]->Increment(static_cast<double>(n));
  }
  void client_auth_stripped(std::size_t n) { stripped_->Increment(static_cast<double>(n)); }

  // What the scrape reads besides the series above: plain values the caller copies from the
  // objects that keep them, so this leaf knows nothing of policy, TLS or the secret store.
  struct sources {
    const stats* counters = nullptr;
    struct heads_t {
      std::size_t used = 0;
      std::size_t limit = 0;
    };
    std::optional<heads_t> heads;
    struct telemetry_entry {
      std::string name;
      std::uint64_t blocked = 0;
    };
    std::vector<telemetry_entry> telemetry;
    struct tls_t {
      std::uint64_t leaves_minted = 0;
      std::uint64_t leaf_cache_hits = 0;
      std::size_t leaf_cache_entries = 0;
      std::int64_t ca_expiry_unix_seconds = 0;
      std::uint64_t ca_renewals = 0;
    };
    std::optional<tls_t> tls;
    struct secret_entry {
      std::string name;
      bool present = false;
      std::optional<double> age_seconds;  // since it was loaded, pushed or rotated
    };
    struct secrets_t {
      std::string_view phase;  // setup, execution or revoked
      std::vector<secret_entry> entries;
    };
    std::optional<secrets_t> secrets;
    std::uint64_t admin_auth_failures = 0;
  };
  // The text exposition format (version 0.0.4).
  std::string render(const sources& from) const;

 private:
  const config::config& cfg_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::array<std::array<prometheus::Counter*, 5>, 4> requests_{};
  std::array<prometheus::Histogram*, 4> latency_{};
  std::array<prometheus::Counter*, refusal_kind_names.size()> refusals_{};
  std::vector<prometheus::Counter*> injections_;
  std::vector<prometheus::Counter*> scrubs_;
  prometheus::Counter* stripped_ = nullptr;
};

}  // namespace airlock::proxy

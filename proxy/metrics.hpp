#pragma once
// Prometheus metrics. Every labelled series is registered at start from fixed sets (modes,
// status classes, refusal reasons, address classes) and from config names (credential
// rules, telemetry entries, secrets): nothing a client sends can add a series. The data
// plane only increments references it was handed; the scrape reads the rest (connection
// counts, TLS, lifecycle) from the counters and objects that already keep them.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "config/model.hpp"
#include "proxy/responses.hpp"

namespace airlock::secrets {
class store;
}

namespace airlock::proxy {

struct stats;
class head_budget;
class policy;
struct tls_state;

enum class traffic_mode { forward, tunnel, intercept, route };
inline constexpr std::array<std::string_view, 4> traffic_mode_names = {"forward", "tunnel",
                                                                       "intercept", "route"};

// Why airlock answered a request itself.
enum class refusal_kind {
  telemetry,
  egress_denied,
  private_address,
  host_mismatch,
  secret_missing,
  credentials_revoked,
  route_not_found,
  bad_request,
  upstream_error,
  upstream_timeout,
  method_refused,
  head_budget,
  other,
};
inline constexpr std::array<std::string_view, 13> refusal_kind_names = {
    "telemetry",      "egress_denied",       "private_address", "host_mismatch",
    "secret_missing", "credentials_revoked", "route_not_found", "bad_request",
    "upstream_error", "upstream_timeout",    "method_refused",  "head_budget",
    "other"};

// The kind of a refusal, from what the session put in it.
refusal_kind classify(const refusal& r);

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
  void client_auth_stripped(std::size_t n) { stripped_->Increment(static_cast<double>(n)); }

  // What the scrape reads besides the series above.
  struct sources {
    const stats* counters = nullptr;
    const policy* egress = nullptr;
    const secrets::store* secrets = nullptr;
    const tls_state* tls = nullptr;
    const head_budget* heads = nullptr;
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
  prometheus::Counter* stripped_ = nullptr;
};

}  // namespace airlock::proxy

#include "proxy/observe/metrics.hpp"

#include <sstream>

#include <prometheus/text_serializer.h>

#include "proxy/observe/stats.hpp"
#include "proxy/version.hpp"

namespace airlock::proxy {

namespace {

constexpr std::array<std::string_view, 5> status_classes = {"1xx", "2xx", "3xx", "4xx", "5xx"};

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add_value(prometheus::MetricFamily& f, double value,
               std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

prometheus::MetricFamily counter(std::string name, std::string help, double value) {
  auto f = family(std::move(name), std::move(help), prometheus::MetricType::Counter);
  add_value(f, value);
  return f;
}

prometheus::MetricFamily gauge(std::string name, std::string help, double value) {
  auto f = family(std::move(name), std::move(help), prometheus::MetricType::Gauge);
  add_value(f, value);
  return f;
}

double load(const std::atomic<std::uint64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}
double load(const std::atomic<std::int64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}

}  // namespace

metrics::metrics(const config::config& cfg)
    : cfg_(cfg), registry_(std::make_shared<prometheus::Registry>()) {
  auto& requests = prometheus::BuildCounter()
                       .Name("airlock_requests_total")
                       .Help("Requests and tunnels by mode and the status class of the answer")
                       .Register(*registry_);
  for (std::size_t m = 0; m < traffic_mode_names.size(); ++m) {
    for (std::size_t c = 0; c < status_classes.size(); ++c) {
      requests_[m][c] = &requests.Add({{"mode", std::string(traffic_mode_names[m])},
                                       {"status_class", std::string(status_classes[c])}});
    }
  }
  auto& latency = prometheus::BuildHistogram()
                      .Name("airlock_upstream_response_seconds")
                      .Help("Time from the request head to the upstream's response head")
                      .Register(*registry_);
  const prometheus::Histogram::BucketBoundaries buckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  for (std::size_t m = 0; m < traffic_mode_names.size(); ++m) {
    latency_[m] = &latency.Add({{"mode", std::string(traffic_mode_names[m])}}, buckets);
  }
  auto& refusals = prometheus::BuildCounter()
                       .Name("airlock_refusals_total")
                       .Help("Requests airlock answered itself, by reason")
                       .Register(*registry_);
  for (std::size_t k = 0; k < refusal_kind_names.size(); ++k) {
    refusals_[k] = &refusals.Add({{"reason", std::string(refusal_kind_names[k])}});
  }
  auto& injections = prometheus::BuildCounter()
                         .Name("airlock_injections_total")
                         .Help("Requests that went upstream with a credential, by rule")
                         .Register(*registry_);
  auto& scrubs = prometheus::BuildCounter()
                     .Name("airlock_scrubbed_total")
                     .Help("Occurrences of a secret masked in responses, by rule naming the host")
                     .Register(*registry_);
  for (const auto& rule : cfg.credentials) {
    injections_.push_back(&injections.Add({{"rule", rule.name}}));
    scrubs_.push_back(&scrubs.Add({{"rule", rule.name}}));
  }
  stripped_ = &prometheus::BuildCounter()
                   .Name("airlock_client_auth_fields_stripped_total")
                   .Help(
                       "Client credential carriers (header fields, query parameters) removed from "
                       "requests a rule injects into: placeholders")
                   .Register(*registry_)
                   .Add({});
}

std::string metrics::render(const sources& from) const {
  std::vector<prometheus::MetricFamily> out = registry_->Collect();
  if (const stats* s = from.counters) {
    out.push_back(counter("airlock_client_connections_total", "Client connections accepted",
                          load(s->connections_total)));
    out.push_back(gauge("airlock_client_connections_active", "Client connections open",
                        load(s->connections_active)));
    out.push_back(counter("airlock_client_connections_refused_total",
                          "Client connections refused over proxy.max_connections",
                          load(s->connections_refused)));
    out.push_back(counter("airlock_upstream_connections_total", "Upstream connections opened",
                          load(s->upstream_connects)));
    out.push_back(counter("airlock_upstream_pool_reuses_total",
                          "Requests sent on a pooled upstream connection",
                          load(s->upstream_reuses)));
    out.push_back(counter("airlock_client_bytes_received_total", "Bytes read from clients",
                          load(s->bytes_from_client)));
    out.push_back(counter("airlock_client_bytes_sent_total", "Bytes written to clients",
                          load(s->bytes_to_client)));
    out.push_back(
        counter("airlock_tunnels_total", "CONNECT tunnels relayed blind", load(s->tunnels_total)));
    out.push_back(gauge("airlock_tunnels_active", "CONNECT tunnels open", load(s->tunnels_active)));
    auto tb = family("airlock_tunnel_bytes_total", "Bytes relayed through blind tunnels",
                     prometheus::MetricType::Counter);
    add_value(tb, load(s->tunnel_bytes_up), {{"direction", "up"}});
    add_value(tb, load(s->tunnel_bytes_down), {{"direction", "down"}});
    out.push_back(std::move(tb));
    out.push_back(counter("airlock_tunnel_splices_total",
                          "Tunnel directions moved to zero-copy splice(2) once they turned bulk",
                          load(s->tunnel_splices)));
    out.push_back(counter("airlock_upstream_tls_handshakes_total",
                          "TLS handshakes with upstreams (verified)",
                          load(s->upstream_tls_handshakes)));
    out.push_back(counter("airlock_upstream_tls_resumed_total",
                          "Upstream TLS handshakes that resumed a session",
                          load(s->upstream_tls_resumed)));
    out.push_back(counter("airlock_upstream_tls_verify_failures_total",
                          "Upstream certificates that failed verification",
                          load(s->upstream_tls_verify_failures)));
    out.push_back(counter("airlock_egress_report_only_total",
                          "Requests egress.report_only let through that the lists would refuse",
                          load(s->egress_report_only)));
  }
  if (const auto& h = from.heads) {
    out.push_back(gauge("airlock_pending_head_bytes",
                        "Memory large heads hold beyond each connection's first buffer",
                        static_cast<double>(h->used)));
    out.push_back(gauge("airlock_pending_head_bytes_limit", "proxy.max_pending_head_bytes",
                        static_cast<double>(h->limit)));
  }
  {
    auto f = family("airlock_telemetry_blocked_total", "Vendor telemetry refused, by entry",
                    prometheus::MetricType::Counter);
    for (const auto& e : from.telemetry) {
      add_value(f, static_cast<double>(e.blocked), {{"entry", e.name}});
    }
    out.push_back(std::move(f));
  }
  if (const auto& t = from.tls) {
    out.push_back(counter("airlock_leaf_certificates_minted_total",
                          "Leaf certificates minted by the workspace CA",
                          static_cast<double>(t->leaves_minted)));
    out.push_back(counter("airlock_leaf_cache_hits_total",
                          "Intercepted handshakes served from "
                          "the leaf cache",
                          static_cast<double>(t->leaf_cache_hits)));
    out.push_back(gauge("airlock_leaf_cache_entries", "Leaf certificates cached",
                        static_cast<double>(t->leaf_cache_entries)));
    out.push_back(gauge("airlock_ca_expiry_timestamp_seconds",
                        "When the workspace CA that signs leaves now expires (Unix time)",
                        static_cast<double>(t->ca_expiry_unix_seconds)));
    out.push_back(counter("airlock_ca_renewals_total",
                          "Workspace CA renewals since start (each at 2/3 of its lifetime)",
                          static_cast<double>(t->ca_renewals)));
  }
  if (const auto& st = from.secrets) {
    auto phase = family("airlock_lifecycle_phase", "1 for the current secret lifecycle phase",
                        prometheus::MetricType::Gauge);
    for (std::string_view p : {"setup", "execution", "revoked"}) {
      add_value(phase, p == st->phase ? 1 : 0, {{"phase", std::string(p)}});
    }
    out.push_back(std::move(phase));
    auto present = family("airlock_secret_present", "1 when the secret holds a value",
                          prometheus::MetricType::Gauge);
    auto age = family("airlock_secret_age_seconds",
                      "Seconds since the secret was loaded, pushed or rotated",
                      prometheus::MetricType::Gauge);
    for (const auto& e : st->entries) {
      add_value(present, e.present ? 1 : 0, {{"secret", e.name}});
      if (e.present && e.age_seconds) {
        add_value(age, *e.age_seconds, {{"secret", e.name}});
      }
    }
    out.push_back(std::move(present));
    out.push_back(std::move(age));
  }
  out.push_back(counter("airlock_admin_auth_failures_total",
                        "Admin API calls refused for a missing or wrong token",
                        static_cast<double>(from.admin_auth_failures)));
  auto build = family("airlock_build_info", "airlock's version", prometheus::MetricType::Gauge);
  add_value(build, 1, {{"version", std::string(airlock::version)}});
  out.push_back(std::move(build));

  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, out);
  return text.str();
}

}  // namespace airlock::proxy

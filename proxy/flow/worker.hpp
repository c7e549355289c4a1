#pragma once
// One event-loop thread: its own io_context, its own listening socket (SO_REUSEPORT,
// so the kernel spreads connections), its own upstream pool and connections. Nothing in
// a worker is shared with another worker except the config (read-only) and counters.

#include <atomic>
#include <cstddef>
#include <optional>
#include <unordered_set>
#include <vector>

#include "config/model.hpp"
#include "proxy/flow/connection.hpp"
#include "proxy/flow/flow_context.hpp"
#include "proxy/flow/head_budget.hpp"
#include "proxy/flow/upstream_pool.hpp"
#include "proxy/io/asio.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/observe/stats.hpp"
#include "proxy/policy/policy.hpp"
#include "proxy/tls/tls_session_cache.hpp"
#include "secrets/store.hpp"

namespace airlock::proxy {

class dns_pool;
class scrub_cache;
struct tls_state;

class worker final : private connection_set {
 public:
  worker(const config::config& cfg, stats& counters, std::atomic<std::size_t>& connections,
         tls_state* tls, secrets::store& secrets, const policy& egress, metrics& series);
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // Binds this worker's listener. Throws boost::system::system_error (startup only).
  tcp::endpoint listen(const tcp::endpoint& at);

  // Thread body: accepts and serves until drained or stopped.
  void run();

  // Thread-safe: stop accepting, close idle keep-alive connections, let the rest finish.
  void begin_drain();
  // Thread-safe: close every connection now.
  void force_close();
  // On this worker's thread: closes every client connection and pooled upstream
  // connection that carried a credential (revoke); returns how many.
  std::size_t close_credentialed();

  asio::io_context& io() { return io_; }
  const config::config& cfg() const { return cfg_; }
  stats& counters() { return stats_; }
  upstream_pool& pool() { return pool_; }
  tls_session_cache& tls_sessions() { return tls_sessions_; }
  bool draining() const { return draining_; }
  // Interception state; nullptr when no credential rule is configured.
  tls_state* tls() const { return tls_; }
  secrets::store& secrets() const { return secrets_; }
  const policy& egress() const { return policy_; }
  metrics& series() const { return metrics_; }
  // Where airlock itself listens: never a destination, whatever the policy allows.
  const std::vector<tcp::endpoint>& self_endpoints() const { return *self_; }
  void set_self_endpoints(const std::vector<tcp::endpoint>* self) { self_ = self; }
  // Name lookups, shared by every worker (set before run()).
  dns_pool& dns() const { return *dns_; }
  void set_dns(dns_pool* dns) { dns_ = dns; }
  // Memory for heads beyond each connection's first buffer, shared by every worker
  // (set before run()).
  head_budget& heads() const { return *heads_; }
  void set_head_budget(head_budget* heads) { heads_ = heads; }
  // The response scrubbers' automata, shared by every worker (set before run()).
  void set_scrub_cache(scrub_cache* scrubs) { scrubs_ = scrubs; }

 private:
  void add(connection* c) override { connections_live_.insert(c); }
  void remove(connection* c) override;
  awaitable<void> accept_loop();
  awaitable<void> sweep_loop();
  void refuse(tcp::socket sock);

  const config::config& cfg_;
  stats& stats_;
  std::atomic<std::size_t>& connections_;
  tls_state* tls_;
  secrets::store& secrets_;
  const policy& policy_;
  metrics& metrics_;
  const std::vector<tcp::endpoint>* self_ = nullptr;
  dns_pool* dns_ = nullptr;
  head_budget* heads_ = nullptr;
  scrub_cache* scrubs_ = nullptr;
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  asio::steady_timer sweep_timer_{io_};
  upstream_pool pool_;
  tls_session_cache tls_sessions_;
  std::unordered_set<connection*> connections_live_;
  bool draining_ = false;
  std::optional<flow_context> context_;  // built in run(), once self_ and dns_ are set
};

}  // namespace airlock::proxy

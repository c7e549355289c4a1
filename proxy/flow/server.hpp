#pragma once
// The data plane as a whole: binds the listeners, runs one worker thread per
// configured worker, and drains. Used by main.cpp and by in-process tests.

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "config/model.hpp"
#include "proxy/flow/head_budget.hpp"
#include "proxy/flow/scrub_cache.hpp"
#include "proxy/io/asio.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/observe/stats.hpp"
#include "proxy/policy/policy.hpp"
#include "secrets/store.hpp"

namespace airlock::proxy {

class worker;
class dns_pool;
struct tls_state;

class server {
 public:
  // Binds every worker's listener (SO_REUSEPORT) at cfg.proxy.listen; port 0 picks
  // one free port for all. Throws boost::system::system_error if binding fails. The
  // secret store is main's, and outlives the server.
  server(config::config cfg, secrets::store& secrets);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Starts the worker threads.
  void start();

  // Stops accepting; idle connections close, in-flight requests finish.
  void begin_drain();
  // Thread-safe (not from a worker): every worker closes its connections that carried a
  // credential. How many, and whether every worker did so within wait.
  struct closed_connections {
    std::size_t count = 0;
    bool complete = true;
  };
  closed_connections close_credentialed(std::chrono::milliseconds wait);

  // Waits up to `timeout` for every worker to finish; true if they all did.
  bool wait(clock::duration timeout);

  // Closes every connection and joins the threads.
  void stop();

  const tcp::endpoint& endpoint() const { return endpoint_; }
  const stats& counters() const { return stats_; }
  const config::config& cfg() const { return cfg_; }
  // Interception state (CA, leaf cache); nullptr without credential rules.
  const tls_state* tls() const { return tls_.get(); }
  tls_state* tls() { return tls_.get(); }
  secrets::store& secrets() { return secrets_; }
  const policy& egress() const { return *policy_; }
  const metrics& series() const { return *metrics_; }
  const head_budget& heads() const { return heads_; }
  // The values the metrics scrape renders, copied from the objects that keep them.
  metrics::sources metrics_snapshot() const;
  // Adds a listener of airlock's own (admin, metrics) to what may never be a destination.
  // Before start() only.
  void add_self_endpoint(const tcp::endpoint& ep) { self_.push_back(ep); }

 private:
  config::config cfg_;
  stats stats_;
  secrets::store& secrets_;
  std::unique_ptr<policy> policy_;
  std::unique_ptr<metrics> metrics_;
  std::vector<tcp::endpoint> self_;
  std::unique_ptr<tls_state> tls_;
  std::atomic<std::size_t> connections_{0};
  head_budget heads_;
  scrub_cache scrubs_;
  std::vector<std::unique_ptr<worker>> workers_;
  // After workers_: shut down and destroyed before their io_contexts, so no late answer is
  // posted to one that is gone.
  std::unique_ptr<dns_pool> dns_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> running_{0};
  tcp::endpoint endpoint_;
};

}  // namespace airlock::proxy

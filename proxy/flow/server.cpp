#include "proxy/flow/server.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "proxy/flow/dns_pool.hpp"
#include "proxy/flow/worker.hpp"
#include "proxy/policy/interception.hpp"
#include "proxy/tls/tls_state.hpp"

namespace airlock::proxy {

namespace {

std::mutex done_mutex;
std::condition_variable done_cv;

// Lookup threads across all workers, and how many asks may wait: a name whose server never
// answers holds one thread until the C library gives up, so a few such names must not
// hold back every other new host. The pool starts small and grows while all are busy.
constexpr std::size_t dns_threads = 4;
constexpr std::size_t dns_max_threads = 32;
constexpr std::size_t dns_max_waiting = 1024;

// Listen addresses may be names ("localhost"); resolving them once at start-up is fine.
tcp::endpoint resolve_listen(const config::endpoint& listen) {
  error_code ec;
  const auto address = asio::ip::make_address(listen.host, ec);
  if (!ec) {
    return {address, listen.port};
  }
  asio::io_context io;
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(listen.host, std::to_string(listen.port));
  return results.begin()->endpoint();
}

// SO_REUSEPORT would let a second airlock share a port that is already in use and
// silently take half its connections; a plain bind first proves the port is free.
tcp::endpoint claim_port(const tcp::endpoint& at) {
  asio::io_context io;
  tcp::acceptor probe(io);
  probe.open(at.protocol());
  probe.set_option(asio::socket_base::reuse_address(true));
  probe.bind(at);
  return probe.local_endpoint();
}

}  // namespace

server::server(config::config cfg, secrets::store& secrets)
    : cfg_(std::move(cfg)),
      secrets_(secrets),
      policy_(std::make_unique<policy>(cfg_)),
      metrics_(std::make_unique<metrics>(cfg_)),
      heads_(cfg_.proxy.max_pending_head_bytes),
      scrubs_(cfg_.credentials, secrets, cfg_.proxy.max_decoding_bytes) {
  // Always: the doctor's check host is intercepted in every configuration, so an agent's
  // trust in the CA can be checked before the first credential rule exists; the default
  // telemetry entries intercept hosts anyway (README "Interception").
  const std::vector<std::string> intercepted = interception_names(cfg_, *policy_);
  // The port first: the kit that make_tls_state exports names it (port 0 is resolved here).
  tcp::endpoint at = claim_port(resolve_listen(cfg_.proxy.listen));
  tls_ = make_tls_state(cfg_, intercepted, at);
  unsigned n = cfg_.proxy.workers;
  if (n == 0) {
    n = std::max(1u, std::thread::hardware_concurrency());
  }
  dns_ = std::make_unique<dns_pool>(dns_threads, dns_max_threads, dns_max_waiting);
  for (unsigned i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<worker>(cfg_, stats_, connections_, tls_.get(), secrets_,
                                                *policy_, *metrics_));
    // The first bind resolves port 0; the others join the same port.
    at = workers_.back()->listen(at);
  }
  endpoint_ = at;
  self_.push_back(at);
  for (auto& w : workers_) {
    w->set_self_endpoints(&self_);
    w->set_dns(dns_.get());
    w->set_head_budget(&heads_);
    w->set_scrub_cache(&scrubs_);
    // Idle upstream connections: no more in all than client connections may be open.
    w->pool().set_max_total((cfg_.proxy.max_connections + n - 1) / n);
  }
}

server::~server() {
  stop();
}

void server::start() {
  running_ = workers_.size();
  for (auto& w : workers_) {
    threads_.emplace_back([this, wp = w.get()] {
      wp->run();
      {
        std::lock_guard lock(done_mutex);
        running_.fetch_sub(1);
      }
      done_cv.notify_all();
    });
  }
}

void server::begin_drain() {
  for (auto& w : workers_) {
    w->begin_drain();
  }
}

server::closed_connections server::close_credentialed(std::chrono::milliseconds wait) {
  scrubs_.clear();  // the automata hold forms of the secrets just wiped
  std::vector<std::future<std::size_t>> done;
  for (auto& w : workers_) {
    auto task = std::make_shared<std::packaged_task<std::size_t()>>(
        [worker = w.get()] { return worker->close_credentialed(); });
    done.push_back(task->get_future());
    asio::post(w->io(), [task] { (*task)(); });
  }
  const auto until = clock::now() + wait;
  closed_connections closed;
  for (auto& f : done) {
    if (f.wait_until(until) == std::future_status::ready) {
      closed.count += f.get();
    } else {
      closed.complete = false;  // that worker's credentialed connections may still be open
    }
  }
  return closed;
}

bool server::wait(clock::duration timeout) {
  std::unique_lock lock(done_mutex);
  return done_cv.wait_for(lock, timeout, [this] { return running_.load() == 0; });
}

void server::stop() {
  if (threads_.empty()) {
    return;
  }
  for (auto& w : workers_) {
    w->begin_drain();
    w->force_close();
  }
  for (auto& t : threads_) {
    t.join();
  }
  threads_.clear();
  dns_->shutdown();
}

metrics::sources server::metrics_snapshot() const {
  metrics::sources from;
  from.counters = &stats_;
  from.heads = metrics::sources::heads_t{heads_.used(), heads_.limit()};
  for (std::size_t i = 0; i < policy_->telemetry().size(); ++i) {
    from.telemetry.push_back({policy_->telemetry()[i].name, policy_->blocked(i)});
  }
  if (tls_) {
    from.tls =
        metrics::sources::tls_t{tls_->leaves.misses(), tls_->leaves.hits(), tls_->leaves.size(),
                                tls_->ca.expiry_unix_seconds(), tls_->ca.renewals()};
  }
  metrics::sources::secrets_t secrets{secrets::phase_name(secrets_.current_phase()), {}};
  const auto now = std::chrono::steady_clock::now();
  for (const auto& e : secrets_.status()) {
    std::optional<double> age;
    if (e.set_at) {
      age = std::chrono::duration<double>(now - *e.set_at).count();
    }
    secrets.entries.push_back({e.name, e.present, age});
  }
  from.secrets = std::move(secrets);
  return from;
}

}  // namespace airlock::proxy

#include "proxy/server.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "proxy/worker.hpp"

namespace airlock::proxy {

namespace {

std::mutex done_mutex;
std::condition_variable done_cv;

}  // namespace

server::server(config::config cfg) : cfg_(std::move(cfg)) {
  unsigned n = cfg_.proxy.workers;
  if (n == 0) {
    n = std::max(1u, std::thread::hardware_concurrency());
  }
  const auto address = asio::ip::make_address(cfg_.proxy.listen.host);
  tcp::endpoint at(address, cfg_.proxy.listen.port);
  for (unsigned i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<worker>(cfg_, stats_, connections_));
    // The first bind resolves port 0; the others join the same port.
    at = workers_.back()->listen(at);
  }
  endpoint_ = at;
}

server::~server() { stop(); }

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
}

}  // namespace airlock::proxy

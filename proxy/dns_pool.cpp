#include "proxy/dns_pool.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace airlock::proxy {

struct dns_pool::state {
  struct job {
    std::shared_ptr<lookup> l;
    std::string host;
    std::string port;
  };

  std::mutex mutex;
  std::condition_variable ready;
  std::deque<job> queue;
  std::size_t max_queued = 0;
  bool stopped = false;

  // Posts the answer unless shut down; under the mutex, so shutdown() cannot pass between
  // the check and the post while an executor is being torn down.
  void answer(const std::shared_ptr<lookup>& l, lookup::result r) {
    const std::lock_guard<std::mutex> lock(mutex);
    if (stopped) {
      return;
    }
    asio::post(l->done.get_executor(), [l, r = std::move(r)]() mutable {
      l->answer = std::move(r);
      l->done.cancel();
    });
  }
};

namespace {

dns_pool::lookup::result resolve(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  dns_pool::lookup::result r;
  r.error = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &list);
  if (r.error != 0) {
    return r;
  }
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    tcp::endpoint ep;
    if (ai->ai_addrlen <= ep.capacity()) {
      std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
      ep.resize(ai->ai_addrlen);
      r.endpoints.push_back(ep);
    }
  }
  ::freeaddrinfo(list);
  if (r.endpoints.empty()) {
    r.error = EAI_NONAME;
  }
  return r;
}

}  // namespace

void dns_pool::run(const std::shared_ptr<state>& s) {
  for (;;) {
    std::unique_lock<std::mutex> lock(s->mutex);
    s->ready.wait(lock, [&] { return s->stopped || !s->queue.empty(); });
    if (s->stopped) {
      return;
    }
    auto j = std::move(s->queue.front());
    s->queue.pop_front();
    lock.unlock();
    s->answer(j.l, resolve(j.host, j.port));
  }
}

dns_pool::dns_pool(std::size_t threads, std::size_t max_queued)
    : state_(std::make_shared<state>()) {
  state_->max_queued = max_queued;
  for (std::size_t i = 0; i < threads; ++i) {
    // Detached and owning the state: a thread stuck in getaddrinfo at exit holds nothing of
    // ours but this, and posts nothing once shut down.
    std::thread([s = state_] { run(s); }).detach();
  }
}

dns_pool::~dns_pool() {
  shutdown();
}

void dns_pool::start(std::shared_ptr<lookup> l, std::string host, std::uint16_t port) {
  {
    const std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->stopped) {
      return;
    }
    if (state_->queue.size() < state_->max_queued) {
      state_->queue.push_back({std::move(l), std::move(host), std::to_string(port)});
      state_->ready.notify_one();
      return;
    }
  }
  state_->answer(l, lookup::result{{}, EAI_AGAIN});
}

void dns_pool::shutdown() {
  const std::lock_guard<std::mutex> lock(state_->mutex);
  state_->stopped = true;
  state_->queue.clear();
  state_->ready.notify_all();
}

}  // namespace airlock::proxy

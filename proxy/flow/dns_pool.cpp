#include "proxy/flow/dns_pool.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace airlock::proxy {

struct dns_pool::state {
  // One name's lookup, queued or running, and everyone waiting for it.
  struct pending {
    std::string host;
    std::string port;
    std::vector<std::weak_ptr<lookup>> waiters;
    bool running = false;
  };

  explicit state(resolver r) : resolve(std::move(r)) {}

  const resolver resolve;
  std::mutex mutex;
  std::condition_variable ready;
  // Keyed by host and port. A key may be queued more than once (after a prune erased its
  // entry and a new ask made another); a thread taking a key with no entry, or one already
  // running, just moves on.
  std::unordered_map<std::string, pending> pending_by_key;
  std::deque<std::string> queue;
  std::size_t waiting = 0;  // waiters over all entries, given up or not
  std::size_t max_waiting = 0;
  std::size_t threads = 0;  // started, all alive until shut down
  std::size_t idle = 0;     // waiting for work
  std::size_t max_threads = 0;
  bool stopped = false;

  // Detached and owning the state: a thread stuck in getaddrinfo at exit holds nothing of
  // ours but this, and posts nothing once shut down.
  static void start_thread(const std::shared_ptr<state>& s) {
    ++s->threads;
    std::thread([s] { run(s); }).detach();
  }

  // Posts r to every waiter still waiting. Under the mutex, so shutdown() cannot pass between
  // the check and the post while an executor is being torn down.
  void answer_locked(const std::vector<std::weak_ptr<lookup>>& waiters, const result& r) {
    if (stopped) {
      return;
    }
    for (const auto& w : waiters) {
      if (auto l = w.lock()) {
        // The handler takes the only strong reference this thread made: if the session has
        // let go meanwhile, the lookup (and its timer) ends on its own executor, not here.
        const auto ex = l->done.get_executor();
        asio::post(ex, [l = std::move(l), r]() mutable {
          l->answer = std::move(r);
          l->done.cancel();
        });
      }
    }
  }

  // Forgets asks given up on, and queued lookups nobody waits for any more. Only at the
  // limit: a session gives up without telling the pool, so the count includes the dead.
  void prune_locked() {
    for (auto it = pending_by_key.begin(); it != pending_by_key.end();) {
      auto& w = it->second.waiters;
      const auto before = w.size();
      w.erase(std::remove_if(w.begin(), w.end(), [](const auto& p) { return p.expired(); }),
              w.end());
      waiting -= before - w.size();
      it = (w.empty() && !it->second.running) ? pending_by_key.erase(it) : std::next(it);
    }
  }
};

dns_pool::result dns_pool::system_resolve(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  result r;
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

void dns_pool::run(const std::shared_ptr<state>& s) {
  std::unique_lock<std::mutex> lock(s->mutex);
  for (;;) {
    ++s->idle;
    s->ready.wait(lock, [&] { return s->stopped || !s->queue.empty(); });
    --s->idle;
    if (s->stopped) {
      return;
    }
    const std::string key = std::move(s->queue.front());
    s->queue.pop_front();
    const auto it = s->pending_by_key.find(key);
    if (it == s->pending_by_key.end() || it->second.running) {
      continue;
    }
    auto& p = it->second;
    if (std::all_of(p.waiters.begin(), p.waiters.end(),
                    [](const auto& w) { return w.expired(); })) {
      s->waiting -= p.waiters.size();
      s->pending_by_key.erase(it);
      continue;
    }
    p.running = true;
    const std::string host = p.host;
    const std::string port = p.port;
    lock.unlock();
    const result r = s->resolve(host, port);
    lock.lock();
    // Found again: a prune or shutdown may have erased the entry while the lock was free.
    if (const auto done = s->pending_by_key.find(key); done != s->pending_by_key.end()) {
      s->answer_locked(done->second.waiters, r);
      s->waiting -= done->second.waiters.size();
      s->pending_by_key.erase(done);
    }
  }
}

dns_pool::dns_pool(std::size_t threads, std::size_t max_threads, std::size_t max_waiting,
                   resolver resolve)
    : state_(std::make_shared<state>(std::move(resolve))) {
  const std::lock_guard<std::mutex> lock(state_->mutex);
  state_->max_waiting = max_waiting;
  state_->max_threads = std::max(threads, max_threads);
  for (std::size_t i = 0; i < threads; ++i) {
    state::start_thread(state_);
  }
}

dns_pool::~dns_pool() {
  shutdown();
}

void dns_pool::start(const std::shared_ptr<lookup>& l, const std::string& host,
                     std::uint16_t port) {
  const std::lock_guard<std::mutex> lock(state_->mutex);
  auto& s = *state_;
  if (s.stopped) {
    return;
  }
  if (s.waiting >= s.max_waiting) {
    s.prune_locked();
  }
  if (s.waiting >= s.max_waiting) {
    s.answer_locked({l}, result{{}, EAI_AGAIN});
    return;
  }
  const std::string port_text = std::to_string(port);
  std::string key = host;
  key.append(1, '\n').append(port_text);
  auto [it, fresh] = s.pending_by_key.try_emplace(key);
  if (fresh) {
    it->second.host = host;
    it->second.port = port_text;
    s.queue.push_back(std::move(key));
    s.ready.notify_one();
    // Every thread busy (stalled names hold theirs for seconds): one more, up to the cap.
    if (s.queue.size() > s.idle && s.threads < s.max_threads) {
      state::start_thread(state_);
    }
  }
  it->second.waiters.push_back(l);
  ++s.waiting;
}

void dns_pool::shutdown() {
  const std::lock_guard<std::mutex> lock(state_->mutex);
  state_->stopped = true;
  state_->queue.clear();
  state_->pending_by_key.clear();
  state_->waiting = 0;
  state_->ready.notify_all();
}

}  // namespace airlock::proxy

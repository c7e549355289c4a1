#include "proxy/flow/upstream_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace airlock::proxy {

namespace {

// An idle HTTP connection has nothing to read: EOF means the peer closed it, and
// unsolicited bytes mean it is out of sync. Either way it must not carry a request.
bool still_idle(tcp::socket& sock) {
  char byte = 0;
  const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

upstream_ptr upstream_pool::take(std::string_view key, bool always_probe) {
  auto it = idle_.find(key);
  if (it == idle_.end()) {
    return nullptr;
  }
  auto& list = it->second;
  const auto now = clock::now();
  while (!list.empty()) {
    entry e = std::move(list.back());
    list.pop_back();
    --count_;
    const auto idle = now - e.since;
    const bool probe = always_probe || idle >= probe_after_;
    if (idle < max_age_ && (!probe || still_idle(e.conn->sock))) {
      return std::move(e.conn);
    }
    error_code ignored;
    e.conn->sock.close(ignored);
  }
  return nullptr;
}

void upstream_pool::put(std::string_view key, upstream_ptr conn) {
  auto it = idle_.find(key);
  const bool have_key = it != idle_.end() && !it->second.empty();
  // A full pool keeps a new connection only in place of its key's oldest.
  if (closed_ || max_per_key_ == 0 || (count_ >= max_total_ && !have_key)) {
    error_code ignored;
    conn->sock.close(ignored);
    return;
  }
  if (it == idle_.end()) {
    it = idle_.emplace(std::string(key), std::vector<entry>{}).first;
  }
  auto& list = it->second;
  if (list.size() >= max_per_key_ || count_ >= max_total_) {
    // Drop the oldest: the newest connections are the ones least likely to be timed out.
    error_code ignored;
    list.front().conn->sock.close(ignored);
    list.erase(list.begin());
    --count_;
  }
  list.push_back(entry{std::move(conn), clock::now()});
  ++count_;
}

void upstream_pool::sweep(clock::time_point now) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& list = it->second;
    std::erase_if(list, [&](entry& e) {
      if (now - e.since < max_age_) {
        return false;
      }
      error_code ignored;
      e.conn->sock.close(ignored);
      --count_;
      return true;
    });
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
}

void upstream_pool::close() {
  closed_ = true;
  for (auto& [key, list] : idle_) {
    for (auto& e : list) {
      error_code ignored;
      e.conn->sock.close(ignored);
    }
  }
  idle_.clear();
  count_ = 0;
}

std::size_t upstream_pool::close_credentialed() {
  std::size_t closed = 0;
  for (auto& [key, list] : idle_) {
    std::erase_if(list, [&closed](entry& e) {
      if (!e.conn->carried_credential) {
        return false;
      }
      error_code ignored;
      e.conn->sock.close(ignored);
      ++closed;
      return true;
    });
  }
  return closed;
}

std::size_t upstream_pool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [key, list] : idle_) {
    n += list.size();
  }
  return n;
}

}  // namespace airlock::proxy

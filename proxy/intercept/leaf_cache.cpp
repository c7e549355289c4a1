#include "proxy/intercept/leaf_cache.hpp"

#include <stdexcept>
#include <utility>

namespace airlock::proxy::intercept {

leaf_cache::leaf_cache(const workspace_ca& ca, std::size_t capacity)
    : minter_(ca), capacity_(capacity) {
  if (capacity_ == 0) {
    throw std::invalid_argument("leaf cache capacity must be at least 1");
  }
  index_.reserve(capacity_ + 1);
}

std::size_t leaf_cache::size() const {
  const std::lock_guard lock(mutex_);
  return lru_.size();
}

std::shared_ptr<SSL_CTX> leaf_cache::lookup(const std::string& name) {
  const std::lock_guard lock(mutex_);
  const auto it = index_.find(name);
  if (it == index_.end()) {
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->ctx;
}

std::shared_ptr<SSL_CTX> leaf_cache::insert(std::string name, std::shared_ptr<SSL_CTX> ctx) {
  std::shared_ptr<SSL_CTX> evicted;  // freed after unlocking: SSL_CTX_free is not trivial
  const std::lock_guard lock(mutex_);
  if (const auto it = index_.find(name); it != index_.end()) {
    // Another thread minted this host while we did; keep one context per host.
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->ctx;
  }
  lru_.push_front(entry{std::move(name), std::move(ctx)});
  try {
    index_.emplace(lru_.front().host, lru_.begin());
  } catch (...) {
    lru_.pop_front();
    throw;
  }
  if (lru_.size() > capacity_) {
    entry& last = lru_.back();
    index_.erase(last.host);
    evicted = std::move(last.ctx);
    lru_.pop_back();
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  return lru_.front().ctx;
}

std::shared_ptr<SSL_CTX> leaf_cache::server_context(std::string_view host) noexcept {
  try {
    std::optional<std::string> name = leaf_name(host);
    if (!name) {
      return nullptr;
    }
    if (auto hit = lookup(*name)) {
      return hit;
    }
    auto minted = minter_.mint(*name);
    if (!minted) {
      return nullptr;
    }
    misses_.fetch_add(1, std::memory_order_relaxed);
    return insert(std::move(*name), std::move(minted));
  } catch (...) {
    return nullptr;  // allocation failure: refuse this connection, keep the process
  }
}

}  // namespace airlock::proxy::intercept

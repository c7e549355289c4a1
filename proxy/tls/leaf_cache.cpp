#include "proxy/tls/leaf_cache.hpp"

#include <stdexcept>
#include <utility>

namespace airlock::proxy::intercept {

leaf_cache::leaf_cache(const workspace_ca& ca, std::size_t capacity)
    : capacity_(capacity), minter_(std::make_shared<const leaf_minter>(ca)) {
  if (capacity_ == 0) {
    throw std::invalid_argument("leaf cache capacity must be at least 1");
  }
  index_.reserve(capacity_ + 1);
}

leaf_cache::minter_ptr leaf_cache::current() const {
  const std::lock_guard lock(mutex_);
  return minter_;
}

void leaf_cache::replace_ca(const workspace_ca& ca, X509* chain_cert) {
  auto next = std::make_shared<const leaf_minter>(ca, chain_cert);
  // Freed after unlocking: contexts and the old minter go with them.
  lru_list dropped;
  minter_ptr old;
  {
    const std::lock_guard lock(mutex_);
    old = std::exchange(minter_, std::move(next));
    index_.clear();
    dropped.swap(lru_);
  }
}

std::size_t leaf_cache::size() const {
  const std::lock_guard lock(mutex_);
  return lru_.size();
}

std::shared_ptr<SSL_CTX> leaf_cache::lookup(const std::string& name, minter_ptr& minter) {
  const std::lock_guard lock(mutex_);
  const auto it = index_.find(name);
  if (it == index_.end()) {
    minter = minter_;
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->ctx;
}

std::shared_ptr<SSL_CTX> leaf_cache::insert(std::string name, std::shared_ptr<SSL_CTX> ctx,
                                            const leaf_minter* by) {
  std::shared_ptr<SSL_CTX> evicted;  // freed after unlocking: SSL_CTX_free is not trivial
  const std::lock_guard lock(mutex_);
  if (minter_.get() != by) {
    evicted = std::move(ctx);
    return nullptr;
  }
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
    // A second round only when a renewal swapped the CA during the first mint; a third
    // would need two renewals within one mint, which their schedule rules out.
    for (int round = 0; round < 2; ++round) {
      minter_ptr minter;
      if (auto hit = lookup(*name, minter)) {
        return hit;
      }
      auto minted = minter->mint(*name);
      if (!minted) {
        return nullptr;
      }
      misses_.fetch_add(1, std::memory_order_relaxed);
      if (auto kept = insert(*name, std::move(minted), minter.get())) {
        return kept;
      }
    }
    return nullptr;
  } catch (...) {
    return nullptr;  // allocation failure: refuse this connection, keep the process
  }
}

}  // namespace airlock::proxy::intercept

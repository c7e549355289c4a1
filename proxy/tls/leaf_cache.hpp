#pragma once
// Ready server SSL_CTXs for intercepted hosts, one per host, minted on first use and kept in
// a bounded LRU. Shared by all workers (one mutex; a hit holds it for a hash lookup and a
// list splice). Minting runs outside the lock, so a slow mint never stalls other hosts.
// replace_ca() swaps the signing CA at a renewal: from then on every context handed out is
// minted by the new CA, including those whose mint had started before the swap.
//
// Cost, measured by leaf_cache_scale_test (g++ 12 -O2/-O3, OpenSSL 3.0.19, 2-core x86-64):
// one miss takes 0.6-1.0 ms on average over 1000 mints: about 400 us is X509_set_pubkey
// (OpenSSL 3.0 runs every provider key through its slow encoder), 200-280 us SSL_CTX_new,
// 45 us the P-256 signature; 1.6 ms with both cores oversubscribed three times over. A hit
// takes under 1 us. Each cached entry holds about 16 KB of heap (13 KB of it the SSL_CTX), so
// the default 1000 entries cost about 16 MB; 10,000 distinct names through that cache grew
// RSS by 16.4 MB in all, of which 0.4 MB after it was full.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "proxy/tls/leaf_minter.hpp"
#include "proxy/tls/workspace_ca.hpp"

namespace airlock::proxy::intercept {

class leaf_cache {
 public:
  // Pre-generates the one leaf key. The cache keeps its own references to ca's certificate
  // and key, so `ca` may go away first. Throws ca_error when the key or extensions cannot be
  // built, std::invalid_argument when capacity is 0.
  explicit leaf_cache(const workspace_ca& ca, std::size_t capacity = 1000);

  leaf_cache(const leaf_cache&) = delete;
  leaf_cache& operator=(const leaf_cache&) = delete;

  // The server context for host (matched case-insensitively), minting it on a miss and
  // evicting the least recently used one past capacity. Evicted contexts stay alive while a
  // caller or an SSL object (SSL_new takes a reference) still uses them. nullptr, never a
  // throw, when host cannot be a certificate name (see leaf_name()) or minting fails; the
  // caller logs and refuses the connection.
  std::shared_ptr<SSL_CTX> server_context(std::string_view host) noexcept;

  // Lookups answered from the cache.
  std::uint64_t hits() const noexcept { return hits_.load(std::memory_order_relaxed); }
  // Leaves minted. Two threads missing on one host at once both mint and one result is
  // dropped (both callers get the kept one), so this can exceed size() + evictions().
  std::uint64_t misses() const noexcept { return misses_.load(std::memory_order_relaxed); }
  std::uint64_t evictions() const noexcept { return evictions_.load(std::memory_order_relaxed); }
  std::size_t size() const;
  std::size_t capacity() const noexcept { return capacity_; }

  // From now on mint from ca, sending chain_cert after each leaf (see leaf_minter), and drop
  // every cached context (connections already using one keep it). Builds the new minter
  // before touching the cache: on a throw (ca_error) nothing has changed.
  void replace_ca(const workspace_ca& ca, X509* chain_cert = nullptr);

  // The key every leaf is signed for (tests compare it across hosts); valid until the next
  // replace_ca().
  EVP_PKEY* leaf_key() const { return current()->leaf_key(); }
  // The CA that signs the leaves now; valid until the next replace_ca().
  X509* signing_ca() const { return current()->ca_cert(); }

 private:
  struct entry {
    std::string host;
    std::shared_ptr<SSL_CTX> ctx;
  };
  using lru_list = std::list<entry>;

  using minter_ptr = std::shared_ptr<const leaf_minter>;

  minter_ptr current() const;
  // The cached context for name, or nullptr and the minter to mint it with.
  std::shared_ptr<SSL_CTX> lookup(const std::string& name, minter_ptr& minter);
  // Caches ctx unless `by` is no longer the current minter (a renewal came between): then
  // nullptr, and the caller mints again.
  std::shared_ptr<SSL_CTX> insert(std::string name, std::shared_ptr<SSL_CTX> ctx,
                                  const leaf_minter* by);

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  minter_ptr minter_;  // guarded by mutex_
  lru_list lru_;       // most recently used first; guarded by mutex_
  // Keys view the host strings inside lru_ nodes, which never move. Guarded by mutex_.
  std::unordered_map<std::string_view, lru_list::iterator> index_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
  std::atomic<std::uint64_t> evictions_{0};
};

}  // namespace airlock::proxy::intercept

#pragma once
// The process-wide OpenSSL secure heap that secret bytes live in.
//
// CRYPTO_secure_malloc_init maps one fixed arena with guard pages, mlocks it (so it is never
// swapped) and marks it MADV_DONTDUMP (so it never lands in a core file). OpenSSL itself then
// also keeps private keys (CA key, TLS ephemeral keys) there. If the heap is never initialised,
// CRYPTO_secure_malloc silently falls back to the ordinary heap, and if mlock fails (typically
// RLIMIT_MEMLOCK in a container) the arena works but is unprotected. Neither may go unnoticed,
// so init_secure_heap says which of the three states the process ended up in.

#include <cstddef>
#include <string>
#include <string_view>

namespace airlock::secrets {

// Secrets are API keys and tokens, a few hundred bytes each, but OpenSSL also places key
// material of every in-flight TLS handshake here, so leave room for thousands of handshakes.
inline constexpr std::size_t default_secure_heap_bytes = std::size_t{1} << 20;
// One page: smaller arenas are legal for OpenSSL but cannot be locked any more cheaply.
inline constexpr std::size_t min_secure_heap_bytes = 4096;
// Smallest block the buddy allocator hands out; every allocation is rounded up to a power of two.
inline constexpr std::size_t secure_heap_min_block = 32;

enum class secure_heap_protection {
  locked,       // arena exists, is mlocked, MADV_DONTDUMP and between guard pages
  degraded,     // arena exists but mlock, madvise or mprotect failed: may be swapped or dumped
  unavailable,  // no arena: secure allocations come from the ordinary heap
};

struct secure_heap_status {
  secure_heap_protection protection = secure_heap_protection::unavailable;
  std::size_t bytes = 0;  // arena size in effect; 0 when unavailable
  std::string detail;     // one human-readable log line; for non-locked states it says how to fix

  bool locked() const { return protection == secure_heap_protection::locked; }
};

// "locked", "degraded" or "unavailable", for logs and /v1/status.
std::string_view to_string(secure_heap_protection protection) noexcept;

// Initialises the secure heap with an arena of `bytes` (a power of two, at least
// min_secure_heap_bytes). Call it first thing in main, before threads start and before any
// OpenSSL key is loaded, so that OpenSSL's own key material also lands in the arena.
// Never throws for OS failures; they come back as `degraded` or `unavailable` with a detail the
// caller must log (main decides whether to refuse to start). An invalid size is `unavailable`
// and may be retried. Once an arena exists, later calls return the first result unchanged and
// ignore `bytes`, because OpenSSL cannot resize or re-lock it. Thread-safe.
secure_heap_status init_secure_heap(std::size_t bytes = default_secure_heap_bytes);

// Bytes currently handed out from the arena (rounded-up block sizes), 0 without an arena.
// Meant for tests and the status endpoint; it never fails.
std::size_t secure_heap_used() noexcept;

// Whether a secure arena exists, whoever created it. Never fails.
bool secure_heap_initialized() noexcept;

}  // namespace airlock::secrets

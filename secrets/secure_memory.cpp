#include "secrets/secure_memory.hpp"

#include <sys/resource.h>

#include <mutex>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <openssl/crypto.h>

namespace airlock::secrets {
namespace {

std::mutex init_mutex;
// Only results that created an arena are remembered: a bad size or a failed mmap may be retried.
std::optional<secure_heap_status> first_result;

bool is_power_of_two(std::size_t n) {
  return n != 0 && (n & (n - 1)) == 0;
}

// Describes RLIMIT_MEMLOCK against what the arena needs, because that limit is by far the most
// common reason mlock fails (older kernels and many container runtimes default to 64 KiB).
std::string memlock_hint(std::size_t bytes) {
  rlimit limit{};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) {
    return "RLIMIT_MEMLOCK could not be read";
  }
  if (limit.rlim_cur == RLIM_INFINITY) {
    return "RLIMIT_MEMLOCK is unlimited, so madvise or mprotect failed rather than mlock";
  }
  if (limit.rlim_cur < bytes) {
    return fmt::format(
        "RLIMIT_MEMLOCK is {} bytes but the arena needs {}, so mlock failed; raise it (ulimit -l, "
        "docker run --ulimit memlock=, systemd LimitMEMLOCK=) or grant CAP_IPC_LOCK",
        limit.rlim_cur, bytes);
  }
  return fmt::format(
      "RLIMIT_MEMLOCK is {} bytes (the arena needs {}); other locked memory may have used it up, "
      "or madvise or mprotect failed",
      limit.rlim_cur, bytes);
}

}  // namespace

std::string_view to_string(secure_heap_protection protection) noexcept {
  switch (protection) {
    case secure_heap_protection::locked:
      return "locked";
    case secure_heap_protection::degraded:
      return "degraded";
    case secure_heap_protection::unavailable:
      return "unavailable";
  }
  return "unknown";
}

secure_heap_status init_secure_heap(std::size_t bytes) {
  std::lock_guard lock(init_mutex);
  if (first_result) {
    return *first_result;
  }
  secure_heap_status status;
  if (CRYPTO_secure_malloc_initialized() == 1) {
    // Someone called OpenSSL directly; its return value, and so the protection, is lost.
    status.protection = secure_heap_protection::degraded;
    status.detail = "secure heap was initialised outside airlock; whether it is mlocked is unknown";
    first_result = status;
    return status;
  }
  if (!is_power_of_two(bytes) || bytes < min_secure_heap_bytes) {
    // OpenSSL would reject (or, in older releases, abort on) such a size; say why instead.
    status.detail = fmt::format(
        "secure heap size {} is invalid: it must be a power of two and at least {} bytes; secrets "
        "would live in ordinary, swappable memory",
        bytes, min_secure_heap_bytes);
    return status;
  }
  switch (CRYPTO_secure_malloc_init(bytes, secure_heap_min_block)) {
    case 1:
      status.protection = secure_heap_protection::locked;
      status.bytes = bytes;
      status.detail = fmt::format(
          "secure heap: {} bytes, mlocked, excluded from core dumps, guard pages in place", bytes);
      break;
    case 2:
      status.protection = secure_heap_protection::degraded;
      status.bytes = bytes;
      status.detail = fmt::format(
          "secure heap: {} bytes but NOT fully protected (mlock, MADV_DONTDUMP or guard pages "
          "failed): secrets may be swapped to disk or written to core dumps; {}",
          bytes, memlock_hint(bytes));
      break;
    default:
      status.detail = fmt::format(
          "secure heap of {} bytes could not be created (mmap failed or OpenSSL was built without "
          "secure memory): secrets would live in ordinary, swappable memory",
          bytes);
      return status;
  }
  first_result = status;
  return status;
}

std::size_t secure_heap_used() noexcept {
  return CRYPTO_secure_used();
}

bool secure_heap_initialized() noexcept {
  return CRYPTO_secure_malloc_initialized() == 1;
}

}  // namespace airlock::secrets

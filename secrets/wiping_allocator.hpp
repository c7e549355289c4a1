#pragma once
// An allocator that wipes every block it frees. Containers that may hold a secret while
// they grow (a request body, a read buffer) leave no stale copy behind on reallocation
// or destruction, without a fixed worst-case buffer per connection.

#include <openssl/crypto.h>

#include <cstddef>
#include <memory>

namespace airlock::secrets {

template <class T>
struct wiping_allocator {
  using value_type = T;

  wiping_allocator() noexcept = default;
  template <class U>
  wiping_allocator(const wiping_allocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    OPENSSL_cleanse(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }

  template <class U>
  bool operator==(const wiping_allocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace airlock::secrets

#include "secrets/secret_value.hpp"

#include <cstring>
#include <new>
#include <ostream>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/err.h>

namespace airlock::secrets {

secret_value::secret_value(std::string name, std::string_view value) {
  auto copied = copy_in(std::move(name), value);
  if (!copied) {
    throw std::bad_alloc();
  }
  *this = std::move(*copied);
}

std::optional<secret_value> secret_value::try_copy(std::string name,
                                                   std::string_view value) noexcept {
  return copy_in(std::move(name), value);
}

std::optional<secret_value> secret_value::adopt(std::string name, std::span<char> source) noexcept {
  auto copied = copy_in(std::move(name), std::string_view(source.data(), source.size()));
  if (!source.empty()) {
    OPENSSL_cleanse(source.data(), source.size());
  }
  return copied;
}

std::optional<secret_value> secret_value::adopt(std::string name, std::string& source) noexcept {
  auto copied = adopt(std::move(name), std::span<char>(source.data(), source.size()));
  source.clear();
  return copied;
}

std::optional<secret_value> secret_value::copy_in(std::string name,
                                                  std::string_view value) noexcept {
  secret_value result;
  result.name_ = std::move(name);
  if (value.empty()) {
    // Nothing to protect, and a zero-byte secure allocation would still take a block.
    return result;
  }
  // A full arena makes newer OpenSSL releases queue an error; popping it keeps a later, unrelated
  // TLS call from reporting it as its own failure.
  ERR_set_mark();
  auto* data = static_cast<char*>(OPENSSL_secure_malloc(value.size()));
  if (data == nullptr) {
    ERR_pop_to_mark();
    return std::nullopt;
  }
  ERR_clear_last_mark();
  std::memcpy(data, value.data(), value.size());
  result.data_ = data;
  result.size_ = value.size();
  return result;
}

secret_value::secret_value(secret_value&& other) noexcept
    : name_(std::move(other.name_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {
  other.name_.clear();
}

secret_value& secret_value::operator=(secret_value&& other) noexcept {
  if (this != &other) {
    wipe();
    name_ = std::move(other.name_);
    other.name_.clear();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

bool secret_value::in_secure_heap() const noexcept {
  return data_ != nullptr && CRYPTO_secure_allocated(data_) == 1;
}

void secret_value::wipe() noexcept {
  if (data_ == nullptr) {
    return;
  }
  // Clears the whole block, also outside the secure arena (OpenSSL's fallback heap).
  OPENSSL_secure_clear_free(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

bool secret_value::equals_constant_time(std::string_view candidate) const noexcept {
  if (candidate.size() != size_) {
    return false;
  }
  if (size_ == 0) {
    return true;
  }
  return CRYPTO_memcmp(data_, candidate.data(), size_) == 0;
}

std::ostream& operator<<(std::ostream& out, const secret_value& value) {
  return out << "[redacted:" << value.name() << ']';
}

}  // namespace airlock::secrets

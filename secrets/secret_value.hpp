#pragma once
// One secret (API key, token, password) held in the OpenSSL secure heap.
//
// The bytes live only in the mlocked, no-dump arena set up by init_secure_heap, are zeroised when
// the value is wiped, replaced, moved over or destroyed, and never appear when the value is
// formatted: fmt and ostream both print "[redacted:NAME]", where NAME is the secret's config
// name. There are no copies and no implicit conversions; the only way to the bytes is reveal(),
// so every place that handles a raw secret can be found with `grep reveal(`.
//
// Not internally synchronised: share it like a std::string (const access from many threads is
// fine; wipe or assignment needs exclusive access).

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace airlock::secrets {

class secret_value {
 public:
  // An empty, unnamed value; holds no memory.
  secret_value() noexcept = default;

  // Copies `value` into the secure heap. For startup (config, files, env): throws std::bad_alloc
  // when the arena is exhausted. `value` itself is left alone; the caller wipes its copy.
  secret_value(std::string name, std::string_view value);

  // As the constructor, but for request-time paths where nothing may throw: std::nullopt when
  // the arena is exhausted.
  static std::optional<secret_value> try_copy(std::string name, std::string_view value) noexcept;

  // Copies `source` into the secure heap and OPENSSL_cleanse()s `source`, so the caller's buffer
  // (a request body, a file read) stops holding the secret. The source is cleansed even when the
  // copy fails (std::nullopt: arena exhausted), because no path may leave a stray copy behind.
  static std::optional<secret_value> adopt(std::string name, std::span<char> source) noexcept;

  // As above for a std::string, which is also cleared. Bytes the string dropped earlier, when it
  // reallocated while growing, are out of reach: reserve() before filling it.
  static std::optional<secret_value> adopt(std::string name, std::string& source) noexcept;

  secret_value(const secret_value&) = delete;
  secret_value& operator=(const secret_value&) = delete;

  // Leaves `other` empty and unnamed.
  secret_value(secret_value&& other) noexcept;

  // Wipes what this held, then takes over `other`, which is left empty and unnamed.
  secret_value& operator=(secret_value&& other) noexcept;

  ~secret_value() { wipe(); }

  // The config name ("anthropic"); not secret, used in logs and status.
  const std::string& name() const noexcept { return name_; }

  // The raw bytes. Valid until wipe, assignment or destruction; never log or copy them into
  // ordinary memory for longer than one write.
  std::string_view reveal() const noexcept { return {data_, size_}; }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Whether the bytes sit in the secure arena (false when empty, or when init_secure_heap was not
  // called and OpenSSL fell back to the ordinary heap).
  bool in_secure_heap() const noexcept;

  // Zeroises and frees the bytes now; the name stays. Idempotent, never fails.
  void wipe() noexcept;

  // Compares with `candidate` in time independent of where the bytes differ (CRYPTO_memcmp).
  // The length is not hidden: a length mismatch returns false at once. That leaks only the
  // length, which for tokens of a fixed format is public anyway.
  bool equals_constant_time(std::string_view candidate) const noexcept;

 private:
  // Allocates and copies; nullopt on exhaustion. Keeps OpenSSL's error queue as it was.
  static std::optional<secret_value> copy_in(std::string name, std::string_view value) noexcept;

  std::string name_;
  char* data_ = nullptr;
  std::size_t size_ = 0;
};

// Writes "[redacted:NAME]" and nothing else. Never fails beyond the stream's own state.
std::ostream& operator<<(std::ostream& out, const secret_value& value);

}  // namespace airlock::secrets

// fmt (and spdlog, which uses it) print "[redacted:NAME]", honouring width and alignment.
template <>
struct fmt::formatter<airlock::secrets::secret_value> : fmt::formatter<std::string_view> {
  // Formats the redacted label; fails only as fmt itself does (allocation). A template so that
  // every fmt entry point (format, format_to, to_string) can use it, whatever its output.
  template <typename FormatContext>
  auto format(const airlock::secrets::secret_value& value, FormatContext& ctx) const
      -> decltype(ctx.out()) {
    // Assembled first so that width and alignment apply to the label as a whole.
    fmt::basic_memory_buffer<char, 64> label;
    fmt::format_to(fmt::appender(label), "[redacted:{}]", value.name());
    return fmt::formatter<std::string_view>::format(std::string_view(label.data(), label.size()),
                                                    ctx);
  }
};

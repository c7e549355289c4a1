#pragma once
// The secret store and its lifecycle. Every configured secret by name, its value in
// locked memory once present: file and env sources are read at start, file sources again
// whenever the file changes (rotation, see file_watch.hpp), push sources arrive through
// the admin API. The
// phase follows from what is present: setup until every required secret is, then
// execution, and revoked, for good, once revoke() has wiped everything.
//
// Thread-safe: workers read while the admin thread pushes, rotates and revokes. A reader
// gets a reference that keeps the value it saw alive, so a request being serialised
// finishes with the old value; the bytes are wiped when the last reference goes.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "secrets/secret_value.hpp"

namespace airlock::secrets {

enum class phase { setup, execution, revoked };
std::string_view phase_name(phase p);

using value_ref = std::shared_ptr<const secret_value>;

class store {
 public:
  // Reads every file and env source. A source that cannot be read, or whose value holds
  // CR, LF or NUL (it would split a header line), leaves that secret missing and is
  // reported in problems(), never with the value. env sources are removed from the
  // environment.
  explicit store(const std::vector<config::secret_source>& sources);
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  // The current value, or nullptr when absent or revoked.
  value_ref get(std::string_view name) const;

  enum class put_result { ok, unknown_name, revoked, invalid_value, no_memory };
  // Sets or replaces a secret's value (a push, or a rotation of any source). value is
  // wiped whatever the result; one trailing newline is dropped as for files.
  put_result put(std::string_view name, std::span<char> value);

  // Re-reads a file source whose file changed (a rotation; file_watch decides when).
  // True when the value was replaced. A file that became unreadable or invalid keeps the
  // old value and adds a problem; nothing is read once revoked, or for another source.
  bool reload_file(std::string_view name);

  struct revoke_receipt {
    std::vector<std::string> names;  // secrets that held a value when revoked
    std::chrono::system_clock::time_point at;
    bool already = false;  // an earlier call revoked them; this one changed nothing
  };
  // Wipes every value and refuses all later puts and refreshes. Idempotent: later calls
  // return the first receipt with already set.
  revoke_receipt revoke();

  // Changes whenever a value does (put, rotation, revoke), so what is derived from the
  // values (the response scrubber's automaton) knows, without the lock, when to rebuild.
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

  phase current_phase() const;
  // current_phase() == revoked, without the lock: for a check on every request.
  bool revoked() const noexcept { return revoked_flag_.load(std::memory_order_acquire); }

  struct entry {
    std::string name;
    config::secret_source::kind from;
    bool required = false;
    bool present = false;
    std::optional<std::chrono::steady_clock::time_point> set_at;  // last load, push or rotation
  };
  std::vector<entry> status() const;

  // Names of required secrets that are not present (all of them once revoked).
  std::vector<std::string> missing_required() const;

  // One line per source that failed to load, naming the secret and the reason.
  std::vector<std::string> problems() const;

 private:
  struct slot {
    config::secret_source source;
    value_ref value;
    std::optional<std::chrono::steady_clock::time_point> set_at;
  };

  slot* find(std::string_view name);
  const slot* find(std::string_view name) const;
  // Loads a file source into s (caller holds the lock); false with a problem recorded.
  bool load_file(slot& s);

  mutable std::shared_mutex mutex_;
  std::vector<slot> slots_;  // fixed after construction, in config order
  bool revoked_ = false;
  std::atomic<bool> revoked_flag_{false};  // revoked_, readable without the lock
  std::atomic<std::uint64_t> generation_{0};
  revoke_receipt receipt_;
  std::vector<std::string> problems_;
};

// Trims one trailing "\n" or "\r\n" (files written by editors and `echo`); false when
// the rest contains CR, LF or NUL.
bool normalise_secret_text(std::string& text);

}  // namespace airlock::secrets

#pragma once
// Keeps the ephemeral workspace CA from expiring under a running agent. At two thirds of its
// lifetime a successor is generated (same name constraints), cross-signed by the current CA,
// exported beside it (ca.pem and ca-bundle.pem carry both), and then the leaf cache mints
// from it. Leaves carry the cross-signed certificate while the predecessor lives, so a client
// that loaded the bundle before the renewal still verifies them; when the predecessor
// expires it leaves the files and the chain. An operator's CA (tls.ca.cert_file) is used as
// given and never renewed.
//
// The work runs on a thread of its own that sleeps until the next event (at most a minute
// at a time, so a wall-clock jump is noticed): key generation and the fsyncs of the export
// never run on a worker's event loop.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "proxy/tls/leaf_cache.hpp"
#include "proxy/tls/name_constraints.hpp"
#include "proxy/tls/workspace_ca.hpp"
#include "proxy/tls/x509_build.hpp"

namespace airlock::proxy::intercept {

// When a CA issued at `issued` and expiring at `not_after` is renewed: two thirds into its
// lifetime, leaving a third of it as the overlap in which both CAs are trusted.
system_time renewal_due_at(system_time issued, system_time not_after);

enum class rotation_action { none, renew, retire_previous };

struct rotation_times {
  system_time issued;                             // the current CA's
  system_time not_after;                          // the current CA's
  std::optional<system_time> previous_not_after;  // the predecessor's, during an overlap
  bool renews = true;                             // false: an operator's CA, never renewed
};

struct rotation_step {
  rotation_action action = rotation_action::none;
  system_time next_check;  // when there is nothing to do now: when the next event falls due
};

// What is due at `now`: renew first (it replaces the predecessor anyway), then retiring an
// expired predecessor. Pure.
rotation_step plan_rotation(const rotation_times& t, system_time now);

// How long to wait before retrying a renewal that failed: a tenth of the lifetime, between
// 1 s and 5 min, so a short test lifetime retries quickly and a week-long one does not spin.
std::chrono::seconds retry_delay(std::chrono::seconds lifetime);

class ca_rotation {
 public:
  struct settings {
    bool renews = true;  // false for an operator's CA
    std::chrono::seconds lifetime{std::chrono::hours(7 * 24)};
    ca_scope scope;  // the successor's name constraints
    std::string export_dir;
    std::string system_bundle = workspace_ca::default_system_bundle;
    kit_settings kit;  // what the kit's env files say besides the CA
  };

  // Does not export or start anything; leaves must be minting from `initial` already.
  ca_rotation(workspace_ca initial, leaf_cache& leaves, settings s);
  ~ca_rotation();
  ca_rotation(const ca_rotation&) = delete;
  ca_rotation& operator=(const ca_rotation&) = delete;

  // Writes the export files for the CAs trusted now. Throws ca_error naming the path.
  void export_files();

  // Starts the renewal thread (only for a CA that renews); stop() ends it, also on
  // destruction.
  void start();
  void stop();

  // Renews, or retires the predecessor, when that is due at `now`; returns when to call it
  // again. Thread-safe (one mutex, which nothing on the data plane takes). A failure is
  // logged, leaves everything as it was and asks to be called again after retry_delay().
  system_time renew_if_due(system_time now);

  // The current CA's notAfter in seconds since the epoch, for the expiry gauge.
  std::int64_t expiry_unix_seconds() const noexcept {
    return expiry_.load(std::memory_order_relaxed);
  }
  std::uint64_t renewals() const noexcept { return renewals_.load(std::memory_order_relaxed); }

 private:
  rotation_times times() const;
  void renew(system_time now);
  void retire_previous();
  void run();

  leaf_cache& leaves_;
  const settings settings_;
  mutable std::mutex mutex_;  // guards current_, previous_, previous_not_after_
  workspace_ca current_;
  x509_ptr previous_;  // the predecessor's certificate, during an overlap
  std::optional<system_time> previous_not_after_;
  std::atomic<std::int64_t> expiry_{0};
  std::atomic<std::uint64_t> renewals_{0};

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by wake_mutex_
  std::thread thread_;
};

}  // namespace airlock::proxy::intercept

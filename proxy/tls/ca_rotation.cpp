#include "proxy/tls/ca_rotation.hpp"

#include <algorithm>
#include <ctime>
#include <exception>
#include <vector>

#include <spdlog/spdlog.h>

namespace airlock::proxy::intercept {

namespace {

using std::chrono::system_clock;

// Whatever the schedule says, the thread looks again this often: a wall clock set forward
// (or a suspended VM) must not leave an expired CA in place for days.
constexpr auto max_sleep = std::chrono::minutes(1);

std::int64_t unix_seconds(system_time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string utc_text(system_time t) {
  const std::time_t raw = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&raw, &tm);
  char buf[32];
  return std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) != 0 ? buf : "?";
}

x509_ptr ref(X509* cert) {
  return X509_up_ref(cert) == 1 ? x509_ptr(cert) : nullptr;
}

}  // namespace

system_time renewal_due_at(system_time issued, system_time not_after) {
  return issued + (not_after - issued) * 2 / 3;
}

rotation_step plan_rotation(const rotation_times& t, system_time now) {
  const system_time far = now + std::chrono::hours(24 * 365);
  if (!t.renews) {
    return {rotation_action::none, far};
  }
  const system_time due = renewal_due_at(t.issued, t.not_after);
  if (now >= due) {
    return {rotation_action::renew, now};
  }
  if (t.previous_not_after && now >= *t.previous_not_after) {
    return {rotation_action::retire_previous, now};
  }
  return {rotation_action::none, std::min(due, t.previous_not_after.value_or(far))};
}

std::chrono::seconds retry_delay(std::chrono::seconds lifetime) {
  return std::clamp<std::chrono::seconds>(lifetime / 10, std::chrono::seconds(1),
                                          std::chrono::minutes(5));
}

ca_rotation::ca_rotation(workspace_ca initial, leaf_cache& leaves, settings s)
    : leaves_(leaves), settings_(std::move(s)), current_(std::move(initial)) {
  expiry_.store(unix_seconds(current_.not_after()), std::memory_order_relaxed);
}

ca_rotation::~ca_rotation() {
  stop();
}

rotation_times ca_rotation::times() const {
  return {current_.issued_at(), current_.not_after(), previous_not_after_, settings_.renews};
}

void ca_rotation::export_files() {
  const std::lock_guard lock(mutex_);
  std::vector<X509*> certs{current_.cert()};
  if (previous_) {
    certs.push_back(previous_.get());
  }
  export_cas(settings_.export_dir, certs, settings_.system_bundle, settings_.kit);
}

system_time ca_rotation::renew_if_due(system_time now) {
  const std::lock_guard lock(mutex_);
  const rotation_step step = plan_rotation(times(), now);
  try {
    switch (step.action) {
      case rotation_action::none:
        return step.next_check;
      case rotation_action::renew:
        renew(now);
        break;
      case rotation_action::retire_previous:
        retire_previous();
        break;
    }
  } catch (const std::exception& e) {
    const auto wait = retry_delay(settings_.lifetime);
    spdlog::error("workspace CA {}: {}; trying again in {} s (the current CA expires {})",
                  step.action == rotation_action::renew ? "renewal" : "retirement", e.what(),
                  wait.count(), utc_text(current_.not_after()));
    return now + wait;
  }
  return plan_rotation(times(), now).next_check;
}

void ca_rotation::renew(system_time now) {
  workspace_ca next = workspace_ca::generate(settings_.lifetime, &settings_.scope);
  // A predecessor that already expired (the clock jumped) can vouch for nobody: then the
  // successor stands alone.
  const bool overlap = current_.not_after() > now;
  x509_ptr cross = overlap ? current_.cross_sign(next) : nullptr;
  x509_ptr predecessor = overlap ? ref(current_.cert()) : nullptr;
  if (overlap && !predecessor) {
    throw ca_error("workspace CA: cannot reference the predecessor");
  }
  // Published in this order so that no client is ever shown a leaf whose CA is not in the
  // files yet: the files first, then the leaves.
  std::vector<X509*> certs{next.cert()};
  if (overlap) {
    certs.push_back(current_.cert());
  }
  export_cas(settings_.export_dir, certs, settings_.system_bundle, settings_.kit);
  leaves_.replace_ca(next, cross.get());
  previous_not_after_ = overlap ? std::optional(current_.not_after()) : std::nullopt;
  previous_ = std::move(predecessor);
  current_ = std::move(next);
  expiry_.store(unix_seconds(current_.not_after()), std::memory_order_relaxed);
  renewals_.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("workspace CA renewed: the new one is valid until {}{}",
               utc_text(current_.not_after()),
               overlap ? ", the previous one stays trusted until " + utc_text(*previous_not_after_)
                       : std::string());
}

void ca_rotation::retire_previous() {
  // The cross-signed chain expired with the predecessor: leaves go back to sending the CA
  // itself, then the predecessor leaves the files.
  leaves_.replace_ca(current_);
  X509* const certs[] = {current_.cert()};
  export_cas(settings_.export_dir, certs, settings_.system_bundle, settings_.kit);
  previous_.reset();
  previous_not_after_.reset();
  spdlog::info("workspace CA: the previous CA expired and left {}", settings_.export_dir);
}

void ca_rotation::start() {
  if (!settings_.renews || thread_.joinable()) {
    return;
  }
  thread_ = std::thread([this] { run(); });
}

void ca_rotation::stop() {
  {
    const std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void ca_rotation::run() {
  std::unique_lock lock(wake_mutex_);
  while (!stopping_) {
    lock.unlock();
    const system_time next = renew_if_due(system_clock::now());
    lock.lock();
    const auto wait = std::clamp<system_clock::duration>(next - system_clock::now(),
                                                         std::chrono::milliseconds(10), max_sleep);
    wake_.wait_for(lock, wait, [this] { return stopping_; });
  }
}

}  // namespace airlock::proxy::intercept

#pragma once
// Revoke, the whole of it: every secret wiped from the store, then each configured revoke
// hook sent (the secret it needs held only until its request is written), and a JSON
// receipt of both. Shared by the admin API and SIGTERM; serialised, idempotent.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "secrets/store.hpp"

namespace airlock::proxy::control {

struct hook_result {
  std::string secret;
  std::string method;
  std::string url;
  int status = 0;     // the issuer's answer; 0 when none came
  std::string error;  // empty when a status came
};

class revoker {
 public:
  revoker(const config::config& cfg, secrets::store& store);

  // The receipt JSON. The first call wipes and runs the hooks (each bounded by
  // hook_timeout); later calls return the same receipt with already_revoked true.
  std::string revoke();

  // What closes the data plane's connections that carried a credential, returning how
  // many (set once at start, before any revoke).
  // The closer returns how many it closed and whether it could reach every worker.
  using closer = std::function<std::pair<std::size_t, bool>()>;
  void set_connection_closer(closer c) { closer_ = std::move(c); }

  static constexpr auto hook_timeout = std::chrono::seconds(5);

 private:
  const config::config& cfg_;
  secrets::store& store_;
  std::mutex mutex_;
  std::vector<hook_result> hooks_;
  closer closer_;
  std::size_t connections_closed_ = 0;
  bool connections_pending_ = false;
};

// What the store says after the wipe: the receipt proves it, not just claims it.
struct revoke_state {
  std::string phase;                       // "revoked" once it took
  std::vector<std::string> still_present;  // secrets holding a value: none once it took
  std::size_t connections_closed = 0;      // that had carried a credential
  bool connections_pending = false;        // a worker did not close its own in time
};

// The receipt: {"result":"revoked","phase":"revoked","already_revoked":..,"time":..,
// "revoked":[..],"still_present":[..],"connections_closed":N,"connections_pending":false,
// "hooks":[..]}; "result" is "incomplete" when a secret still holds a value, the phase
// is not revoked or some connections could not be closed.
std::string receipt_json(const secrets::store::revoke_receipt& receipt,
                         const std::vector<hook_result>& hooks, const revoke_state& state);

// Sends one hook request to its issuer and reads the status line. Secret values come
// through lookup; the request bytes are wiped once written.
hook_result send_revoke_hook(
    const config::config& cfg, const config::secret_source& source,
    const std::function<std::optional<std::string_view>(std::string_view)>& lookup);

}  // namespace airlock::proxy::control

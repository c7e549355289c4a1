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

  static constexpr auto hook_timeout = std::chrono::seconds(5);

 private:
  const config::config& cfg_;
  secrets::store& store_;
  std::mutex mutex_;
  std::vector<hook_result> hooks_;
};

// The receipt: {"result":"revoked","already_revoked":..,"time":..,"revoked":[..],"hooks":[..]}
std::string receipt_json(const secrets::store::revoke_receipt& receipt,
                         const std::vector<hook_result>& hooks);

// Sends one hook request to its issuer and reads the status line. Secret values come
// through lookup; the request bytes are wiped once written.
hook_result send_revoke_hook(
    const config::config& cfg, const config::secret_source& source,
    const std::function<std::optional<std::string_view>(std::string_view)>& lookup);

}  // namespace airlock::proxy::control

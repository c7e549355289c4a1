#pragma once
// Revoke, the whole of it: every secret wiped from the store, the data plane's connections
// that carried one closed, then each configured revoke hook sent (the secret it needs held
// only until its request is written), and a JSON receipt of all of it. A coroutine on the
// control loop: health, metrics and the admin API keep answering while the workers close
// connections (on a thread of its own) and while hooks wait on their issuers (all at once,
// each under its own deadline). Shared by the admin API and SIGTERM; idempotent.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "config/model.hpp"
#include "proxy/flow/http_client.hpp"
#include "proxy/io/asio.hpp"
#include "proxy/policy/value_template.hpp"
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

  // How hooks reach their issuers: lookups, the shared upstream TLS context, resolve:
  // overrides. Set once at start, before any revoke; without it every hook fails, saying so.
  void set_outbound(const dial_context& with) { outbound_.emplace(with); }

  // The receipt JSON. Runs on one executor, the control loop's (not thread-safe). The
  // first call wipes, closes and runs the hooks; a call while that runs waits for it; every
  // later call returns the same receipt with already_revoked true.
  awaitable<std::string> revoke();

  // What closes the data plane's connections that carried a credential (set once at start,
  // before any revoke): how many it closed, and whether it could reach every worker. It
  // may block while the workers answer, so it runs on a thread of its own.
  using closer = std::function<std::pair<std::size_t, bool>()>;
  void set_connection_closer(closer c) { closer_ = std::move(c); }

  static constexpr auto hook_timeout = std::chrono::seconds(5);
  // An issuer's answer is a status and a few bytes; more fails the hook.
  static constexpr std::size_t max_answer = 256 * 1024;

 private:
  awaitable<void> close_connections();
  awaitable<void> run_hooks(const secret_lookup& lookup);

  const config::config& cfg_;
  secrets::store& store_;
  std::optional<dial_context> outbound_;
  closer closer_;
  std::optional<asio::thread_pool> closer_thread_;  // made at the first revoke
  // While the first revoke runs: the later callers wait on it, and its end cancels them.
  std::shared_ptr<asio::steady_timer> finished_;
  std::vector<hook_result> hooks_;
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

// Appends a hook's request (head only, Connection: close) to out, its header templates
// rendered with lookup; returns the name of a secret without a value instead. out should
// have room reserved: a reallocation would leave a copy of a secret in freed memory.
std::optional<std::string> append_hook_request(std::string& out, const config::revoke_hook& hook,
                                               const secret_lookup& lookup);

// Sends one hook request to its issuer through with and reads the answer, within
// hook_timeout. The request bytes are wiped once written.
awaitable<hook_result> send_revoke_hook(const config::secret_source& source,
                                        const secret_lookup& lookup, const dial_context* with);

}  // namespace airlock::proxy::control

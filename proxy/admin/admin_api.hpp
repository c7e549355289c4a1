#pragma once
// The admin API the orchestrator drives: PUT /v1/secrets/{name} (the body is the value),
// POST /v1/revoke (a JSON receipt), GET /v1/status. With a token configured every call
// needs "Authorization: Bearer <token>", compared in constant time, once, on the request
// head (authorise, called by control_connection before a body is read or handle runs).
// The right token is always accepted: failures are counted, and slowed down per connection
// by the server, never answered by a global lockout the agent could trigger. No
// answer ever contains a secret value. Only push secrets take a PUT: a file or env
// secret is the operator's choice, and the caller may not swap in a value of its own.

#include <atomic>
#include <chrono>
#include <optional>

#include "proxy/admin/control_http.hpp"
#include "proxy/admin/revoker.hpp"
#include "proxy/io/asio.hpp"
#include "secrets/secret_value.hpp"
#include "secrets/store.hpp"

namespace airlock::proxy::control {

class admin_api {
 public:
  // token: nullopt runs without authentication (config allows that on loopback only).
  admin_api(secrets::store& store, std::optional<secrets::secret_value> token, revoker& revoke);

  // Answers a request whose head authorise() let in. A coroutine: a revoke waits on the
  // connections being closed and on the issuers' hooks without holding up the control loop.
  // The request's body is wiped before the answer is returned, whatever the answer.
  awaitable<control_response> handle(const control_request& req);

  // nullopt when authorization carries the token (or none is configured); the 401
  // otherwise, counted. Called on the request head, before any body is read.
  std::optional<control_response> authorise(std::string_view authorization);

  std::uint64_t auth_failures() const { return auth_failures_.load(); }

 private:
  control_response put_secret(std::string_view name, std::span<char> body);
  control_response set_log_level(std::string_view body);
  control_response status() const;

  secrets::store& store_;
  std::optional<secrets::secret_value> token_;
  revoker& revoker_;
  std::atomic<std::uint64_t> auth_failures_{0};
};

// "2026-11-22T05:10:00Z"
std::string utc_timestamp(std::chrono::system_clock::time_point t);

}  // namespace airlock::proxy::control

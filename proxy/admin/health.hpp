#pragma once
// /healthz and /readyz for Kubernetes probes: alive while the listeners are up; ready
// once every required secret is present (the setup phase is over), not ready after
// revoke. No token: they say nothing a secret could be read from.

#include "proxy/admin/control_http.hpp"
#include "secrets/store.hpp"

namespace airlock::proxy::control {

control_response handle_health(const control_request& req, const secrets::store& store);

}  // namespace airlock::proxy::control

#include "config/load.hpp"

namespace airlock::config {

// Kept as YAML rather than as struct defaults so `airlock --print-default-config`
// shows users a file they can copy and edit.
std::string_view embedded_default_yaml() {
  return R"(# airlock embedded default: a local forward proxy for one workspace.
proxy:
  listen: "127.0.0.1:3128"
  workers: 0                # one per core
  max_connections: 10000
  max_header_bytes: 64KiB
  max_pending_head_bytes: 32MiB  # all heads together beyond 16 KiB each; more gets 503
  max_decoding_bytes: 16MiB      # gzip answers from scrubbed hosts, 128 KiB each; more get 503
  timeouts: { header: 10s, idle: 300s, connect: 10s, drain: 30s }
  pool: { max_idle_per_host: 1024, idle: 60s }
admin:
  # PUT /v1/secrets/NAME, GET /v1/status, POST /v1/revoke: a Unix socket only airlock's
  # UID can use (curl --unix-socket /run/airlock-admin/admin.sock http://airlock/v1/status)
  socket: /run/airlock-admin/admin.sock
metrics:
  listen: "127.0.0.1:9464"  # /healthz, /readyz
egress:
  default: allow
  block_private_addresses: true  # no loopback, RFC 1918, link-local or metadata addresses
telemetry:
  block_vendor_defaults: true  # airlock --print-telemetry-defaults lists what and why
log:
  level: info
  format: text
)";
}

config embedded_default() {
  return load_string(embedded_default_yaml(), "<embedded default>");
}

}  // namespace airlock::config

#pragma once
// What a worker lends each connection: config, counters, shared state. Plain references,
// so a connection, its exchanges and its tunnels depend on this list, not on the worker.

#include <vector>

#include "config/model.hpp"
#include "proxy/io/asio.hpp"

namespace airlock::secrets {
class store;
}

namespace airlock::proxy {

struct stats;
class metrics;
class policy;
struct tls_state;
class head_budget;
class dns_pool;
class upstream_pool;
class tls_session_cache;
class scrub_cache;

struct flow_context {
  const config::config& cfg;
  stats& counters;
  metrics& series;
  const policy& egress;
  tls_state* tls;  // nullptr when nothing is intercepted or dialled over TLS
  secrets::store& secrets;
  head_budget& heads;
  dns_pool& dns;
  upstream_pool& pool;
  tls_session_cache& tls_sessions;
  scrub_cache& scrubs;
  // Where airlock itself listens: never a destination, whatever the policy allows.
  const std::vector<tcp::endpoint>& self;
  // The worker's drain flag (same thread): connections finish their request, then close.
  const bool& draining;
};

}  // namespace airlock::proxy

#pragma once
// What interception needs, shared by every worker: the workspace CA (renewed in the
// background, see ca_rotation.hpp) and its leaf cache, and the one client-side SSL context
// for upstreams (trust store loaded once). Built once at start; the leaf cache and the
// rotation lock internally, everything else is read-only afterwards.

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "config/model.hpp"
#include "proxy/tls/ca_rotation.hpp"
#include "proxy/tls/leaf_cache.hpp"
#include "proxy/tls/stream.hpp"
#include "proxy/tls/workspace_ca.hpp"

#include <boost/asio/ssl/context.hpp>

namespace airlock::proxy {

namespace ssl = asio::ssl;

struct tls_state {
  tls_state(intercept::workspace_ca ca_in, intercept::ca_rotation::settings rotation,
            const config::config& cfg);

  intercept::leaf_cache leaves;
  intercept::ca_rotation ca;  // after leaves: its thread stops before the cache goes
  ssl::context upstream;
};

// The client-side context for upstreams: system store plus tls.upstream.ca_file, peer
// verification, TLS 1.2+, HTTP/1.1 by ALPN. Throws naming what failed (start-up only).
ssl::context make_upstream_context(const config::tls_config& cfg);

// Loads or generates the CA (an ephemeral one constrained to intercepted, the host patterns
// of every name airlock intercepts: interception_names()), exports it and the rest of the
// agent's kit (naming the proxy listener bound at `listening`), starts its renewal and builds
// the upstream context. Throws (start-up only) with a message naming what failed.
std::unique_ptr<tls_state> make_tls_state(const config::config& cfg,
                                          std::span<const std::string> intercepted,
                                          const asio::ip::tcp::endpoint& listening);

// Prepares an upstream TLS connection to host: SNI (names only) and certificate name
// verification (DNS name or IP). False if OpenSSL refuses the name.
bool prepare_upstream_tls(SSL* ssl, std::string_view host, bool is_ip);

}  // namespace airlock::proxy

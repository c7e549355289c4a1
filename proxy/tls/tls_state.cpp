#include "proxy/tls/tls_state.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

namespace airlock::proxy {

namespace {

// OpenSSL parses a certificate's extensions on first use and publishes them with a lock-free
// flag. Doing that here, on the starting thread, means no two workers ever race to fill the
// cache of a shared trust anchor in their first verifications. The atomics inside an
// uninstrumented libcrypto are invisible to ThreadSanitizer, which reported exactly that
// first use as a race; it also takes the parsing off the first handshake.
void cache_trust_anchor_extensions(SSL_CTX* ctx) {
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    if (X509* cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i)); cert != nullptr) {
      X509_check_purpose(cert, -1, 0);
    }
  }
}

}  // namespace

ssl::context make_upstream_context(const config::tls_config& cfg) {
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_set_default_verify_paths(native) != 1) {
    throw std::runtime_error("tls: cannot load the system trust store");
  }
  if (!cfg.upstream_ca_file.empty() &&
      SSL_CTX_load_verify_locations(native, cfg.upstream_ca_file.c_str(), nullptr) != 1) {
    throw std::runtime_error("tls.upstream.ca_file: cannot load " + cfg.upstream_ca_file);
  }
  // airlock speaks HTTP/1.1 to upstreams; never let a server pick h2 under it.
  static constexpr unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(native, alpn, sizeof(alpn));
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT);
  // What tls_socket_stream relies on (it sets them per connection too): resumable partial
  // writes, no record buffers held while idle, and no renegotiation, so a write never reads.
  SSL_CTX_set_mode(native, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  cache_trust_anchor_extensions(native);
  return ctx;
}

tls_state::tls_state(intercept::workspace_ca ca_in, intercept::ca_rotation::settings rotation,
                     const config::config& cfg)
    : leaves(ca_in),
      ca(std::move(ca_in), leaves, std::move(rotation)),
      upstream(make_upstream_context(cfg.tls)) {}

std::unique_ptr<tls_state> make_tls_state(const config::config& cfg,
                                          std::span<const std::string> intercepted,
                                          const asio::ip::tcp::endpoint& listening) {
  intercept::ca_rotation::settings rotation;
  rotation.renews = cfg.tls.ca_cert_file.empty();
  rotation.lifetime = std::chrono::duration_cast<std::chrono::seconds>(cfg.tls.ca_lifetime);
  rotation.scope = intercept::scope_for_hosts(intercepted);
  rotation.export_dir = cfg.tls.export_dir;
  rotation.kit.proxy =
      intercept::agent_proxy(cfg.proxy, listening.address().to_string(), listening.port());
  rotation.kit.telemetry_optouts = cfg.telemetry.block_vendor_defaults;
  auto ca = rotation.renews
                ? intercept::workspace_ca::generate(rotation.lifetime, &rotation.scope)
                : intercept::workspace_ca::load(cfg.tls.ca_cert_file, cfg.tls.ca_key_file);
  if (!rotation.renews && !ca.has_name_constraints()) {
    spdlog::warn(
        "tls.ca.cert_file {}: the CA has no name constraints, so its key can sign for any site "
        "the agent visits; guard it like a credential (the ephemeral CA is limited to the "
        "intercepted hosts)",
        cfg.tls.ca_cert_file);
  }
  auto state = std::make_unique<tls_state>(std::move(ca), std::move(rotation), cfg);
  try {
    state->ca.export_files();
  } catch (const intercept::ca_error& e) {
    // A config without credentials wrote nothing before the check host and telemetry path
    // entries were intercepted: say why a CA is exported at all.
    throw intercept::ca_error(std::string(e.what()) +
                              " (tls.ca.export_dir: airlock exports its CA in every "
                              "configuration, for the doctor's check host and hosts with "
                              "telemetry path entries; name a directory it can write)");
  }
  state->ca.start();
  return state;
}

bool prepare_upstream_tls(SSL* ssl, std::string_view host, bool is_ip) {
  const std::string name(host);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (is_ip) {
    return X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1;
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set_tlsext_host_name(ssl, name.c_str()) == 1 &&
         X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size()) == 1;
}

}  // namespace airlock::proxy

#pragma once
// Mints one intercepted host's leaf certificate and wraps it in a ready server SSL_CTX.
// Every leaf is signed for one key generated at construction (ECDSA P-256), so a mint costs
// one CA signature and no key generation. Stateless after construction: mint() may run on
// many threads at once.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/tls/openssl_ptr.hpp"
#include "proxy/tls/workspace_ca.hpp"

namespace airlock::proxy::intercept {

// The name a leaf is minted for: `host` lowercased, or nullopt when it cannot be one (empty,
// over 253 characters, a character outside [a-z0-9.-_:], or ':' in anything but an IPv6
// literal without brackets). Callers validated hosts already; this is the last line.
std::optional<std::string> leaf_name(std::string_view host);

class leaf_minter {
 public:
  // Takes its own references to ca's certificate and key, so the minter and the contexts it
  // made may outlive `ca`. chain_cert is what the contexts send after the leaf: ca's own
  // certificate when null, or during a renewal's overlap ca cross-signed by its predecessor
  // (so clients that trust only the predecessor still build a path). Throws ca_error when
  // the leaf key or the shared extensions cannot be built.
  explicit leaf_minter(const workspace_ca& ca, X509* chain_cert = nullptr);

  // A server SSL_CTX presenting a fresh leaf for `name` (a leaf_name() result) followed by
  // the chain certificate: TLS 1.2 minimum, ECDHE only, ALPN http/1.1 only, no resumption.
  // nullptr on any OpenSSL or allocation failure; the error queue is left empty.
  std::shared_ptr<SSL_CTX> mint(const std::string& name) const noexcept;

  // The key every leaf is signed for.
  EVP_PKEY* leaf_key() const { return leaf_key_.get(); }
  // The CA that signs the leaves.
  X509* ca_cert() const { return ca_cert_.get(); }

 private:
  x509_ptr make_leaf(const std::string& name) const;
  ssl_ctx_ptr make_context(X509* leaf) const;

  x509_ptr ca_cert_;
  x509_ptr chain_cert_;
  pkey_ptr ca_key_;
  workspace_ca::time_point ca_not_after_;
  pkey_ptr leaf_key_;
  // Identical in every leaf: built once, copied into each certificate.
  x509_ext_ptr basic_constraints_;
  x509_ext_ptr key_usage_;
  x509_ext_ptr extended_key_usage_;
  x509_ext_ptr subject_key_id_;
  x509_ext_ptr authority_key_id_;
};

// The ALPN selection the minted contexts install: picks "http/1.1" when the client offers it
// and otherwise declines ALPN (SSL_TLSEXT_ERR_NOACK), never h2, because airlock speaks
// HTTP/1.1 inside the tunnel. Exposed for tests.
int select_http11_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                       const unsigned char* in, unsigned int in_len, void* arg);

}  // namespace airlock::proxy::intercept

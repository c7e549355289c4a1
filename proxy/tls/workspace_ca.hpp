#pragma once
// The certificate authority that signs airlock's intercepted-host leaves. Either ephemeral
// (generated at start, key only in this process's memory, short-lived) or loaded from the
// operator's PEM files. The agent trusts it through the files export_to() writes.

#include <chrono>
#include <span>
#include <stdexcept>
#include <string>

#include "proxy/tls/agent_kit.hpp"
#include "proxy/tls/name_constraints.hpp"
#include "proxy/tls/openssl_ptr.hpp"

namespace airlock::proxy::intercept {

// Startup failure of the CA: the message names the file or directory and the reason.
class ca_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class workspace_ca {
 public:
  using time_point = std::chrono::system_clock::time_point;

  // A fresh ECDSA P-256 CA valid from an hour ago (client clock skew) until now + validity,
  // limited by a critical nameConstraints extension to `scope` when one is given (airlock
  // always gives one; tests may not). pathlen:1, so that a successor can be cross-signed.
  // Throws ca_error if validity is not positive or OpenSSL fails to build or sign it.
  static workspace_ca generate(std::chrono::seconds validity = std::chrono::hours(7 * 24),
                               const ca_scope* scope = nullptr);

  // Loads a PEM certificate and PEM private key (EC P-256/P-384 or RSA >= 2048; the two may
  // be one file). Throws ca_error naming the file when either is unreadable or unparsable, the
  // key is encrypted (there is nobody to ask for a passphrase), the certificate is not a CA
  // (basicConstraints CA:TRUE, and keyCertSign when keyUsage is present), is expired or not
  // yet valid, or the key does not belong to the certificate.
  static workspace_ca load(const std::string& cert_file, const std::string& key_file);

  workspace_ca(workspace_ca&&) noexcept = default;
  workspace_ca& operator=(workspace_ca&&) noexcept = default;

  // Borrowed pointers, valid while this object lives; X509_up_ref/EVP_PKEY_up_ref to keep
  // them longer (leaf_cache does).
  X509* cert() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }

  // The certificate alone in PEM form; throws ca_error if encoding fails (out of memory).
  std::string cert_pem() const;

  time_point not_after() const { return not_after_; }
  // When generate() made it, or a loaded certificate's notBefore: where its lifetime starts
  // for the renewal schedule.
  time_point issued_at() const { return issued_at_; }
  bool has_name_constraints() const { return intercept::has_name_constraints(cert_.get()); }

  // successor's certificate issued by this CA (same subject, key and extensions, valid until
  // the earlier of the two expiries), so a client that still trusts only this CA accepts
  // leaves that successor signs. Throws ca_error when OpenSSL fails.
  x509_ptr cross_sign(const workspace_ca& successor) const;

  // Writes the agent's kit into `dir` (created with 0755), each file atomically (temp file +
  // rename) with mode 0644:
  //   ca.pem          this CA's certificate only (never the key);
  //   ca-bundle.pem   system_bundle's contents when that file exists, then ca.pem, for tools
  //                   whose variable replaces the system store;
  //   truststore.p12  the same certificates as a PKCS#12 trust store for Java;
  //   wgetrc, ca.env, proxy.env, telemetry.env, airlock.env  (agent_kit.hpp), with absolute
  //                   paths; `. DIR/airlock.env` configures the agent's tools.
  // Throws ca_error naming the path on any failure, including a system bundle that exists but
  // cannot be read.
  void export_to(const std::string& dir, const std::string& system_bundle = default_system_bundle,
                 const kit_settings& kit = {}) const;

  static constexpr const char* default_system_bundle = "/etc/ssl/certs/ca-certificates.crt";

 private:
  workspace_ca(x509_ptr cert, pkey_ptr key, time_point not_after, time_point issued_at);

  x509_ptr cert_;
  pkey_ptr key_;
  time_point not_after_;
  time_point issued_at_;
};

// The certificates as consecutive PEM blocks, in order. Throws ca_error when encoding fails.
std::string certs_pem(std::span<X509* const> certs);

// export_to for several CAs at once (newest first), which is how a renewal's overlap is
// published: ca.pem, ca-bundle.pem and the trust store carry every certificate in certs. Same
// files, modes, atomicity and errors as workspace_ca::export_to.
void export_cas(const std::string& dir, std::span<X509* const> certs,
                const std::string& system_bundle = workspace_ca::default_system_bundle,
                const kit_settings& kit = {});

}  // namespace airlock::proxy::intercept

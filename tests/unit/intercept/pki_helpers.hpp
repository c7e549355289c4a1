#pragma once
// Test-side PKI built directly with OpenSSL (independently of the code under test), plus an
// in-memory TLS handshake over a BIO pair and an RSS probe.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "proxy/tls/openssl_ptr.hpp"

namespace airlock::proxy::intercept::test_support {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

pkey_ptr make_ec_key(const char* curve = "P-256");
pkey_ptr make_rsa_key(unsigned bits);

struct cert_options {
  std::string common_name = "test CA";
  bool basic_constraints = true;
  bool ca = true;
  std::string key_usage = "critical,keyCertSign,cRLSign";    // empty: no keyUsage extension
  std::string subject_alt_name;                              // e.g. "DNS:x"; empty: none
  std::chrono::seconds not_before = std::chrono::hours(-1);  // relative to now
  std::chrono::seconds not_after = std::chrono::hours(24);
};

// A certificate for `key`, self-signed when issuer is null. Fails the test (ADD_FAILURE)
// and returns nullptr when OpenSSL refuses.
x509_ptr make_cert(const cert_options& opts, EVP_PKEY* key, X509* issuer = nullptr,
                   EVP_PKEY* issuer_key = nullptr);

void write_cert_pem(const std::string& path, X509* cert);
// Encrypted with AES-256 when passphrase is given.
void write_key_pem(const std::string& path, EVP_PKEY* key, const char* passphrase = nullptr);
std::string read_text(const std::string& path);

// X509_verify_cert of leaf (with `intermediates` as untrusted chain, may be null) against a
// store holding only `trusted`, for a DNS name (X509_VERIFY_PARAM_set1_host) or an IP
// (X509_VERIFY_PARAM_set1_ip_asc). Returns X509_V_OK or the verification error.
int verify_leaf(X509* leaf, STACK_OF(X509) * intermediates, X509* trusted, const std::string& host,
                bool ip);

struct handshake_result {
  bool ok = false;
  std::string error;    // why it failed
  std::string alpn;     // selected protocol, empty when none
  std::string version;  // "TLSv1.3", ...
  std::string cipher;   // OpenSSL's name of the negotiated suite
  std::string echoed;   // application data the server read after the handshake
};

struct client_options {
  std::string host;       // checked against the certificate and sent as SNI
  bool ip = false;        // host is an IP literal: check the IP SAN, no SNI
  std::string alpn_wire;  // length-prefixed protocol list; empty: no ALPN
  int max_version = 0;    // e.g. TLS1_2_VERSION; 0: library maximum
};

// A full handshake between a verifying client trusting only `trusted_ca` and a server using
// `server_ctx`, over a BIO pair, then one application-data record client -> server.
handshake_result handshake(SSL_CTX* server_ctx, X509* trusted_ca, const client_options& opts);

// Resident set size of this process in KiB, from /proc/self/status.
long rss_kib();

}  // namespace airlock::proxy::intercept::test_support

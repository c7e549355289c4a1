#include "proxy/tls/workspace_ca.hpp"

#include <algorithm>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "proxy/tls/ca_files.hpp"
#include "proxy/tls/x509_build.hpp"

namespace airlock::proxy::intercept {

namespace {

constexpr std::size_t max_pem_file_bytes = 1 << 20;

// Refuses to prompt: PEM's default callback would read a passphrase from the terminal, which
// a sidecar does not have; an encrypted key must fail at startup instead of hanging.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

bio_ptr memory_bio(const std::string& data) {
  return bio_ptr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Wipes the PEM text of a private key when it goes out of scope, however load() leaves.
struct wiped_string {
  std::string text;
  ~wiped_string() { OPENSSL_cleanse(text.data(), text.size()); }
};

void require_ca_certificate(X509* cert, const std::string& file) {
  const auto fail = [&](const std::string& reason) {
    return ca_error("CA certificate " + file + ": " + reason);
  };
  const std::uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_INVALID) != 0) {
    throw fail("malformed extensions");
  }
  if ((flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) == 0) {
    throw fail("not a CA certificate (basicConstraints CA:TRUE is required)");
  }
  if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0) {
    throw fail("keyUsage does not allow keyCertSign");
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    throw fail("not yet valid (notBefore is in the future; check the clock)");
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    throw fail("expired");
  }
}

void require_supported_key(EVP_PKEY* key, const std::string& file) {
  const auto fail = [&](const std::string& reason) {
    return ca_error("CA key " + file + ": " + reason);
  };
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      if (EVP_PKEY_get_group_name(key, group, sizeof group, nullptr) != 1) {
        throw fail("EC key without a named curve");
      }
      int nid = OBJ_sn2nid(group);
      if (nid == NID_undef) {
        nid = EC_curve_nist2nid(group);
      }
      if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1) {
        throw fail(std::string("unsupported EC curve ") + group + " (use P-256 or P-384)");
      }
      return;
    }
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < 2048) {
        throw fail("RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) +
                   " bits is too weak (at least 2048)");
      }
      return;
    default:
      throw fail("unsupported key type (use EC P-256, EC P-384 or RSA >= 2048)");
  }
}

}  // namespace

workspace_ca::workspace_ca(x509_ptr cert, pkey_ptr key, time_point not_after, time_point issued_at)
    : cert_(std::move(cert)), key_(std::move(key)), not_after_(not_after), issued_at_(issued_at) {}

workspace_ca workspace_ca::generate(std::chrono::seconds validity, const ca_scope* scope) {
  if (validity <= std::chrono::seconds(0)) {
    throw ca_error("workspace CA: validity must be positive");
  }
  const auto fail = [](const char* step) {
    return ca_error(std::string("workspace CA: cannot ") + step + ": " + take_openssl_error());
  };
  pkey_ptr key = generate_p256_key();
  if (!key) {
    throw fail("generate the key");
  }
  // A random suffix tells two airlock instances' CAs apart in a client's error message.
  const std::string suffix = random_hex(8);
  x509_ptr cert(X509_new());
  if (suffix.empty() || !cert) {
    throw fail("allocate the certificate");
  }
  const auto now = std::chrono::system_clock::now();
  const auto not_after = now + validity;
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || !set_random_serial(cert.get()) ||
      !set_validity(cert.get(), now - std::chrono::hours(1), not_after) ||
      !add_name_entry(name, "O", "airlock") ||
      !add_name_entry(name, "CN", "airlock workspace CA " + suffix) ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.get()) != 1) {
    throw fail("fill in the certificate");
  }
  // pathlen:1 leaves room for exactly one intermediate: this CA's successor, cross-signed at
  // a renewal (leaves are CA:FALSE, so a leaked leaf still cannot sign). The name
  // constraints bind every certificate below, the cross-signed successor included.
  std::vector<x509_ext_ptr> exts;
  exts.push_back(make_ext(NID_basic_constraints, "critical,CA:TRUE,pathlen:1"));
  exts.push_back(make_ext(NID_key_usage, "critical,keyCertSign,cRLSign"));
  exts.push_back(make_subject_key_id_ext(key_identifier(key.get())));
  if (scope != nullptr) {
    exts.push_back(make_name_constraints_ext(*scope));
  }
  for (const auto& ext : exts) {
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) {
      throw fail("add the extensions");
    }
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    throw fail("sign the certificate");
  }
  // Parses the extensions before any worker shares the certificate (see leaf_minter.cpp).
  X509_check_purpose(cert.get(), -1, 0);
  // Read back what was encoded (whole seconds) so not_after() matches the certificate.
  const auto encoded = to_system_time(X509_get0_notAfter(cert.get()));
  return workspace_ca(std::move(cert), std::move(key), encoded.value_or(not_after), now);
}

x509_ptr workspace_ca::cross_sign(const workspace_ca& successor) const {
  const auto fail = [](const char* step) {
    return ca_error(std::string("workspace CA: cannot ") + step +
                    " the cross-signed successor: " + take_openssl_error());
  };
  X509* from = successor.cert();
  x509_ptr cert(X509_new());
  if (!cert) {
    throw fail("allocate");
  }
  X509* c = cert.get();
  const auto now = std::chrono::system_clock::now();
  const auto issuer_id = key_identifier(key_.get());
  const x509_ext_ptr akid = make_authority_key_id_ext(issuer_id);
  if (X509_set_version(c, X509_VERSION_3) != 1 || !set_random_serial(c) ||
      !set_validity(c, now - std::chrono::hours(1), std::min(not_after_, successor.not_after())) ||
      X509_set_subject_name(c, X509_get_subject_name(from)) != 1 ||
      X509_set_issuer_name(c, X509_get_subject_name(cert_.get())) != 1 ||
      X509_set_pubkey(c, X509_get0_pubkey(from)) != 1 || issuer_id.empty() || !akid) {
    throw fail("fill in");
  }
  // The successor's own extensions (CA, key usage, key id, name constraints) carry over.
  for (int i = 0; i < X509_get_ext_count(from); ++i) {
    X509_EXTENSION* ext = X509_get_ext(from, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_authority_key_identifier) {
      continue;  // names the successor's own key; this issuer's goes in below
    }
    if (X509_add_ext(c, ext, -1) != 1) {
      throw fail("copy the extensions of");
    }
  }
  if (X509_add_ext(c, akid.get(), -1) != 1 || X509_sign(c, key_.get(), EVP_sha256()) <= 0) {
    throw fail("sign");
  }
  X509_check_purpose(c, -1, 0);
  return cert;
}

workspace_ca workspace_ca::load(const std::string& cert_file, const std::string& key_file) {
  const std::string cert_text = read_small_file(cert_file, "CA certificate", max_pem_file_bytes);
  bio_ptr cert_bio = memory_bio(cert_text);
  x509_ptr cert(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, no_passphrase, nullptr)
                         : nullptr);
  if (!cert) {
    throw ca_error("CA certificate " + cert_file +
                   ": no PEM certificate found: " + take_openssl_error());
  }
  require_ca_certificate(cert.get(), cert_file);
  const auto not_after = to_system_time(X509_get0_notAfter(cert.get()));
  if (!not_after) {
    throw ca_error("CA certificate " + cert_file + ": malformed notAfter");
  }

  wiped_string key_text{read_small_file(key_file, "CA key", max_pem_file_bytes)};
  bio_ptr key_bio = memory_bio(key_text.text);
  pkey_ptr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr)
                       : nullptr);
  if (!key) {
    const std::string reason = take_openssl_error();
    const bool encrypted = key_text.text.find("ENCRYPTED") != std::string::npos;
    throw ca_error("CA key " + key_file + ": " +
                   (encrypted ? std::string("encrypted keys are not supported (no passphrase)")
                              : "no PEM private key found: " + reason));
  }
  require_supported_key(key.get(), key_file);
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw ca_error("CA key " + key_file + ": does not match the certificate in " + cert_file);
  }
  const auto not_before = to_system_time(X509_get0_notBefore(cert.get()));
  return workspace_ca(std::move(cert), std::move(key), *not_after,
                      not_before.value_or(std::chrono::system_clock::now()));
}

std::string workspace_ca::cert_pem() const {
  X509* const one[] = {cert_.get()};
  return certs_pem(one);
}

std::string certs_pem(std::span<X509* const> certs) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio) {
    throw ca_error("workspace CA: cannot encode the certificate: " + take_openssl_error());
  }
  for (X509* cert : certs) {
    if (PEM_write_bio_X509(bio.get(), cert) != 1) {
      throw ca_error("workspace CA: cannot encode the certificate: " + take_openssl_error());
    }
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace airlock::proxy::intercept

#pragma once
// Small building blocks shared by the workspace CA and the leaf minter. None of them throws
// (the leaf minter runs on the data plane): failures come back as false or nullptr and the
// reason stays in OpenSSL's error queue for take_openssl_error().

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/tls/openssl_ptr.hpp"

namespace airlock::proxy::intercept {

using system_time = std::chrono::system_clock::time_point;

// The oldest queued OpenSSL error as text ("unknown OpenSSL error" when the queue is empty).
// Empties the queue either way: Asio reads the same per-thread queue after its own calls and
// must not find our stale entries there.
std::string take_openssl_error();

// A fresh ECDSA P-256 key; nullptr when the provider fails.
pkey_ptr generate_p256_key();

// `bytes` random bytes as lowercase hex; empty when the RNG fails.
std::string random_hex(std::size_t bytes);

// Sets a 128-bit random serial (RFC 5280 allows up to 20 octets; randomness keeps two mints
// of one name distinguishable). False when the RNG or an allocation fails.
bool set_random_serial(X509* cert);

// Sets notBefore/notAfter; ASN1_TIME_set picks UTCTime or GeneralizedTime as RFC 5280 wants.
bool set_validity(X509* cert, system_time not_before, system_time not_after);

// Appends one attribute (e.g. "CN") to a name; false when OpenSSL refuses the value (too long,
// bad characters).
bool add_name_entry(X509_NAME* name, const char* field, std::string_view value);

// SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2, method 1), the value clients use to
// chain a leaf's authorityKeyIdentifier to its issuer. Empty on failure.
std::vector<unsigned char> key_identifier(EVP_PKEY* key);

// An extension built from OpenSSL's config syntax ("critical,CA:TRUE"), for the extensions
// that need no issuer or subject context. nullptr when the value does not parse.
x509_ext_ptr make_ext(int nid, const char* value);

// subjectKeyIdentifier holding `id`.
x509_ext_ptr make_subject_key_id_ext(std::span<const unsigned char> id);

// authorityKeyIdentifier holding `id` (keyIdentifier only: issuer name and serial would tie
// leaves to one CA certificate rather than its key).
x509_ext_ptr make_authority_key_id_ext(std::span<const unsigned char> id);

// Converts a certificate time; nullopt when it is malformed.
std::optional<system_time> to_system_time(const ASN1_TIME* t);

}  // namespace airlock::proxy::intercept

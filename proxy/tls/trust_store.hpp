#pragma once
// The Java trust store of the agent's kit: a PKCS#12 file holding airlock's CAs and the
// system roots as trusted-certificate entries, which JAVA_TOOL_OPTIONS in ca.env names
// (javax.net.ssl.trustStore replaces the JDK's cacerts, so the system roots go in too).

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <openssl/x509.h>

namespace airlock::proxy::intercept {

// The OID of the attribute that makes a PKCS#12 certificate bag a trusted entry for Java's
// keystore (Oracle's "trusted key usage"; OpenSSL 3.2 calls it NID_oracle_jdk_trustedkeyusage).
inline constexpr const char* jdk_trusted_key_usage_oid = "2.16.840.1.113894.746875.1.1";

// How many certificates system_pem gave (PEM "CERTIFICATE" blocks up to the first one that
// does not parse; other blocks and text between them are skipped).
struct trust_store {
  std::string der;  // the PKCS#12 file
  std::size_t system_certs = 0;
};

// cas (airlock's, aliases "airlock-ca-N") then the certificates of system_pem (aliases
// "system-N"), each in an unencrypted certificate bag with a friendlyName and the trusted key
// usage anyExtendedKeyUsage, as `openssl pkcs12 -export -jdktrust anyExtendedKeyUsage`
// writes them; a SHA-1 HMAC under password, which every JDK since 8 verifies. Throws ca_error
// when OpenSSL fails (out of memory).
trust_store make_trust_store(std::span<X509* const> cas, std::string_view system_pem,
                             const char* password);

}  // namespace airlock::proxy::intercept

#include "proxy/tls/x509_build.hpp"

#include <ctime>

#include <openssl/err.h>
#include <openssl/rand.h>

namespace airlock::proxy::intercept {

std::string take_openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

pkey_ptr generate_p256_key() {
  return pkey_ptr(EVP_EC_gen("P-256"));
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return {};
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (const unsigned char b : raw) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

bool set_random_serial(X509* cert) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    return false;
  }
  bignum_ptr bn(BN_bin2bn(raw, sizeof raw, nullptr));
  if (!bn) {
    return false;
  }
  // A zero serial is forbidden by RFC 5280; 2^-128 odds, but cheap to rule out.
  if (BN_is_zero(bn.get()) && BN_set_word(bn.get(), 1) != 1) {
    return false;
  }
  asn1_integer_ptr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  return serial && X509_set_serialNumber(cert, serial.get()) == 1;
}

bool set_validity(X509* cert, system_time not_before, system_time not_after) {
  using std::chrono::system_clock;
  return ASN1_TIME_set(X509_getm_notBefore(cert), system_clock::to_time_t(not_before)) != nullptr &&
         ASN1_TIME_set(X509_getm_notAfter(cert), system_clock::to_time_t(not_after)) != nullptr;
}

bool add_name_entry(X509_NAME* name, const char* field, std::string_view value) {
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), -1, 0) == 1;
}

std::vector<unsigned char> key_identifier(EVP_PKEY* key) {
  X509_PUBKEY* raw = nullptr;
  if (X509_PUBKEY_set(&raw, key) != 1) {
    return {};
  }
  const x509_pubkey_ptr spki(raw);
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  if (X509_PUBKEY_get0_param(nullptr, &bits, &bits_len, nullptr, spki.get()) != 1) {
    return {};
  }
  std::vector<unsigned char> id(EVP_MAX_MD_SIZE);
  unsigned int id_len = 0;
  if (EVP_Digest(bits, static_cast<std::size_t>(bits_len), id.data(), &id_len, EVP_sha1(),
                 nullptr) != 1) {
    return {};
  }
  id.resize(id_len);
  return id;
}

x509_ext_ptr make_ext(int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, nullptr, nullptr, nullptr, nullptr, 0);
  return x509_ext_ptr(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
}

namespace {

asn1_octet_string_ptr make_octet_string(std::span<const unsigned char> bytes) {
  asn1_octet_string_ptr os(ASN1_OCTET_STRING_new());
  if (!os || ASN1_OCTET_STRING_set(os.get(), bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return nullptr;
  }
  return os;
}

}  // namespace

x509_ext_ptr make_subject_key_id_ext(std::span<const unsigned char> id) {
  const auto os = make_octet_string(id);
  if (!os) {
    return nullptr;
  }
  return x509_ext_ptr(X509V3_EXT_i2d(NID_subject_key_identifier, 0, os.get()));
}

x509_ext_ptr make_authority_key_id_ext(std::span<const unsigned char> id) {
  authority_keyid_ptr akid(AUTHORITY_KEYID_new());
  if (!akid) {
    return nullptr;
  }
  akid->keyid = make_octet_string(id).release();
  if (akid->keyid == nullptr) {
    return nullptr;
  }
  return x509_ext_ptr(X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid.get()));
}

std::optional<system_time> to_system_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace airlock::proxy::intercept

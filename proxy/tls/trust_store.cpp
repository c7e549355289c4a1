#include "proxy/tls/trust_store.hpp"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <limits>
#include <vector>

#include "proxy/tls/openssl_ptr.hpp"
#include "proxy/tls/workspace_ca.hpp"

namespace airlock::proxy::intercept {

namespace {

// A salted MAC over public certificates under a public password: integrity against
// corruption only, so the iteration count need not be a KDF's.
constexpr int mac_iterations = 2048;

struct bags_deleter {
  void operator()(STACK_OF(PKCS12_SAFEBAG) * s) const noexcept {
    sk_PKCS12_SAFEBAG_pop_free(s, PKCS12_SAFEBAG_free);
  }
};
struct safes_deleter {
  void operator()(STACK_OF(PKCS7) * s) const noexcept { sk_PKCS7_pop_free(s, PKCS7_free); }
};
using pkcs12_ptr = openssl_ptr<PKCS12, PKCS12_free>;

[[noreturn]] void fail(const char* what) {
  ERR_clear_error();
  throw ca_error(std::string("Java trust store: ") + what);
}

std::vector<x509_ptr> read_pem_certs(std::string_view pem) {
  std::vector<x509_ptr> out;
  if (pem.empty() || pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return out;
  }
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    fail("out of memory");
  }
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.emplace_back(cert);
  }
  ERR_clear_error();  // the end of the input, or a block that did not parse: stop there
  return out;
}

void add_trusted(STACK_OF(PKCS12_SAFEBAG) * *bags, X509* cert, const std::string& alias,
                 const ASN1_OBJECT* any_usage) {
  PKCS12_SAFEBAG* bag = PKCS12_add_cert(bags, cert);  // owned by *bags from here
  if (bag == nullptr || PKCS12_add_friendlyname_asc(bag, alias.c_str(), -1) != 1 ||
      PKCS12_add1_attr_by_txt(bag, jdk_trusted_key_usage_oid, V_ASN1_OBJECT,
                              reinterpret_cast<const unsigned char*>(any_usage), -1) != 1) {
    fail("cannot add a certificate");
  }
}

}  // namespace

trust_store make_trust_store(std::span<X509* const> cas, std::string_view system_pem,
                             const char* password) {
  const ASN1_OBJECT* any_usage = OBJ_nid2obj(NID_anyExtendedKeyUsage);  // built in, not owned
  if (any_usage == nullptr) {
    fail("no anyExtendedKeyUsage object");
  }
  trust_store out;
  std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), bags_deleter> bags(sk_PKCS12_SAFEBAG_new_null());
  if (!bags) {
    fail("out of memory");
  }
  STACK_OF(PKCS12_SAFEBAG)* raw_bags = bags.get();
  for (std::size_t i = 0; i < cas.size(); ++i) {
    add_trusted(&raw_bags, cas[i], "airlock-ca-" + std::to_string(i + 1), any_usage);
  }
  const auto system = read_pem_certs(system_pem);
  for (std::size_t i = 0; i < system.size(); ++i) {
    add_trusted(&raw_bags, system[i].get(), "system-" + std::to_string(i + 1), any_usage);
  }
  out.system_certs = system.size();

  std::unique_ptr<STACK_OF(PKCS7), safes_deleter> safes(sk_PKCS7_new_null());
  STACK_OF(PKCS7)* raw_safes = safes.get();
  // -1: the bags go in plain (certificates are public; Java reads them without a cipher).
  if (!safes || PKCS12_add_safe(&raw_safes, raw_bags, -1, 0, nullptr) != 1) {
    fail("cannot pack the certificates");
  }
  const pkcs12_ptr p12(PKCS12_add_safes(raw_safes, 0));
  if (!p12 ||
      PKCS12_set_mac(p12.get(), password, -1, nullptr, 0, mac_iterations, EVP_sha1()) != 1) {
    fail("cannot build the PKCS#12 file");
  }
  const int len = i2d_PKCS12(p12.get(), nullptr);
  if (len <= 0) {
    fail("cannot encode the PKCS#12 file");
  }
  out.der.resize(static_cast<std::size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(out.der.data());
  if (i2d_PKCS12(p12.get(), &p) != len) {
    fail("cannot encode the PKCS#12 file");
  }
  return out;
}

}  // namespace airlock::proxy::intercept

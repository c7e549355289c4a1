// The Java trust store read back with OpenSSL's PKCS#12 parser: every certificate once, as a
// bag carrying an alias and Java's trusted-key-usage attribute (anyExtendedKeyUsage), under
// a MAC the kit's password verifies. keytool and a real JVM read it in kit_clients_test.

#include "proxy/tls/trust_store.hpp"

#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/tls/agent_kit.hpp"
#include "proxy/tls/workspace_ca.hpp"
#include "tests/unit/intercept/pki_helpers.hpp"

namespace airlock::proxy::intercept {
namespace {

using test_support::cert_options;
using test_support::make_cert;
using test_support::make_ec_key;

std::string pem_of(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

x509_ptr root(const std::string& name) {
  cert_options o;
  o.common_name = name;
  auto key = make_ec_key();
  return make_cert(o, key.get());
}

struct bag_view {
  std::string alias;
  std::string subject_cn;
  bool trusted_for_any_usage = false;
};

// The certificate bags of a PKCS#12 file, in order; empty when it does not parse or its MAC
// does not verify under password.
std::vector<bag_view> read_bags(const std::string& der, const char* password) {
  std::vector<bag_view> out;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  openssl_ptr<PKCS12, PKCS12_free> p12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
  if (!p12 || PKCS12_verify_mac(p12.get(), password, -1) != 1) {
    return out;
  }
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12.get());
  const ASN1_OBJECT* jdk_usage = OBJ_txt2obj(jdk_trusted_key_usage_oid, 1);
  for (int i = 0; i < sk_PKCS7_num(safes); ++i) {
    STACK_OF(PKCS12_SAFEBAG)* bags = PKCS12_unpack_p7data(sk_PKCS7_value(safes, i));
    for (int j = 0; j < sk_PKCS12_SAFEBAG_num(bags); ++j) {
      const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, j);
      if (PKCS12_SAFEBAG_get_nid(bag) != NID_certBag) {
        continue;
      }
      bag_view v;
      char* alias = PKCS12_get_friendlyname(const_cast<PKCS12_SAFEBAG*>(bag));
      v.alias = alias != nullptr ? alias : "";
      OPENSSL_free(alias);
      x509_ptr cert(PKCS12_SAFEBAG_get1_cert(bag));
      char cn[256] = {};
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
      v.subject_cn = cn;
      const auto* attrs = PKCS12_SAFEBAG_get0_attrs(bag);
      const int at = X509at_get_attr_by_OBJ(attrs, jdk_usage, -1);
      if (at >= 0) {
        const ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(X509at_get_attr(attrs, at), 0);
        v.trusted_for_any_usage = value != nullptr && value->type == V_ASN1_OBJECT &&
                                  OBJ_obj2nid(value->value.object) == NID_anyExtendedKeyUsage;
      }
      out.push_back(std::move(v));
    }
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  }
  sk_PKCS7_pop_free(safes, PKCS7_free);
  ASN1_OBJECT_free(const_cast<ASN1_OBJECT*>(jdk_usage));
  return out;
}

TEST(trust_store, airlock_cas_then_system_roots_all_trusted) {
  const auto current = root("current");
  const auto previous = root("previous");
  const auto sys_a = root("system a");
  const auto sys_b = root("system b");
  // Between the certificates: prose, and a block of another kind, which are skipped.
  const std::string system = "# Debian bundle\n" + pem_of(sys_a.get()) +
                             "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n" +
                             "some text\n" + pem_of(sys_b.get());
  X509* const cas[] = {current.get(), previous.get()};
  const auto store = make_trust_store(cas, system, trust_store_password);
  EXPECT_EQ(store.system_certs, 2u);

  const auto bags = read_bags(store.der, trust_store_password);
  ASSERT_EQ(bags.size(), 4u);
  const std::vector<std::pair<std::string, std::string>> expected{{"airlock-ca-1", "current"},
                                                                  {"airlock-ca-2", "previous"},
                                                                  {"system-1", "system a"},
                                                                  {"system-2", "system b"}};
  for (std::size_t i = 0; i < bags.size(); ++i) {
    EXPECT_EQ(bags[i].alias, expected[i].first);
    EXPECT_EQ(bags[i].subject_cn, expected[i].second);
    EXPECT_TRUE(bags[i].trusted_for_any_usage) << bags[i].alias;
  }
}

TEST(trust_store, the_mac_holds_only_for_the_kit_password) {
  const auto ca = root("ca");
  X509* const cas[] = {ca.get()};
  const auto store = make_trust_store(cas, "", trust_store_password);
  EXPECT_EQ(read_bags(store.der, trust_store_password).size(), 1u);
  EXPECT_TRUE(read_bags(store.der, "not-the-password").empty());
  // A corrupted file fails its MAC rather than loading other certificates.
  std::string bent = store.der;
  bent[bent.size() / 2] = static_cast<char>(bent[bent.size() / 2] ^ 0x01);
  EXPECT_TRUE(read_bags(bent, trust_store_password).empty());
}

TEST(trust_store, no_system_roots_when_the_bundle_holds_no_certificate) {
  const auto ca = root("ca");
  X509* const cas[] = {ca.get()};
  for (const std::string& system :
       {std::string(), std::string("SYSTEM ROOT ONE\nSYSTEM ROOT TWO\n"),
        std::string(
            "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")}) {
    const auto store = make_trust_store(cas, system, trust_store_password);
    EXPECT_EQ(store.system_certs, 0u) << system;
    EXPECT_EQ(read_bags(store.der, trust_store_password).size(), 1u) << system;
  }
}

}  // namespace
}  // namespace airlock::proxy::intercept

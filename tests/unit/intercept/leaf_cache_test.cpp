#include "proxy/tls/leaf_cache.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/intercept/pki_helpers.hpp"

namespace airlock::proxy::intercept {
namespace {

using namespace std::chrono_literals;
using test_support::client_options;
using test_support::handshake;
using test_support::verify_leaf;

// ALPN wire format: each protocol prefixed by its length.
const std::string offer_h2_and_http11("\x02h2\x08http/1.1", 12);
const std::string offer_h2_only("\x02h2", 3);

X509* leaf_of(const std::shared_ptr<SSL_CTX>& ctx) {
  return SSL_CTX_get0_certificate(ctx.get());
}

STACK_OF(X509) * chain_of(const std::shared_ptr<SSL_CTX>& ctx) {
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx.get(), &chain);
  return chain;
}

long long seconds_from_now(const ASN1_TIME* t) {
  int days = 0;
  int secs = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &secs, nullptr, t), 1);
  return static_cast<long long>(days) * 86400 + secs;
}

// The single subjectAltName entry of cert: {type, value as text}.
std::pair<int, std::string> only_san(X509* cert) {
  general_names_ptr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names || sk_GENERAL_NAME_num(names.get()) != 1) {
    ADD_FAILURE() << "expected exactly one SAN";
    return {-1, ""};
  }
  int type = 0;
  auto* value = static_cast<ASN1_STRING*>(
      GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names.get(), 0), &type));
  return {type, std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                            static_cast<std::size_t>(ASN1_STRING_length(value)))};
}

std::string common_name(X509* cert) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf;
}

class leaf_cache_test : public ::testing::Test {
 protected:
  workspace_ca ca_ = workspace_ca::generate();
  leaf_cache cache_{ca_, 1000};
};

TEST_F(leaf_cache_test, leaf_verifies_for_its_name_only_and_only_under_its_ca) {
  const auto ctx = cache_.server_context("api.example.com");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(verify_leaf(leaf_of(ctx), nullptr, ca_.cert(), "api.example.com", false), X509_V_OK);
  EXPECT_EQ(verify_leaf(leaf_of(ctx), nullptr, ca_.cert(), "evil.com", false),
            X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(verify_leaf(leaf_of(ctx), nullptr, ca_.cert(), "x.api.example.com", false),
            X509_V_ERR_HOSTNAME_MISMATCH);
  const auto other = workspace_ca::generate();
  EXPECT_NE(verify_leaf(leaf_of(ctx), nullptr, other.cert(), "api.example.com", false), X509_V_OK);
  // Also when the server's own chain (leaf + our CA) is offered as untrusted intermediates.
  EXPECT_NE(verify_leaf(leaf_of(ctx), chain_of(ctx), other.cert(), "api.example.com", false),
            X509_V_OK);
}

TEST_F(leaf_cache_test, leaf_has_the_promised_fields) {
  const auto ctx = cache_.server_context("api.example.com");
  ASSERT_TRUE(ctx);
  X509* leaf = leaf_of(ctx);
  EXPECT_EQ(X509_get_version(leaf), X509_VERSION_3);
  EXPECT_EQ(common_name(leaf), "api.example.com");
  EXPECT_EQ(only_san(leaf),
            std::make_pair(static_cast<int>(GEN_DNS), std::string("api.example.com")));
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(ca_.cert())), 0);
  EXPECT_EQ(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA256);

  const std::uint32_t flags = X509_get_extension_flags(leaf);
  EXPECT_NE(flags & EXFLAG_BCONS, 0u);
  EXPECT_EQ(flags & EXFLAG_CA, 0u);
  EXPECT_EQ(X509_get_key_usage(leaf), static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  const int ku = X509_get_ext_by_NID(leaf, NID_key_usage, -1);
  ASSERT_GE(ku, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(leaf, ku)), 1);
  EXPECT_EQ(X509_get_extended_key_usage(leaf), static_cast<std::uint32_t>(XKU_SSL_SERVER));
  ASSERT_NE(X509_get0_subject_key_id(leaf), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(leaf), nullptr);
  EXPECT_EQ(
      ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf), X509_get0_subject_key_id(ca_.cert())),
      0);
  bignum_ptr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), nullptr));
  EXPECT_GT(BN_num_bits(serial.get()), 64);
  EXPECT_NEAR(static_cast<double>(seconds_from_now(X509_get0_notBefore(leaf))), -3600.0, 120.0);
  EXPECT_NEAR(static_cast<double>(seconds_from_now(X509_get0_notAfter(leaf))), 7 * 86400.0, 120.0);

  // Chain sent to clients: the CA after the leaf.
  STACK_OF(X509)* chain = chain_of(ctx);
  ASSERT_EQ(sk_X509_num(chain), 1);
  EXPECT_EQ(X509_cmp(sk_X509_value(chain, 0), ca_.cert()), 0);

  // Server settings the proxy relies on.
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.get()), TLS1_2_VERSION);
  EXPECT_NE(SSL_CTX_get_options(ctx.get()) & SSL_OP_NO_TICKET, 0u);
  EXPECT_EQ(SSL_CTX_get_num_tickets(ctx.get()), 0u);
  EXPECT_EQ(SSL_CTX_get_session_cache_mode(ctx.get()), SSL_SESS_CACHE_OFF);
}

TEST_F(leaf_cache_test, all_leaves_share_the_pregenerated_key) {
  const auto a = cache_.server_context("a.example.com");
  const auto b = cache_.server_context("b.example.com");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf_of(a)), cache_.leaf_key()), 1);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf_of(b)), cache_.leaf_key()), 1);
  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(leaf_of(a)), X509_get0_serialNumber(leaf_of(b))), 0);
}

TEST_F(leaf_cache_test, leaf_never_outlives_the_ca) {
  const auto short_ca = workspace_ca::generate(2h);
  leaf_cache cache(short_ca, 4);
  const auto ctx = cache.server_context("api.example.com");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(
      ASN1_TIME_compare(X509_get0_notAfter(leaf_of(ctx)), X509_get0_notAfter(short_ca.cert())), 0);
}

TEST_F(leaf_cache_test, ip_literals_get_ip_sans) {
  struct ip_case {
    const char* host;
    std::string packed;
    const char* wrong;
  };
  const ip_case cases[] = {
      {"127.0.0.1", std::string("\x7f\x00\x00\x01", 4), "127.0.0.2"},
      {"::1", std::string(15, '\0') + '\x01', "::2"},
      {"2001:DB8::1", std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + '\x01',
       "2001:db8::2"},
  };
  for (const auto& c : cases) {
    const auto ctx = cache_.server_context(c.host);
    ASSERT_TRUE(ctx) << c.host;
    EXPECT_EQ(only_san(leaf_of(ctx)), std::make_pair(static_cast<int>(GEN_IPADD), c.packed))
        << c.host;
    EXPECT_EQ(verify_leaf(leaf_of(ctx), nullptr, ca_.cert(), c.host, true), X509_V_OK) << c.host;
    EXPECT_EQ(verify_leaf(leaf_of(ctx), nullptr, ca_.cert(), c.wrong, true),
              X509_V_ERR_IP_ADDRESS_MISMATCH)
        << c.host;
  }
}

TEST_F(leaf_cache_test, long_names_truncate_the_common_name_only) {
  const std::string host = std::string(60, 'a') + "." + std::string(60, 'b') + ".example.com";
  const auto ctx = cache_.server_context(host);
  ASSERT_TRUE(ctx);
  EXPECT_EQ(common_name(leaf_of(ctx)), host.substr(0, 64));
  EXPECT_EQ(only_san(leaf_of(ctx)).second, host);
  EXPECT_EQ(verify_leaf(leaf_of(ctx), nullptr, ca_.cert(), host, false), X509_V_OK);
}

TEST_F(leaf_cache_test, refuses_names_that_cannot_be_certificate_names) {
  const std::string too_long = std::string(250, 'a') + ".com";  // 254
  const std::string max_len = std::string(249, 'a') + ".com";   // 253
  for (const std::string_view bad :
       {std::string_view(""), std::string_view(too_long), std::string_view("a b.com"),
        std::string_view("evil.com/x"), std::string_view("host:443"), std::string_view("[::1]"),
        std::string_view("exa\0mple.com", 12), std::string_view("caf\xc3\xa9.com"),
        std::string_view("a,DNS:evil.com"), std::string_view("::1%eth0")}) {
    EXPECT_EQ(cache_.server_context(bad), nullptr) << bad;
  }
  EXPECT_EQ(cache_.misses(), 0u);
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_NE(cache_.server_context(max_len), nullptr);
  EXPECT_NE(cache_.server_context("under_score-ok.example.com"), nullptr);
}

TEST_F(leaf_cache_test, hit_returns_the_same_context_case_insensitively) {
  const auto first = cache_.server_context("API.Example.COM");
  const auto second = cache_.server_context("api.example.com");
  ASSERT_TRUE(first);
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(only_san(leaf_of(first)).second, "api.example.com");
  EXPECT_EQ(cache_.hits(), 1u);
  EXPECT_EQ(cache_.misses(), 1u);
  EXPECT_EQ(cache_.size(), 1u);
  EXPECT_NE(cache_.server_context("api.example.org").get(), first.get());
}

TEST_F(leaf_cache_test, evicts_the_least_recently_used_and_evicted_contexts_keep_working) {
  leaf_cache cache(ca_, 2);
  const auto a = cache.server_context("a.test");
  const auto b = cache.server_context("b.test");
  EXPECT_EQ(cache.server_context("a.test"), a);   // a is now the most recent
  const auto c = cache.server_context("c.test");  // evicts b
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.evictions(), 1u);
  EXPECT_EQ(cache.server_context("a.test"), a);
  EXPECT_EQ(cache.server_context("c.test"), c);
  const auto b2 = cache.server_context("b.test");  // re-minted; evicts a
  EXPECT_NE(b2, b);
  EXPECT_EQ(cache.evictions(), 2u);
  EXPECT_EQ(cache.misses(), 4u);
  EXPECT_EQ(cache.hits(), 3u);
  // A connection that took b before eviction still completes its handshake.
  const auto r = handshake(b.get(), ca_.cert(), client_options{"b.test", false, "", 0});
  EXPECT_TRUE(r.ok) << r.error;
}

TEST_F(leaf_cache_test, handshake_selects_http11_when_client_offers_h2) {
  const auto ctx = cache_.server_context("api.example.com");
  ASSERT_TRUE(ctx);
  const auto r = handshake(ctx.get(), ca_.cert(),
                           client_options{"api.example.com", false, offer_h2_and_http11, 0});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.alpn, "http/1.1");
  EXPECT_EQ(r.version, "TLSv1.3");
  EXPECT_EQ(r.echoed, "GET / HTTP/1.1\r\n\r\n");
}

TEST_F(leaf_cache_test, handshake_over_tls12_uses_ecdhe_and_http11) {
  const auto ctx = cache_.server_context("api.example.com");
  const auto r =
      handshake(ctx.get(), ca_.cert(),
                client_options{"api.example.com", false, offer_h2_and_http11, TLS1_2_VERSION});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.version, "TLSv1.2");
  EXPECT_EQ(r.cipher.rfind("ECDHE-ECDSA-", 0), 0u) << r.cipher;
  EXPECT_EQ(r.alpn, "http/1.1");
}

TEST_F(leaf_cache_test, handshake_with_h2_only_offer_proceeds_without_alpn) {
  const auto ctx = cache_.server_context("api.example.com");
  const auto r =
      handshake(ctx.get(), ca_.cert(), client_options{"api.example.com", false, offer_h2_only, 0});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.alpn, "");
}

TEST_F(leaf_cache_test, handshake_fails_for_another_name_or_another_ca) {
  const auto ctx = cache_.server_context("api.example.com");
  EXPECT_FALSE(handshake(ctx.get(), ca_.cert(), client_options{"evil.com", false, "", 0}).ok);
  const auto other = workspace_ca::generate();
  EXPECT_FALSE(
      handshake(ctx.get(), other.cert(), client_options{"api.example.com", false, "", 0}).ok);
}

TEST_F(leaf_cache_test, handshake_for_an_ip_literal) {
  const auto ctx = cache_.server_context("127.0.0.1");
  ASSERT_TRUE(ctx);
  const auto r =
      handshake(ctx.get(), ca_.cert(), client_options{"127.0.0.1", true, offer_h2_and_http11, 0});
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(handshake(ctx.get(), ca_.cert(), client_options{"127.0.0.2", true, "", 0}).ok);
}

TEST(select_http11_alpn, picks_http11_or_declines) {
  const auto select = [](const std::string& offer) {
    const unsigned char* out = nullptr;
    unsigned char out_len = 0;
    const int rc = select_http11_alpn(nullptr, &out, &out_len,
                                      reinterpret_cast<const unsigned char*>(offer.data()),
                                      static_cast<unsigned>(offer.size()), nullptr);
    return rc == SSL_TLSEXT_ERR_OK ? std::string(reinterpret_cast<const char*>(out), out_len)
                                   : std::string("<noack:") + std::to_string(rc) + ">";
  };
  const std::string noack = "<noack:" + std::to_string(SSL_TLSEXT_ERR_NOACK) + ">";
  EXPECT_EQ(select(offer_h2_and_http11), "http/1.1");
  EXPECT_EQ(select(std::string("\x08http/1.1\x02h2", 12)), "http/1.1");
  EXPECT_EQ(select(offer_h2_only), noack);
  EXPECT_EQ(select(std::string("\x09http/1.10", 10)), noack);
  EXPECT_EQ(select(std::string("\x08http/1.", 8)), noack);  // length runs past the end
  EXPECT_EQ(select(""), noack);
}

TEST(leaf_cache_lifetime, cache_outlives_the_ca_object) {
  x509_ptr ca_cert;
  std::unique_ptr<leaf_cache> cache;
  {
    const auto ca = workspace_ca::generate();
    ASSERT_EQ(X509_up_ref(ca.cert()), 1);
    ca_cert.reset(ca.cert());
    cache = std::make_unique<leaf_cache>(ca, 8);
  }
  const auto ctx = cache->server_context("api.example.com");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(verify_leaf(leaf_of(ctx), nullptr, ca_cert.get(), "api.example.com", false), X509_V_OK);
  EXPECT_THROW(leaf_cache(workspace_ca::generate(), 0), std::invalid_argument);
}

TEST(leaf_cache_loaded_ca, rsa_ca_from_files_signs_verifiable_leaves) {
  test_support::temp_dir dir;
  auto key = test_support::make_rsa_key(2048);
  const auto cert = test_support::make_cert(test_support::cert_options{}, key.get());
  ASSERT_TRUE(cert);
  test_support::write_cert_pem(dir.file("ca.pem"), cert.get());
  test_support::write_key_pem(dir.file("ca.key"), key.get());
  const auto ca = workspace_ca::load(dir.file("ca.pem"), dir.file("ca.key"));
  leaf_cache cache(ca, 8);
  const auto ctx = cache.server_context("git.example.com");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(X509_get_signature_nid(leaf_of(ctx)), NID_sha256WithRSAEncryption);
  EXPECT_EQ(verify_leaf(leaf_of(ctx), nullptr, cert.get(), "git.example.com", false), X509_V_OK);
  const auto r = handshake(ctx.get(), cert.get(),
                           client_options{"git.example.com", false, offer_h2_and_http11, 0});
  EXPECT_TRUE(r.ok) << r.error;
}

}  // namespace
}  // namespace airlock::proxy::intercept

#include "proxy/tls/name_constraints.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/tls/leaf_cache.hpp"
#include "proxy/tls/workspace_ca.hpp"
#include "tests/unit/intercept/pki_helpers.hpp"

namespace airlock::proxy::intercept {
namespace {

using test_support::cert_options;
using test_support::make_cert;
using test_support::make_ec_key;
using test_support::verify_leaf;

std::vector<unsigned char> v4(unsigned char a, unsigned char b, unsigned char c, unsigned char d) {
  return {a, b, c, d};
}

std::vector<unsigned char> v6_loopback() {
  std::vector<unsigned char> out(16, 0);
  out[15] = 1;
  return out;
}

// OpenSSL reports an address outside every permitted subtree of its type as a permitted
// violation before it looks at the excluded ones; either way the leaf is refused.
bool refused_by_constraints(int rc) {
  return rc == X509_V_ERR_PERMITTED_VIOLATION || rc == X509_V_ERR_EXCLUDED_VIOLATION;
}

ca_scope scope_of(std::vector<std::string> hosts) {
  return scope_for_hosts(hosts);
}

// A certificate for `san` ("DNS:x" or "IP:x") signed with ca's key directly, as someone
// holding a leaked key would: not through the minter, which only signs what it is asked.
x509_ptr forge(const workspace_ca& ca, const std::string& san, const std::string& cn = "forged") {
  static const pkey_ptr key = make_ec_key();
  cert_options opts;
  opts.common_name = cn;
  opts.ca = false;
  opts.key_usage = "critical,digitalSignature";
  opts.subject_alt_name = san;
  return make_cert(opts, key.get(), ca.cert(), ca.key());
}

TEST(ca_scope, rule_hosts_become_names_suffixes_and_addresses) {
  const ca_scope s = scope_of({"api.example.com", "*.githubusercontent.com", "127.0.0.1", "::1",
                               "api.example.com", "github.com"});
  EXPECT_EQ(s.dns,
            (std::vector<std::string>{".githubusercontent.com", "api.example.com", "github.com"}));
  EXPECT_EQ(s.ips, (std::vector<std::vector<unsigned char>>{v4(127, 0, 0, 1), v6_loopback()}));
}

TEST(ca_scope, lists_exclude_every_address_of_a_family_no_rule_names) {
  const constraint_lists none = constraints_for(scope_of({"api.example.com"}));
  EXPECT_EQ(none.permitted_dns, std::vector<std::string>{"api.example.com"});
  EXPECT_TRUE(none.permitted_ip.empty());
  ASSERT_EQ(none.excluded_ip.size(), 2u);
  EXPECT_EQ(none.excluded_ip[0], (ip_subtree{v4(0, 0, 0, 0), v4(0, 0, 0, 0)}));
  EXPECT_EQ(none.excluded_ip[1].address.size(), 16u);
  EXPECT_EQ(none.excluded_ip[1].mask, std::vector<unsigned char>(16, 0));

  const constraint_lists one = constraints_for(scope_of({"10.1.2.3"}));
  EXPECT_EQ(one.permitted_dns, std::vector<std::string>{"invalid"});  // no DNS name at all
  EXPECT_EQ(one.permitted_ip,
            std::vector<ip_subtree>{(ip_subtree{v4(10, 1, 2, 3), v4(255, 255, 255, 255)})});
  ASSERT_EQ(one.excluded_ip.size(), 1u);  // only IPv6 is shut out wholesale
  EXPECT_EQ(one.excluded_ip[0].address.size(), 16u);
}

class constrained_ca : public ::testing::Test {
 protected:
  const ca_scope scope_ =
      scope_of({"api.example.com", "*.githubusercontent.com", "github.com", "127.0.0.1"});
  const workspace_ca ca_ = workspace_ca::generate(std::chrono::hours(24), &scope_);
};

TEST_F(constrained_ca, carries_critical_name_constraints) {
  EXPECT_TRUE(ca_.has_name_constraints());
  int critical = 0;
  void* nc = X509_get_ext_d2i(ca_.cert(), NID_name_constraints, &critical, nullptr);
  ASSERT_NE(nc, nullptr);
  NAME_CONSTRAINTS_free(static_cast<NAME_CONSTRAINTS*>(nc));
  EXPECT_EQ(critical, 1);
  EXPECT_FALSE(workspace_ca::generate().has_name_constraints());
}

TEST_F(constrained_ca, leaves_for_intercepted_hosts_verify) {
  leaf_cache cache(ca_, 8);
  for (const char* host : {"api.example.com", "raw.githubusercontent.com",
                           "a.b.githubusercontent.com", "github.com"}) {
    const auto ctx = cache.server_context(host);
    ASSERT_TRUE(ctx) << host;
    EXPECT_EQ(verify_leaf(SSL_CTX_get0_certificate(ctx.get()), nullptr, ca_.cert(), host, false),
              X509_V_OK)
        << host;
  }
  // An address leaf has an empty subject (a CN of "127.0.0.1" would be held to the DNS
  // subtrees) and so a critical SAN.
  const auto ip = cache.server_context("127.0.0.1");
  ASSERT_TRUE(ip);
  X509* ip_leaf = SSL_CTX_get0_certificate(ip.get());
  EXPECT_EQ(verify_leaf(ip_leaf, nullptr, ca_.cert(), "127.0.0.1", true), X509_V_OK);
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(ip_leaf)), 0);
  const int san = X509_get_ext_by_NID(ip_leaf, NID_subject_alt_name, -1);
  ASSERT_GE(san, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(ip_leaf, san)), 1);
}

TEST_F(constrained_ca, a_leaked_key_cannot_sign_for_other_names) {
  // The attacker's leaf for a site the agent visits but airlock does not intercept.
  for (const char* host : {"pypi.org", "example.com", "evil-api.example.com",
                           "githubusercontent.com", "githubusercontent.com.evil.test"}) {
    const x509_ptr leaf = forge(ca_, std::string("DNS:") + host);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(verify_leaf(leaf.get(), nullptr, ca_.cert(), host, false),
              X509_V_ERR_PERMITTED_VIOLATION)
        << host;
  }
  // The same forgery inside the scope passes: the constraints, not the forging, refuse.
  const x509_ptr inside = forge(ca_, "DNS:api.example.com");
  EXPECT_EQ(verify_leaf(inside.get(), nullptr, ca_.cert(), "api.example.com", false), X509_V_OK);
}

TEST_F(constrained_ca, a_leaked_key_cannot_sign_for_other_addresses) {
  const x509_ptr v4_other = forge(ca_, "IP:10.0.0.1");
  EXPECT_EQ(verify_leaf(v4_other.get(), nullptr, ca_.cert(), "10.0.0.1", true),
            X509_V_ERR_PERMITTED_VIOLATION);
  const x509_ptr v6 = forge(ca_, "IP:::1");
  EXPECT_TRUE(refused_by_constraints(verify_leaf(v6.get(), nullptr, ca_.cert(), "::1", true)));
}

TEST(constrained_ca_without_addresses, refuses_every_ip_leaf) {
  const ca_scope scope = scope_of({"api.example.com"});
  const auto ca = workspace_ca::generate(std::chrono::hours(1), &scope);
  for (const char* ip : {"127.0.0.1", "0.0.0.0", "169.254.169.254", "::1", "2001:db8::1"}) {
    const x509_ptr leaf = forge(ca, std::string("IP:") + ip);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(verify_leaf(leaf.get(), nullptr, ca.cert(), ip, true), X509_V_ERR_EXCLUDED_VIOLATION)
        << ip;
  }
}

TEST(constrained_ca_without_addresses, a_dns_like_common_name_is_held_to_the_dns_subtrees) {
  // OpenSSL checks a leaf's CN against the DNS subtrees when it has no DNS SAN: an empty
  // SAN list must not be a way around the constraints.
  const ca_scope scope = scope_of({"api.example.com"});
  const auto ca = workspace_ca::generate(std::chrono::hours(1), &scope);
  cert_options opts;
  opts.common_name = "pypi.org";
  opts.ca = false;
  opts.key_usage = "critical,digitalSignature";
  const pkey_ptr key = make_ec_key();
  const x509_ptr leaf = make_cert(opts, key.get(), ca.cert(), ca.key());
  ASSERT_TRUE(leaf);
  EXPECT_EQ(verify_leaf(leaf.get(), nullptr, ca.cert(), "pypi.org", false),
            X509_V_ERR_PERMITTED_VIOLATION);
}

}  // namespace
}  // namespace airlock::proxy::intercept

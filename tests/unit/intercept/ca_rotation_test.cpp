#include "proxy/tls/ca_rotation.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/intercept/pki_helpers.hpp"

namespace airlock::proxy::intercept {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;
using test_support::read_text;
using test_support::temp_dir;
using test_support::verify_leaf;

const system_time t0 = system_clock::from_time_t(1'700'000'000);

std::size_t pem_blocks(const std::string& text) {
  std::size_t n = 0;
  for (auto at = text.find("-----BEGIN CERTIFICATE-----"); at != std::string::npos;
       at = text.find("-----BEGIN CERTIFICATE-----", at + 1)) {
    ++n;
  }
  return n;
}

// Built by appending: GCC 12 warns falsely (-Wrestrict) on "h" + std::to_string(i) + ".x".
std::string host_n(int i) {
  std::string host = "h";
  host += std::to_string(i);
  host += ".example.com";
  return host;
}

X509* leaf_of(const std::shared_ptr<SSL_CTX>& ctx) {
  return SSL_CTX_get0_certificate(ctx.get());
}

STACK_OF(X509) * chain_of(const std::shared_ptr<SSL_CTX>& ctx) {
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx.get(), &chain);
  return chain;
}

TEST(renewal_schedule, is_due_at_two_thirds_of_the_lifetime) {
  EXPECT_EQ(renewal_due_at(t0, t0 + 7 * 24h), t0 + 112h);
  EXPECT_EQ(renewal_due_at(t0, t0 + 6s), t0 + 4s);
}

TEST(renewal_schedule, plans_renewal_then_retirement) {
  rotation_times t{t0, t0 + 9h, std::nullopt, true};
  EXPECT_EQ(plan_rotation(t, t0).action, rotation_action::none);
  EXPECT_EQ(plan_rotation(t, t0).next_check, t0 + 6h);
  EXPECT_EQ(plan_rotation(t, t0 + 6h - 1s).action, rotation_action::none);
  EXPECT_EQ(plan_rotation(t, t0 + 6h).action, rotation_action::renew);
  EXPECT_EQ(plan_rotation(t, t0 + 30h).action, rotation_action::renew);  // long expired

  // After a renewal at t0 + 6h: the predecessor lives 3 h more, the successor 9 h.
  t = {t0 + 6h, t0 + 15h, t0 + 9h, true};
  EXPECT_EQ(plan_rotation(t, t0 + 7h).action, rotation_action::none);
  EXPECT_EQ(plan_rotation(t, t0 + 7h).next_check, t0 + 9h);  // the predecessor's expiry
  EXPECT_EQ(plan_rotation(t, t0 + 9h).action, rotation_action::retire_previous);
  EXPECT_EQ(plan_rotation(t, t0 + 12h).action, rotation_action::renew);  // renewal wins

  // An operator's CA is never renewed, whatever the time.
  EXPECT_EQ(plan_rotation({t0, t0 + 1h, std::nullopt, false}, t0 + 2h).action,
            rotation_action::none);
}

TEST(renewal_schedule, retries_within_bounds) {
  EXPECT_EQ(retry_delay(6s), 1s);
  EXPECT_EQ(retry_delay(600s), 60s);
  EXPECT_EQ(retry_delay(7 * 24h), 5min);
}

TEST(export_cas, ca_and_bundle_carry_old_and_new_during_the_overlap) {
  temp_dir tmp;
  const std::string system = tmp.file("system.crt");
  {
    std::FILE* f = std::fopen(system.c_str(), "w");
    std::fputs("SYSTEM ROOT\n", f);
    std::fclose(f);
  }
  const auto old_ca = workspace_ca::generate(1h);
  const auto new_ca = workspace_ca::generate(1h);
  X509* const both[] = {new_ca.cert(), old_ca.cert()};
  export_cas(tmp.file("out"), both, system);
  const std::string ca_pem = read_text(tmp.file("out/ca.pem"));
  EXPECT_EQ(ca_pem, new_ca.cert_pem() + old_ca.cert_pem());
  EXPECT_EQ(read_text(tmp.file("out/ca-bundle.pem")), "SYSTEM ROOT\n" + ca_pem);
  EXPECT_EQ(ca_pem.find("PRIVATE KEY"), std::string::npos);
}

class ca_rotation_test : public ::testing::Test {
 protected:
  ca_rotation::settings settings(std::chrono::seconds lifetime) {
    ca_rotation::settings s;
    s.lifetime = lifetime;
    s.scope = scope_;
    s.export_dir = tmp_.file("export");
    s.system_bundle = "";
    return s;
  }
  std::string exported() const { return read_text(tmp_.file("export/ca.pem")); }

  temp_dir tmp_;
  const ca_scope scope_ = [] {
    const std::vector<std::string> hosts{"api.example.com"};
    return scope_for_hosts(hosts);
  }();
};

TEST_F(ca_rotation_test, renewal_swaps_the_signer_and_old_trust_still_verifies) {
  // The initial CA lives 90 s (renewal due at 60 s), its successors an hour.
  auto initial = workspace_ca::generate(90s, &scope_);
  const x509_ptr old_cert(X509_dup(initial.cert()));
  const auto issued = initial.issued_at();
  const auto old_expiry = initial.not_after();
  leaf_cache leaves(initial, 8);
  ca_rotation rotation(std::move(initial), leaves, settings(1h));
  rotation.export_files();
  EXPECT_EQ(pem_blocks(exported()), 1u);
  const auto before = leaves.server_context("api.example.com");
  ASSERT_TRUE(before);

  // Not yet: due at 2/3 of 90 s (notAfter is whole seconds, issued_at is not).
  EXPECT_EQ(rotation.renew_if_due(issued + 10s), renewal_due_at(issued, old_expiry));
  EXPECT_EQ(rotation.renewals(), 0u);
  rotation.renew_if_due(issued + 61s);
  ASSERT_EQ(rotation.renewals(), 1u);
  EXPECT_GT(rotation.expiry_unix_seconds(), system_clock::to_time_t(old_expiry) + 3000);
  EXPECT_EQ(pem_blocks(exported()), 2u);  // new and old during the overlap

  // The cached leaf from the old CA is gone: the same host now gets the new CA's leaf.
  const auto after = leaves.server_context("api.example.com");
  ASSERT_TRUE(after);
  EXPECT_NE(after, before);
  X509* new_ca = leaves.signing_ca();
  EXPECT_NE(X509_cmp(new_ca, old_cert.get()), 0);
  EXPECT_EQ(X509_check_issued(new_ca, leaf_of(after)), X509_V_OK);
  // A client that reloaded the bundle trusts the new CA; one that loaded it before the
  // renewal trusts only the old one and gets there through the cross-signed chain.
  EXPECT_EQ(verify_leaf(leaf_of(after), chain_of(after), new_ca, "api.example.com", false),
            X509_V_OK);
  EXPECT_EQ(verify_leaf(leaf_of(after), chain_of(after), old_cert.get(), "api.example.com", false),
            X509_V_OK);
  // Connections that still hold the old context keep a working leaf.
  EXPECT_EQ(verify_leaf(leaf_of(before), nullptr, old_cert.get(), "api.example.com", false),
            X509_V_OK);
  // Leaves never outlive their CA.
  EXPECT_LE(ASN1_TIME_compare(X509_get0_notAfter(leaf_of(after)), X509_get0_notAfter(new_ca)), 0);

  // When the predecessor expires it leaves the files and the chain.
  const auto next_check = rotation.renew_if_due(old_expiry + 1s);
  EXPECT_EQ(rotation.renewals(), 1u);
  EXPECT_EQ(pem_blocks(exported()), 1u);
  const auto retired = leaves.server_context("api.example.com");
  ASSERT_TRUE(retired);
  ASSERT_EQ(sk_X509_num(chain_of(retired)), 1);
  EXPECT_EQ(X509_cmp(sk_X509_value(chain_of(retired), 0), leaves.signing_ca()), 0);
  EXPECT_GT(next_check, old_expiry + 30min);  // the next renewal, 2/3 into the new hour
}

TEST_F(ca_rotation_test, an_operator_ca_is_never_renewed) {
  auto ca = workspace_ca::generate(90s);
  const auto expiry = system_clock::to_time_t(ca.not_after());
  leaf_cache leaves(ca, 4);
  auto s = settings(1h);
  s.renews = false;
  ca_rotation rotation(std::move(ca), leaves, s);
  rotation.renew_if_due(system_clock::now() + 10min);
  EXPECT_EQ(rotation.renewals(), 0u);
  EXPECT_EQ(rotation.expiry_unix_seconds(), expiry);
}

TEST_F(ca_rotation_test, a_failed_export_leaves_everything_as_it_was) {
  auto ca = workspace_ca::generate(90s, &scope_);
  leaf_cache leaves(ca, 4);
  auto s = settings(1h);
  s.export_dir = "/proc/self/no-such-dir/export";  // cannot be created
  const auto issued = ca.issued_at();
  ca_rotation rotation(std::move(ca), leaves, s);
  X509* signer = leaves.signing_ca();
  const auto retry_at = rotation.renew_if_due(issued + 61s);
  EXPECT_EQ(rotation.renewals(), 0u);
  EXPECT_EQ(leaves.signing_ca(), signer);
  EXPECT_EQ(retry_at, issued + 61s + retry_delay(1h));
}

TEST_F(ca_rotation_test, the_renewal_thread_renews_while_workers_mint) {
  // A first CA of 3 s is due at 2 s; its successor lives an hour.
  auto initial = workspace_ca::generate(3s, &scope_);
  leaf_cache leaves(initial, 8);
  ca_rotation rotation(std::move(initial), leaves, settings(1h));
  rotation.export_files();
  const auto first_expiry = rotation.expiry_unix_seconds();
  rotation.start();
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&] {
      while (rotation.renewals() == 0 && std::chrono::steady_clock::now() < deadline) {
        if (!leaves.server_context("api.example.com")) {
          failures.fetch_add(1);
        }
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  for (auto& t : workers) {
    t.join();
  }
  rotation.stop();
  EXPECT_EQ(rotation.renewals(), 1u);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(rotation.expiry_unix_seconds(), first_expiry + 3000);
  EXPECT_EQ(pem_blocks(exported()), 2u);
}

TEST(leaf_cache_replace, workers_minting_during_renewals_only_get_current_leaves) {
  const auto first = workspace_ca::generate(1h);
  leaf_cache cache(first, 16);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&, w] {
      int i = 0;
      while (!done.load()) {
        const std::string host = host_n((i++ + w) % 5);
        if (!cache.server_context(host)) {
          failures.fetch_add(1);
        }
      }
    });
  }
  std::vector<workspace_ca> cas;
  for (int r = 0; r < 5; ++r) {
    cas.push_back(workspace_ca::generate(1h));
    cache.replace_ca(cas.back());
    std::this_thread::sleep_for(5ms);
  }
  done = true;
  for (auto& t : workers) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  for (int h = 0; h < 5; ++h) {
    const auto ctx = cache.server_context(host_n(h));
    ASSERT_TRUE(ctx);
    EXPECT_EQ(X509_check_issued(cas.back().cert(), leaf_of(ctx)), X509_V_OK) << h;
  }
}

}  // namespace
}  // namespace airlock::proxy::intercept

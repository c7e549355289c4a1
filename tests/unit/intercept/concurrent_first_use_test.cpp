// Certificates that every worker shares (the upstream trust anchors, a minted leaf) used for the
// first time by two threads at once. OpenSSL fills a certificate's parsed-extension cache on
// first use; airlock fills it before sharing, so two first uses never race. In a release build
// these check that concurrent first verifications and handshakes succeed; under `make tsan`
// they also look for a race on those caches. (One `make tsan` run reported such a race once,
// a key identifier written by one worker and compared by another; it has not recurred in
// 40 runs since, with or without the warm-up, so these tests are a guard, not a reproducer.)

#include <atomic>
#include <barrier>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "proxy/tls/leaf_cache.hpp"
#include "proxy/tls/tls_state.hpp"
#include "tests/unit/intercept/pki_helpers.hpp"

namespace airlock::proxy::intercept {
namespace {

using test_support::cert_options;
using test_support::client_options;
using test_support::handshake;
using test_support::make_cert;
using test_support::make_ec_key;

// Each round is a fresh first use, the second thread starting a little later each time: the
// report needs it to arrive just after the first one has filled the cache (had it arrived
// during, it would wait on OpenSSL's lock, which ThreadSanitizer does see).
constexpr int rounds = 24;
constexpr auto stagger = std::chrono::microseconds(40);

// Runs job(0) and job(1) on two threads released together, job(1) after `delay`.
template <typename Job>
void run_pair(Job job, std::chrono::microseconds delay) {
  std::barrier start(2);
  std::thread other([&] {
    start.arrive_and_wait();
    std::this_thread::sleep_for(delay);
    job(1);
  });
  start.arrive_and_wait();
  job(0);
  other.join();
}

int verify_with(SSL_CTX* ctx, X509* leaf, const char* host) {
  x509_store_ctx_ptr verify(X509_STORE_CTX_new());
  if (!verify ||
      X509_STORE_CTX_init(verify.get(), SSL_CTX_get_cert_store(ctx), leaf, nullptr) != 1) {
    return X509_V_ERR_UNSPECIFIED;
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(verify.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set1_host(param, host, 0);
  const int rc = X509_verify_cert(verify.get());
  return rc == 1 ? X509_V_OK : X509_STORE_CTX_get_error(verify.get());
}

// One worker's first use of the trust anchors, then another worker's verification, ordered
// by a relaxed flag: the order is real, but the only synchronisation ThreadSanitizer can see
// between the two is what OpenSSL's locks provide. Had make_upstream_context left the
// anchors' caches empty, the first thread would fill them and the second's comparison of
// the anchor's subjectKeyIdentifier could be reported.
TEST(concurrent_first_use, a_second_worker_reads_what_the_first_used) {
  test_support::temp_dir dir;
  const auto ca_key = make_ec_key();
  const auto ca = make_cert({}, ca_key.get());
  cert_options leaf_opts;
  leaf_opts.common_name = "api.test";
  leaf_opts.ca = false;
  leaf_opts.key_usage = "critical,digitalSignature";
  leaf_opts.subject_alt_name = "DNS:api.test";
  const auto leaf_key = make_ec_key();
  const auto leaf = make_cert(leaf_opts, leaf_key.get(), ca.get(), ca_key.get());
  ASSERT_TRUE(ca && leaf);
  test_support::write_cert_pem(dir.file("upstream-ca.pem"), ca.get());
  config::tls_config cfg;
  cfg.upstream_ca_file = dir.file("upstream-ca.pem");
  ssl::context upstream = make_upstream_context(cfg);

  std::atomic<bool> first_done{false};
  std::thread first([&] {
    STACK_OF(X509_OBJECT)* objects =
        X509_STORE_get0_objects(SSL_CTX_get_cert_store(upstream.native_handle()));
    for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
      if (X509* cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i)); cert != nullptr) {
        X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 1);
      }
    }
    first_done.store(true, std::memory_order_relaxed);
  });
  int result = -1;
  std::thread second([&] {
    while (!first_done.load(std::memory_order_relaxed)) {
      std::this_thread::yield();
    }
    result = verify_with(upstream.native_handle(), leaf.get(), "api.test");
  });
  first.join();
  second.join();
  EXPECT_EQ(result, X509_V_OK);
}

TEST(concurrent_first_use, two_workers_handshake_with_a_freshly_minted_leaf) {
  const workspace_ca ca = workspace_ca::generate();
  leaf_cache cache(ca, 64);
  for (int round = 0; round < rounds; ++round) {
    std::string host = std::to_string(round);  // (GCC 12 -Wrestrict misfires on "h" + ...)
    host.append(".h.test");
    const auto ctx = cache.server_context(host);
    ASSERT_TRUE(ctx);
    test_support::handshake_result result[2];
    client_options client;
    client.host = host;
    run_pair([&](int i) { result[i] = handshake(ctx.get(), ca.cert(), client); }, round * stagger);
    EXPECT_TRUE(result[0].ok) << host << ": " << result[0].error;
    EXPECT_TRUE(result[1].ok) << host << ": " << result[1].error;
  }
}

}  // namespace
}  // namespace airlock::proxy::intercept

#include "secrets/secure_memory.hpp"

#include <linux/capability.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include "secrets/secret_value.hpp"
#include "secure_heap_fixture.hpp"

namespace airlock::secrets {
namespace {

// Death-test children report a failed expectation on stderr and exit with this code.
[[noreturn]] void fail_child(int code, const std::string& why) {
  std::fprintf(stderr, "child check %d failed: %s\n", code, why.c_str());
  std::_Exit(code);
}

bool has_effective_capability(int capability) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
      return ((mask >> capability) & 1U) != 0;
    }
  }
  return false;
}

class secure_memory_test : public test::with_secure_heap {};

TEST_F(secure_memory_test, later_calls_return_the_first_result_and_ignore_the_size) {
  const secure_heap_status first = init_secure_heap();
  const secure_heap_status again = init_secure_heap(2 * default_secure_heap_bytes);

  EXPECT_TRUE(secure_heap_initialized());
  EXPECT_EQ(again.protection, first.protection);
  EXPECT_EQ(first.bytes, default_secure_heap_bytes);
  EXPECT_EQ(again.bytes, default_secure_heap_bytes);
  EXPECT_EQ(again.detail, first.detail);
}

TEST_F(secure_memory_test, status_names_its_state_for_the_log) {
  const secure_heap_status status = init_secure_heap();

  if (status.locked()) {
    EXPECT_NE(status.detail.find("mlocked"), std::string::npos) << status.detail;
  } else {
    EXPECT_NE(status.detail.find("NOT fully protected"), std::string::npos) << status.detail;
  }
  EXPECT_EQ(to_string(secure_heap_protection::locked), "locked");
  EXPECT_EQ(to_string(secure_heap_protection::degraded), "degraded");
  EXPECT_EQ(to_string(secure_heap_protection::unavailable), "unavailable");
}

TEST_F(secure_memory_test, used_counts_whole_blocks_and_returns_after_free) {
  const std::size_t before = secure_heap_used();

  void* block = OPENSSL_secure_malloc(100);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(secure_heap_used(), before + 128);  // buddy allocator: next power of two
  OPENSSL_secure_free(block);

  EXPECT_EQ(secure_heap_used(), before);
}

// Runs in a fresh death-test child: invalid sizes create no arena, a valid one does.
[[noreturn]] void check_size_validation() {
  // Without an arena OpenSSL quietly hands out ordinary heap memory.
  const secret_value unprotected("early", "value");
  if (unprotected.in_secure_heap() || secure_heap_initialized()) {
    fail_child(1, "arena exists before init_secure_heap");
  }
  for (const std::size_t bad : {std::size_t{1000}, std::size_t{2048}, std::size_t{0}}) {
    const secure_heap_status status = init_secure_heap(bad);
    if (status.protection != secure_heap_protection::unavailable ||
        status.detail.find("power of two") == std::string::npos || status.bytes != 0) {
      fail_child(2, status.detail);
    }
  }
  if (secure_heap_initialized()) {
    fail_child(3, "an invalid size created an arena");
  }
  const secure_heap_status good = init_secure_heap(8192);
  if (good.protection == secure_heap_protection::unavailable || good.bytes != 8192) {
    fail_child(4, good.detail);
  }
  const secret_value value("late", "value");
  if (!value.in_secure_heap()) {
    fail_child(5, "value allocated outside the arena");
  }
  std::_Exit(0);
}

// Runs in a fresh death-test child: with mlock bound to fail, the arena must come back degraded
// with the limit named. Prints the detail so the parent can match it.
[[noreturn]] void check_memlock_failure_report() {
  // Root keeps CAP_IPC_LOCK, which bypasses the limit; becoming nobody drops it.
  if (geteuid() == 0 && setuid(65534) != 0) {
    fail_child(1, std::strerror(errno));
  }
  const rlimit none{0, 0};
  if (setrlimit(RLIMIT_MEMLOCK, &none) != 0) {
    fail_child(2, std::strerror(errno));
  }
  const secure_heap_status status = init_secure_heap(65536);
  if (status.protection != secure_heap_protection::degraded || status.bytes != 65536) {
    fail_child(3, status.detail);
  }
  const secret_value value("anthropic", "sk-ant");
  if (!value.in_secure_heap()) {
    fail_child(4, "value allocated outside the degraded arena");
  }
  std::fprintf(stderr, "%s\n", status.detail.c_str());
  std::_Exit(0);
}

// The arena is process-wide and cannot be re-created, so tests that need a process without one
// run in a re-executed child ("threadsafe" death-test style starts a fresh process image).
TEST(secure_memory_fresh_process, rejects_invalid_sizes_then_accepts_a_valid_one) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(check_size_validation(), ::testing::ExitedWithCode(0), "");
}

// The container case: no CAP_IPC_LOCK and a memlock limit below the arena size. The arena still
// works, but the caller must be told loudly that it is not locked, and why.
TEST(secure_memory_fresh_process, mlock_failure_is_reported_as_degraded_with_the_limit) {
  if (geteuid() != 0 && has_effective_capability(CAP_IPC_LOCK)) {
    GTEST_SKIP() << "CAP_IPC_LOCK without root: mlock ignores RLIMIT_MEMLOCK and cannot fail";
  }
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(check_memlock_failure_report(), ::testing::ExitedWithCode(0),
              "NOT fully protected.*RLIMIT_MEMLOCK is 0 bytes but the arena needs 65536");
}

}  // namespace
}  // namespace airlock::secrets

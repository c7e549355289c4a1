#include "secrets/process_hardening.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace airlock::secrets {
namespace {

// Death-test children report a failed expectation on stderr and exit with this code.
[[noreturn]] void fail_child(int code, const std::string& why) {
  std::fprintf(stderr, "child check %d failed: %s\n", code, why.c_str());
  std::_Exit(code);
}

rlimit core_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_CORE, &limit);
  return limit;
}

// Runs in a forked child: hardening must clear dumpable and pin the core limit at zero.
[[noreturn]] void check_hardening() {
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) {
    fail_child(1, "could not make the child dumpable to start from");
  }
  const std::string failures = harden_process(false);
  if (!failures.empty()) {
    fail_child(2, failures);
  }
  if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
    fail_child(3, "still dumpable");
  }
  const rlimit limit = core_limit();
  if (limit.rlim_cur != 0 || limit.rlim_max != 0) {
    fail_child(4, "core limit not zero");
  }
  // Without CAP_SYS_RESOURCE a zero hard limit is final.
  const rlimit raise{RLIM_INFINITY, RLIM_INFINITY};
  if (geteuid() != 0 && setrlimit(RLIMIT_CORE, &raise) == 0) {
    fail_child(5, "core limit could be raised again");
  }
  std::_Exit(0);
}

// Runs in a forked child: the debug flag must leave both settings as they were.
[[noreturn]] void check_allowed_core_dumps() {
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) {
    fail_child(1, "could not make the child dumpable to start from");
  }
  const rlimit before = core_limit();
  const std::string failures = harden_process(true);
  if (!failures.empty()) {
    fail_child(2, failures);
  }
  if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1) {
    fail_child(3, "dumpable was cleared although core dumps were allowed");
  }
  const rlimit after = core_limit();
  if (after.rlim_cur != before.rlim_cur || after.rlim_max != before.rlim_max) {
    fail_child(4, "core limit changed although core dumps were allowed");
  }
  std::_Exit(0);
}

// Hardening is irreversible (the hard core limit cannot be raised again without privilege), so
// it runs in a forked child and the test process keeps its own settings.
TEST(process_hardening, clears_dumpable_and_core_limit) {
  const int parent_dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  const rlimit parent_core = core_limit();

  EXPECT_EXIT(check_hardening(), ::testing::ExitedWithCode(0), "");

  EXPECT_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), parent_dumpable);
  EXPECT_EQ(core_limit().rlim_cur, parent_core.rlim_cur);
  EXPECT_EQ(core_limit().rlim_max, parent_core.rlim_max);
}

TEST(process_hardening, allow_core_dumps_changes_nothing) {
  EXPECT_EXIT(check_allowed_core_dumps(), ::testing::ExitedWithCode(0), "");
}

TEST(process_hardening, flag_name_is_the_documented_one) {
  EXPECT_EQ(allow_core_dumps_flag, "--allow-core-dumps");
}

}  // namespace
}  // namespace airlock::secrets

// An upstream that refuses, resets, stalls or cuts a body short: the client gets a
// clear airlock error before the response started, and a visibly failed transfer
// after it started, never a clean-looking success.

#include <gtest/gtest.h>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/fault_server.hpp"

namespace airlock::test {
namespace {

using upstream_failure_test = proxy_test;

TEST_F(upstream_failure_test, RefusedIs502) {
  const std::string url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/";
  start_airlock();

  const auto r =
      curl({"-D", scratch("head").string(), "-o", "/dev/null", "-w", "%{http_code}", url});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "502");
  EXPECT_NE(read_file(scratch("head")).find("error=connection_refused"), std::string::npos)
      << read_file(scratch("head"));
}

TEST_F(upstream_failure_test, ResetBeforeResponseIs502) {
  fault_server upstream(fault::accept_then_reset);
  start_airlock();

  const auto r = curl({"-o", "/dev/null", "-w", "%{http_code}", upstream.url("/")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "502");
}

TEST_F(upstream_failure_test, StallIs504AfterIdleTimeout) {
  fault_server upstream(fault::stall);
  airlock_settings settings;
  settings.idle_timeout = "1s";
  start_airlock(settings);

  const auto r = curl(
      {"-D", scratch("head").string(), "-o", "/dev/null", "-w", "%{http_code}", upstream.url("/")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "504");
  EXPECT_GE(r.elapsed, 900ms);
  EXPECT_LT(r.elapsed, 3s);
  EXPECT_NE(read_file(scratch("head")).find("Proxy-Status: airlock"), std::string::npos);
}

TEST_F(upstream_failure_test, TruncatedBodyIsPartialForClient) {
  fault_server upstream(fault::truncated_body);
  start_airlock();

  const auto r =
      curl({"-o", "/dev/null", "-w", "%{http_code} %{size_download}", upstream.url("/")});
  // 18: "transfer closed with outstanding read data remaining".
  EXPECT_EQ(r.exit_code, 18) << r.err;
  EXPECT_EQ(r.out, "200 500");
}

TEST_F(upstream_failure_test, ResetAfterHeadIsFailureForClient) {
  fault_server upstream(fault::reset_after_head);
  start_airlock();

  const auto r = curl({"-o", "/dev/null", "-w", "%{http_code}", upstream.url("/")});
  // 18 (partial file) or 56 (receive failure): anything but success.
  EXPECT_TRUE(r.exit_code == 18 || r.exit_code == 56) << r.exit_code << " " << r.err;
}

TEST_F(upstream_failure_test, CloseDelimitedBodyCutByResetIsResetForClient) {
  fault_server upstream(fault::close_delimited_reset);
  start_airlock();

  // The body runs until close, so only a reset can tell the client it was cut short.
  const auto r = curl({"-o", "/dev/null", "-w", "%{http_code}", upstream.url("/")});
  EXPECT_EQ(r.exit_code, 56) << r.err;
}

}  // namespace
}  // namespace airlock::test

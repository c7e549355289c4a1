#pragma once
// The base of every integration test: a scratch directory, an airlock started on
// demand with the test's settings, curl pointed at it, and on failure the tail of
// airlock's log in the test output (the scratch directory is gone by then).

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/airlock_process.hpp"
#include "tests/support/curl.hpp"
#include "tests/support/files.hpp"
#include "tests/support/raw_client.hpp"

namespace airlock::test {

using namespace std::chrono_literals;

class proxy_test : public ::testing::Test {
 protected:
  // Fails the test when airlock's stderr holds a sanitizer report; otherwise, after a
  // failure, prints its tail.
  void TearDown() override;

  // Starts airlock (once per test) and returns it.
  airlock_process& start_airlock(const airlock_settings& settings = {});
  airlock_process& airlock() { return *airlock_; }

  // curl through airlock: `-x PROXY` followed by args.
  command_result curl(std::vector<std::string> args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(90));

  // A raw connection to airlock.
  std::unique_ptr<raw_client> connect() { return std::make_unique<raw_client>(airlock_->port()); }

  std::filesystem::path scratch(std::string_view name) const { return tmp_ / name; }

  // The value of one sample on airlock's /metrics, named as it is written there
  // ("airlock_tunnel_bytes_total{direction=\"up\"}"); -1 when there is no such sample.
  double metric(std::string_view series);

  temp_dir tmp_;
  std::unique_ptr<airlock_process> airlock_;  // after tmp_: stopped before it is removed

 private:
  void check_airlock_stderr();
};

// Seconds since `start`, for timing assertions with readable failure messages.
double seconds_since(std::chrono::steady_clock::time_point start);

// Expects airlock's answer (status, and text holding its head) to a request for `host`,
// a name that does not resolve: 502 saying so, or, where the environment's resolver does
// not answer at all, the 504 of the lookup deadline (the connect timeout) saying that.
void expect_unresolvable(int status, std::string_view answer, std::string_view host);

}  // namespace airlock::test

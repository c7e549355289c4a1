// Probes run as bounded child processes: a deadline that ends the whole process group,
// output kept up to a bound, and a few at a time.

#include "proxy/doctor/run_probe.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

namespace airlock::proxy::doctor {
namespace {

using namespace std::chrono_literals;

command sh(std::string script, std::chrono::milliseconds timeout = 5000ms) {
  return command{{"/bin/sh", "-c", std::move(script)}, {"PATH=/usr/bin:/bin"}, {}, timeout};
}

TEST(doctor_run, output_and_exit_status) {
  const auto o = run_command(sh("echo out; echo err >&2; exit 3"));
  EXPECT_TRUE(o.started);
  EXPECT_FALSE(o.timed_out);
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(o.out, "out\n");
  EXPECT_EQ(o.err, "err\n");
  // Only the given environment, and the working directory when asked.
  auto c = sh("echo \"$HOME:$PATH\"; pwd");
  c.cwd = "/";
  EXPECT_EQ(run_command(c).out, ":/usr/bin:/bin\n/\n");
}

TEST(doctor_run, a_probe_past_its_deadline_is_killed_with_what_it_started) {
  char dir[] = "/tmp/airlock-run-test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string pidfile = std::string(dir) + "/pid";
  const auto start = std::chrono::steady_clock::now();
  const auto o = run_command(sh("sleep 30 & echo $! > " + pidfile + "; sleep 30", 300ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(o.timed_out);
  pid_t grandchild = 0;
  std::ifstream(pidfile) >> grandchild;
  ASSERT_GT(grandchild, 0);
  // Gone (or a zombie about to be reaped by init): signal 0 fails, or it is not running.
  std::this_thread::sleep_for(100ms);
  std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
  std::string pid_text;
  std::string comm;
  char state = 'X';
  if (stat >> pid_text >> comm >> state) {
    EXPECT_EQ(state, 'Z') << "the background sleep still runs";
  }
  std::remove(pidfile.c_str());
  ::rmdir(dir);
}

TEST(doctor_run, a_grandchild_holding_the_pipe_does_not_hold_the_doctor) {
  const auto start = std::chrono::steady_clock::now();
  const auto o = run_command(sh("sleep 30 & echo done", 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(o.timed_out);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.out, "done\n");
}

TEST(doctor_run, output_is_bounded) {
  const auto o = run_command(sh("head -c 1000000 /dev/zero; echo tail >&2"));
  EXPECT_EQ(o.out.size(), max_capture);
  EXPECT_EQ(o.err, "tail\n");
  EXPECT_EQ(o.exit_code, 0);
}

TEST(doctor_run, a_missing_program_is_reported_not_thrown) {
  const auto o = run_command(command{{"/nonexistent/runtime"}, {}, {}, 1000ms});
  EXPECT_FALSE(o.started);
  EXPECT_NE(o.err.find("/nonexistent/runtime"), std::string::npos);
}

TEST(doctor_run, results_keep_the_commands_order_and_run_side_by_side) {
  std::vector<command> commands;
  for (int i = 0; i < 6; ++i) {
    commands.push_back(sh("sleep 0.3; echo " + std::to_string(i)));
  }
  const auto start = std::chrono::steady_clock::now();
  const auto results = run_all(commands, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);  // two rounds, not six
  ASSERT_EQ(results.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(results[static_cast<std::size_t>(i)].out, std::to_string(i) + "\n");
  }
}

}  // namespace
}  // namespace airlock::proxy::doctor

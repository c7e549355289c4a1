#pragma once
// Runs the probes as child processes: each with a deadline (the whole process group is
// killed when it passes), stdin from /dev/null, stdout and stderr captured up to a bound,
// and a few at a time.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "proxy/doctor/judge.hpp"

namespace airlock::proxy::doctor {

struct command {
  std::vector<std::string> argv;  // argv[0] is a path
  std::vector<std::string> env;   // the whole environment, "NAME=value"
  std::string cwd;                // empty: the doctor's own
  std::chrono::milliseconds timeout{20000};
};

// What each stream keeps; the rest is read and dropped, so the child never blocks on it.
inline constexpr std::size_t max_capture = 64 * 1024;

// Runs one command to its end or its deadline. Never throws; a command that cannot be
// started comes back with started false and the reason in err.
probe_output run_command(const command& c);

// Runs every command, at most `parallel` at once; results in the commands' order.
std::vector<probe_output> run_all(const std::vector<command>& commands, std::size_t parallel);

}  // namespace airlock::proxy::doctor

#pragma once
// A child process for tests (airlock, nginx, curl, openssl): started with a clean
// environment and its output in files, waited for with a timeout, and always killed
// when the owner goes away, even when the test binary itself is killed.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace airlock::test {

struct spawn_options {
  std::vector<std::string> argv;  // argv[0] is the program path; PATH is not searched
  std::filesystem::path stdout_path = "/dev/null";
  std::filesystem::path stderr_path = "/dev/null";
  std::filesystem::path working_dir;  // empty: the test's own
  // "NAME=value" entries added to the fixed environment (a secret's env source, say).
  std::vector<std::string> env;
};

class child_process {
 public:
  // Starts the program; throws std::runtime_error when it cannot be executed.
  explicit child_process(const spawn_options& opts);
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }

  // True until the child has exited (reaps it when it has).
  bool running();

  // Sends sig unless the child has already been reaped.
  void signal(int sig);

  // Waits up to timeout for the child to exit. Returns its exit code (128 + signal
  // number when a signal ended it), or nullopt if it is still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

  // SIGKILL and reap; returns the exit status as wait_for does.
  int kill();

 private:
  bool reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> status_;
};

// What a finished command left behind.
struct command_result {
  int exit_code = -1;  // -1 when it was killed for exceeding its timeout
  bool timed_out = false;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
};

// A command running in the background whose output is collected when it ends.
class background_command {
 public:
  // Output goes to files in scratch_dir named after `name`.
  background_command(std::vector<std::string> argv, const std::filesystem::path& scratch_dir,
                     const std::string& name);

  // Waits up to timeout; a command still running then is killed (timed_out set).
  command_result finish(std::chrono::milliseconds timeout);

  pid_t pid() const { return child_.pid(); }

 private:
  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
  std::chrono::steady_clock::time_point started_;
  child_process child_;
};

// Runs a command to completion (see background_command).
command_result run_command(std::vector<std::string> argv, const std::filesystem::path& scratch_dir,
                           const std::string& name, std::chrono::milliseconds timeout);

}  // namespace airlock::test

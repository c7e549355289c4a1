#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "tests/support/files.hpp"

namespace airlock::test {

namespace {

// Children get a fixed environment: no proxy variables or curlrc from the person
// running the tests can change what a test measures. Sanitizer settings pass through.
std::vector<std::string> child_environment() {
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C",
      "HOME=/nonexistent"};
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) {
      env.push_back(std::string(name) + "=" + value);
    }
  }
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

// Only async-signal-safe calls between fork and exec: the test process has threads.
[[noreturn]] void exec_child(const char* path, char* const* argv, char* const* envp, int out_fd,
                             int err_fd, const char* cwd, int report_fd, pid_t parent) {
  // A test killed by ctest's timeout must not leave nginx or airlock behind.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) {
    ::_exit(127);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT}) {
    ::signal(sig, SIG_DFL);
  }
  const int in_fd = ::open("/dev/null", O_RDONLY);
  if (in_fd < 0 || ::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
    const int e = errno;
    (void)!::write(report_fd, &e, sizeof(e));
    ::_exit(127);
  }
  // Sockets the test holds (Asio accepts without CLOEXEC) must not live on in the
  // child: a server's close would send no FIN while curl kept a copy open.
  if (report_fd > 3) {
    ::close_range(3, static_cast<unsigned>(report_fd) - 1, 0);
  }
  ::close_range(static_cast<unsigned>(report_fd) + 1, ~0U, 0);
  if (cwd != nullptr && ::chdir(cwd) != 0) {
    const int e = errno;
    (void)!::write(report_fd, &e, sizeof(e));
    ::_exit(127);
  }
  ::execve(path, argv, envp);
  const int e = errno;
  (void)!::write(report_fd, &e, sizeof(e));
  ::_exit(127);
}

int open_output(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  return fd;
}

}  // namespace

child_process::child_process(const spawn_options& opts) {
  if (opts.argv.empty()) {
    throw std::invalid_argument("child_process: empty argv");
  }
  std::vector<std::string> args = opts.argv;
  std::vector<std::string> env = child_environment();
  env.insert(env.end(), opts.env.begin(), opts.env.end());
  std::vector<char*> argv = pointers(args);
  std::vector<char*> envp = pointers(env);
  const std::string cwd = opts.working_dir.string();

  const int out_fd = open_output(opts.stdout_path);
  const int err_fd = open_output(opts.stderr_path);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    ::close(out_fd);
    ::close(err_fd);
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    exec_child(argv[0], argv.data(), envp.data(), out_fd, err_fd,
               cwd.empty() ? nullptr : cwd.c_str(), report[1], parent);
  }
  const int fork_errno = errno;
  ::close(out_fd);
  ::close(err_fd);
  ::close(report[1]);
  if (pid_ < 0) {
    ::close(report[0]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(fork_errno));
  }
  // The report pipe closes on a successful exec; an errno arrives if exec failed.
  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(report[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == sizeof(child_errno)) {
    reap(true);
    throw std::runtime_error("cannot execute " + opts.argv[0] + ": " + std::strerror(child_errno));
  }
}

child_process::~child_process() {
  if (pid_ > 0 && !status_) {
    kill();
  }
}

bool child_process::reap(bool block) {
  if (status_) {
    return true;
  }
  int raw = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid_, &raw, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) {
    return false;
  }
  status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  return true;
}

bool child_process::running() {
  return !reap(false);
}

void child_process::signal(int sig) {
  if (!status_) {
    ::kill(pid_, sig);
  }
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (reap(false)) {
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int child_process::kill() {
  signal(SIGKILL);
  reap(true);
  return *status_;
}

background_command::background_command(std::vector<std::string> argv,
                                       const std::filesystem::path& scratch_dir,
                                       const std::string& name)
    : out_path_(scratch_dir / (name + ".out")),
      err_path_(scratch_dir / (name + ".err")),
      started_(std::chrono::steady_clock::now()),
      child_(spawn_options{std::move(argv), out_path_, err_path_, {}, {}}) {}

command_result background_command::finish(std::chrono::milliseconds timeout) {
  command_result r;
  const auto status = child_.wait_for(timeout);
  if (status) {
    r.exit_code = *status;
  } else {
    child_.kill();
    r.timed_out = true;
  }
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started_);
  r.out = read_file(out_path_);
  r.err = read_file(err_path_);
  return r;
}

command_result run_command(std::vector<std::string> argv, const std::filesystem::path& scratch_dir,
                           const std::string& name, std::chrono::milliseconds timeout) {
  background_command cmd(std::move(argv), scratch_dir, name);
  return cmd.finish(timeout);
}

}  // namespace airlock::test

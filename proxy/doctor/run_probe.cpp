#include "proxy/doctor/run_probe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace airlock::proxy::doctor {

namespace {

using clock = std::chrono::steady_clock;

// After the probe itself exits, how long output still in flight (or held by a grandchild
// that kept the pipe) is waited for.
constexpr auto exit_grace = std::chrono::milliseconds(200);

struct fd_pair {
  int read = -1;
  int write = -1;
};

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

// posix_spawn with the pipes as stdout and stderr, /dev/null as stdin, its own process
// group (so a timeout kills what it started too) and default signal handling.
int spawn(const command& c, fd_pair& out, fd_pair& err, pid_t& pid) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write, 1);
  posix_spawn_file_actions_adddup2(&actions, err.write, 2);
  if (!c.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, c.cwd.c_str());
  }
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const auto argv = c_strings(c.argv);
  const auto envp = c_strings(c.env);
  const int rc =
      posix_spawn(&pid, c.argv.front().c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc;
}

// Reads what is ready on fd into into (up to max_capture); false at end of stream.
bool drain(int fd, std::string& into) {
  char buf[4096];
  const ssize_t n = ::read(fd, buf, sizeof(buf));
  if (n > 0) {
    const auto keep = std::min<std::size_t>(static_cast<std::size_t>(n),
                                            max_capture - std::min(max_capture, into.size()));
    into.append(buf, keep);
    return true;
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

// Whether pid has exited, without reaping it: its process group stays reserved until then.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

}  // namespace

probe_output run_command(const command& c) {
  probe_output o;
  fd_pair out;
  fd_pair err;
  int p1[2];
  int p2[2];
  if (c.argv.empty() || pipe2(p1, O_CLOEXEC) != 0) {
    o.started = false;
    o.err = "no command, or no pipe";
    return o;
  }
  if (pipe2(p2, O_CLOEXEC) != 0) {
    ::close(p1[0]);
    ::close(p1[1]);
    o.started = false;
    o.err = std::strerror(errno);
    return o;
  }
  out = {p1[0], p1[1]};
  err = {p2[0], p2[1]};
  pid_t pid = 0;
  if (const int rc = spawn(c, out, err, pid); rc != 0) {
    close_fd(out.read);
    close_fd(out.write);
    close_fd(err.read);
    close_fd(err.write);
    o.started = false;
    o.err = c.argv.front() + ": " + std::strerror(rc);
    return o;
  }
  close_fd(out.write);
  close_fd(err.write);
  const auto deadline = clock::now() + c.timeout;
  std::optional<clock::time_point> exited_at;
  while (out.read >= 0 || err.read >= 0) {
    const auto now = clock::now();
    if (now >= deadline) {
      o.timed_out = true;
      break;
    }
    if (!exited_at && has_exited(pid)) {
      exited_at = now;
    }
    if (exited_at && now - *exited_at > exit_grace) {
      break;
    }
    pollfd fds[2] = {{out.read, POLLIN, 0}, {err.read, POLLIN, 0}};
    const int ready = ::poll(fds, 2, 50);
    if (ready < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < 2 && ready > 0; ++i) {
      int& fd = i == 0 ? out.read : err.read;
      if (fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
          !drain(fd, i == 0 ? o.out : o.err)) {
        close_fd(fd);
      }
    }
  }
  close_fd(out.read);
  close_fd(err.read);
  // Whatever the probe started goes with it: the group is its own, and its leader is not
  // reaped yet, so the id names nothing else.
  if (!has_exited(pid)) {
    while (!o.timed_out && clock::now() < deadline && !has_exited(pid)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    o.timed_out = o.timed_out || !has_exited(pid);
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    o.exit_code = WEXITSTATUS(status);
  } else {
    o.exit_code = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  return o;
}

std::vector<probe_output> run_all(const std::vector<command>& commands, std::size_t parallel) {
  std::vector<probe_output> results(commands.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < commands.size(); i = next++) {
      results[i] = run_command(commands[i]);
    }
  };
  std::vector<std::thread> threads;
  const std::size_t n = std::min(std::max<std::size_t>(parallel, 1), commands.size());
  for (std::size_t i = 0; i < n; ++i) {
    threads.emplace_back(work);
  }
  for (auto& t : threads) {
    t.join();
  }
  return results;
}

}  // namespace airlock::proxy::doctor

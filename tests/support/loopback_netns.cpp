#include "tests/support/loopback_netns.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>

namespace airlock::test {

namespace {

// The first byte of the child's report.
constexpr char ran = 'R';
constexpr char no_namespace = 'N';

bool write_text(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// Enters a network namespace with lo up; empty on success, else why not. Root needs no
// user namespace; anyone else (or a root without CAP_SYS_ADMIN) gets one of their own.
std::string enter_loopback_netns() {
  if (::unshare(CLONE_NEWNET) != 0) {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
      return errno_text("unshare");
    }
    if (!write_text("/proc/self/setgroups", "deny") ||
        !write_text("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
        !write_text("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
      return errno_text("user namespace maps");
    }
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return errno_text("socket");
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  up = up && ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  const std::string why = up ? std::string() : errno_text("bringing lo up");
  ::close(fd);
  return why;
}

[[noreturn]] void run_child(const std::function<std::string()>& body, int report_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::string report;
  const std::string entered = enter_loopback_netns();
  if (!entered.empty()) {
    report = no_namespace + entered;
  } else {
    try {
      report = ran + body();
    } catch (const std::exception& e) {
      report = ran + std::string("exception: ") + e.what();
    }
  }
  std::size_t sent = 0;
  while (sent < report.size()) {
    const ssize_t n = ::write(report_fd, report.data() + sent, report.size() - sent);
    if (n <= 0) {
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  // No exit handlers: the gtest process's state belongs to the parent.
  ::_exit(0);
}

}  // namespace

netns_result run_in_loopback_netns(const std::function<std::string()>& body,
                                   std::chrono::seconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return {true, errno_text("pipe2")};
  }
  std::fflush(nullptr);  // buffered output would otherwise be written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {true, errno_text("fork")};
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(body, fds[1]);
  }
  ::close(fds[1]);
  std::string report;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ended = false;
  while (!ended) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n > 0) {
      report.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      ended = true;
    }
  }
  ::close(fds[0]);
  if (!ended) {
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!ended) {
    return {true, "timed out"};
  }
  if (report.empty()) {
    return {true, "the child ended without a report (status " + std::to_string(status) + ")"};
  }
  return {report.front() == ran, report.substr(1)};
}

}  // namespace airlock::test

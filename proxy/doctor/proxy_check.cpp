#include "proxy/doctor/proxy_check.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "proxy/policy/check_host.hpp"

namespace airlock::proxy::doctor {

namespace {

constexpr std::size_t max_answer = 8 * 1024;

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  // Linux bounds connect() by the send timeout as well.
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

// A connected socket to at, or -1 with why.
int connect_to(const proxy_address& at, std::chrono::milliseconds timeout, std::string& why) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(at.port);
  if (const int rc = ::getaddrinfo(at.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    why = "cannot resolve " + at.host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      continue;
    }
    set_timeouts(fd, timeout);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      why = std::string("cannot connect: ") + std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

}  // namespace

bool is_check_answer(std::string_view response, std::string& line) {
  const auto eol = response.find("\r\n");
  const std::string_view status_line = response.substr(0, eol);
  const auto body_at = response.find("\r\n\r\n");
  const std::string_view body =
      body_at == std::string_view::npos ? std::string_view() : response.substr(body_at + 4);
  const bool ok = status_line.substr(0, 13) == "HTTP/1.1 200 " &&
                  body.substr(0, check_marker.size()) == check_marker;
  if (ok) {
    // "airlock-doctor-ok: answered by airlock 0.1.0 as ..." → "answered by airlock 0.1.0 as ..."
    std::string_view text = body.substr(check_marker.size());
    text = text.substr(0, text.find('\n'));
    if (!text.empty() && text.front() == ':') {
      text.remove_prefix(1);
    }
    while (!text.empty() && text.front() == ' ') {
      text.remove_prefix(1);
    }
    line = std::string(text);
  } else {
    line = status_line.empty() ? "no HTTP answer"
                               : "answered \"" + std::string(status_line.substr(0, 80)) +
                                     "\" without the check's marker";
  }
  return ok;
}

void ask_proxy(const proxy_address& at, std::chrono::milliseconds timeout, proxy_report& into) {
  std::string why;
  const int fd = connect_to(at, timeout, why);
  if (fd < 0) {
    into.answer = why;
    return;
  }
  into.reached = true;
  const std::string host(check_host_name);
  const std::string request = "GET http://" + host + "/ HTTP/1.1\r\nHost: " + host +
                              "\r\nUser-Agent: airlock-doctor\r\nConnection: close\r\n\r\n";
  std::string response;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(request.size())) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[2048];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0 || response.size() >= max_answer || std::chrono::steady_clock::now() >= deadline) {
        break;
      }
      response.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  into.airlock = is_check_answer(response, into.answer);
}

}  // namespace airlock::proxy::doctor

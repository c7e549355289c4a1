#include "proxy/admin/admin_socket.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace airlock::proxy::control {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw std::runtime_error("admin.socket " + path + ": " + why);
}

// Whether another user could replace the socket in dir: writable by group or others,
// without the sticky bit (which lets only a file's owner remove or rename it).
bool others_may_replace(const struct stat& st) {
  return (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0;
}

void prepare_directory(const std::string& path, bool others_allowed) {
  const auto dir = std::filesystem::path(path).parent_path();
  const mode_t mode = others_allowed ? 0711 : 0700;
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
      fail(path, "cannot create " + dir.string() + ": " + std::strerror(errno));
    }
    // EEXIST: someone made it first. Whoever did, it is judged below like any other.
    if (::lstat(dir.c_str(), &st) != 0) {
      fail(path, "cannot inspect " + dir.string() + ": " + std::strerror(errno));
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    fail(path, dir.string() + " is not a directory (a symbolic link is not accepted)");
  }
  if (st.st_uid == ::geteuid()) {
    ::chmod(dir.c_str(), mode);  // ours: exactly as open as the allowed callers need
    return;
  }
  if (!others_may_replace(st)) {
    return;
  }
  // Writable by others and not ours. A mount of its own (a Kubernetes emptyDir mounted
  // only into airlock's container, a volume only airlock mounts) has no other users;
  // anywhere else another user could swap the socket for one of its own.
  struct stat parent {};
  if (::stat(dir.parent_path().c_str(), &parent) == 0 && parent.st_dev != st.st_dev) {
    spdlog::info(
        "admin.socket: {} is writable by other users but a mount of its own; it must "
        "be mounted only into airlock's container",
        dir.string());
    return;
  }
  fail(path, dir.string() + " is writable by other users (uid " + std::to_string(st.st_uid) +
                 " owns it, mode " + fmt::format("{:o}", st.st_mode & 07777) +
                 "): another user could replace the socket; use a directory airlock owns, or "
                 "a mount only airlock's container has");
}

// A socket file left by an earlier airlock is removed; a live one is not ours to take.
void clear_stale(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return;
  }
  if (!S_ISSOCK(st.st_mode)) {
    fail(path, "exists and is not a socket");
  }
  asio::io_context io;
  local_protocol::socket probe(io);
  error_code ec;
  probe.connect(local_protocol::endpoint(path), ec);
  if (!ec) {
    fail(path, "another process is serving it (is airlock already running?)");
  }
  ::unlink(path.c_str());
}

}  // namespace

void bind_admin_socket(local_protocol::acceptor& acceptor, const std::string& path,
                       bool others_allowed) {
  prepare_directory(path, others_allowed);
  clear_stale(path);
  error_code ec;
  const local_protocol::endpoint ep(path);
  acceptor.open(ep.protocol(), ec);
  if (!ec) {
    acceptor.bind(ep, ec);
  }
  if (!ec && ::chmod(path.c_str(), others_allowed ? 0666 : 0600) != 0) {
    ec = error_code(errno, boost::system::system_category());
  }
  struct stat st {};
  if (!ec &&
      (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_uid != ::geteuid())) {
    fail(path, "the socket just bound is not airlock's own file");
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    fail(path, ec.message());
  }
}

std::optional<std::uint32_t> peer_uid(local_protocol::socket& socket) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      len != sizeof(cred)) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(cred.uid);
}

bool uid_allowed(std::uint32_t uid, std::uint32_t own, const std::vector<std::uint32_t>& allowed) {
  return uid == own || std::find(allowed.begin(), allowed.end(), uid) != allowed.end();
}

}  // namespace airlock::proxy::control

#include "proxy/control/admin_socket.hpp"

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
    ::chmod(dir.c_str(), mode);  // mkdir is subject to the umask
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    fail(path, dir.string() + " is not a directory");
  }
  // A directory others may write to lets them put their own socket here once airlock is
  // gone, and `airlock revoke` would hand it the token. Ours: tighten it; not ours:
  // it is a mount we do not control (an emptyDir only airlock's container sees), say so.
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    if (st.st_uid == ::geteuid()) {
      ::chmod(dir.c_str(), mode);
    } else {
      spdlog::warn(
          "admin.socket: {} is writable by other users; keep it out of the agent's "
          "reach (mounted only into airlock's container)",
          dir.string());
    }
  }
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

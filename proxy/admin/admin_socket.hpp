#pragma once
// The admin API's Unix domain socket: created in a directory the agent cannot reach,
// readable only by the UIDs allowed to call it, and each caller's UID checked from the
// kernel (SO_PEERCRED) at accept. Unlike a TCP port, nothing in the shared network
// namespace can reach it or, once airlock is gone, answer in its place.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/local/stream_protocol.hpp>

#include "proxy/io/asio.hpp"

namespace airlock::proxy::control {

using local_protocol = asio::local::stream_protocol;

// Binds and listens at path: creates its directory (0700, or 0711 when other UIDs are
// allowed) when missing, takes over a stale socket file, refuses a live one or a path
// that is not a socket. Throws std::runtime_error naming the path and the problem.
void bind_admin_socket(local_protocol::acceptor& acceptor, const std::string& path,
                       bool others_allowed);

// The peer's UID from the kernel; nullopt when it cannot be read.
std::optional<std::uint32_t> peer_uid(local_protocol::socket& socket);

// Whether uid may call the admin API: airlock's own effective UID or one listed.
bool uid_allowed(std::uint32_t uid, std::uint32_t own, const std::vector<std::uint32_t>& allowed);

}  // namespace airlock::proxy::control

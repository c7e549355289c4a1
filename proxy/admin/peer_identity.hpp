#pragma once
// Who is at the other end of an admin connection, as the kernel says: `airlock revoke`
// and `airlock push` send a token or a secret only to a process of the expected user.
// Over a Unix socket SO_PEERCRED tells; over TCP on loopback the kernel's socket table
// (/proc/net/tcp, tcp6) names the owner of the accepted socket, which the agent, in the
// same network namespace, could otherwise be by binding the port after airlock died.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/io/asio.hpp"

namespace airlock::proxy::control {

// The kernel's spelling of an endpoint in /proc/net/tcp{,6}: "0100007F:2382" (the address
// in the kernel's word order, the port in hex).
std::string proc_net_endpoint(const tcp::endpoint& ep);

// In a /proc/net/tcp{,6} table, the UID owning the socket whose local end is `local` and
// remote end `remote`; nullopt when no such line.
std::optional<std::uint32_t> find_socket_uid(std::string_view table, const tcp::endpoint& local,
                                             const tcp::endpoint& remote);

// The UID owning the server side of our connected socket, from /proc/net/tcp{,6}.
std::optional<std::uint32_t> tcp_peer_uid(tcp::socket& connected);

}  // namespace airlock::proxy::control

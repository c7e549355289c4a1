// admin: where the admin API listens and who may call it. The checks here are the ones
// that keep the agent (same network namespace, another UID) from becoming admin.

#include <arpa/inet.h>

#include <filesystem>

#include "config/parse_values.hpp"
#include "config/sections.hpp"

namespace airlock::config {

namespace {

bool is_ip_literal(const std::string& host) {
  in6_addr bytes{};
  return inet_pton(AF_INET, host.c_str(), &bytes) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &bytes) == 1;
}

}  // namespace

void read_admin(const reader& r, const YAML::Node& node, admin_config& out) {
  r.expect_map(node, "admin",
               {"socket", "allow_uids", "listen", "token_file", "insecure_tcp_without_token"});
  if (node["socket"]) {
    out.socket = r.scalar(node["socket"], "admin.socket");
    if (!out.socket.empty() && out.socket.front() != '/') {
      r.fail(node["socket"],
             "admin.socket: an absolute path is needed, got \"" + out.socket + "\"");
    }
    // sun_path holds 108 bytes with its terminator.
    if (out.socket.size() > 107) {
      r.fail(node["socket"], "admin.socket: a Unix socket path is at most 107 bytes");
    }
  }
  if (node["allow_uids"]) {
    const auto& list = node["allow_uids"];
    if (!list.IsSequence()) {
      r.fail(list, "admin.allow_uids: expected a list of numeric user IDs");
    }
    for (const auto& uid : list) {
      const auto value = r.integer(uid, "admin.allow_uids", 0, 4294967294u);
      // 65534 is also the overflow UID every unmapped user of a user namespace shows as.
      if (value == 65534) {
        r.fail(uid, "admin.allow_uids: 65534 (nobody, the overflow UID) cannot be allowed");
      }
      out.allow_uids.push_back(static_cast<std::uint32_t>(value));
    }
  }
  if (node["listen"]) {
    // A TCP listener chosen without a socket is the only admin API: no socket file appears
    // in a default directory the deployment never prepared.
    if (!node["socket"]) {
      out.socket.clear();
    }
    out.listen = r.address(node["listen"], "admin.listen", true);
    // A name is resolved by the client, perhaps to another address than the one bound
    // ("localhost" → ::1 first), where the agent may be listening to catch the token.
    if (!is_ip_literal(out.listen->host)) {
      r.fail(node["listen"],
             "admin.listen: an IP address literal is needed (bound and dialled "
             "exactly as written), got \"" +
                 out.listen->host + "\"");
    }
  }
  if (node["token_file"]) {
    out.token_file = r.scalar(node["token_file"], "admin.token_file");
  }
  if (node["insecure_tcp_without_token"]) {
    out.insecure_tcp_without_token =
        r.boolean(node["insecure_tcp_without_token"], "admin.insecure_tcp_without_token");
  }
  if (out.listen && out.token_file.empty() && !is_loopback(out.listen->host)) {
    r.fail(node["listen"], "admin: a listener outside loopback needs token_file");
  }
  if (out.socket.empty() && !out.listen) {
    r.fail(node,
           "admin: give a socket or a listen address (the admin API is how secrets are "
           "pushed and revoked)");
  }
}

void check_admin(const reader& r, const YAML::Node& root, const config& c) {
  const bool holds_secrets = !c.secrets.empty() || !c.credentials.empty();
  if (c.admin.listen && c.admin.token_file.empty() && holds_secrets &&
      !c.admin.insecure_tcp_without_token) {
    r.fail(root["admin"]["listen"],
           "admin.listen: a TCP admin listener needs token_file while secrets or credentials are "
           "configured: the agent shares the network namespace and could push, revoke or catch "
           "the port; use admin.socket, or set admin.insecure_tcp_without_token: true for a "
           "local experiment");
  }
  if (!c.admin.socket.empty()) {
    const auto dir = std::filesystem::path(c.admin.socket).parent_path().lexically_normal();
    const auto exported = std::filesystem::path(c.tls.export_dir).lexically_normal();
    const auto rel = dir.lexically_relative(exported);
    if (!rel.empty() && *rel.begin() != "..") {
      r.fail(root["admin"] ? root["admin"] : root,
             "admin.socket: must not be in or under tls.ca.export_dir (" + c.tls.export_dir +
                 "), which the agent reads");
    }
  }
}

}  // namespace airlock::config

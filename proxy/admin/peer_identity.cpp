#include "proxy/admin/peer_identity.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace airlock::proxy::control {

namespace {

std::string_view next_field(std::string_view& line) {
  const auto start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(start);
  const auto end = line.find(' ');
  const auto field = line.substr(0, end);
  line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  return field;
}

std::string read_table(const char* path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

std::string proc_net_endpoint(const tcp::endpoint& ep) {
  std::string out;
  char word[16];
  const auto append_words = [&](const unsigned char* bytes, std::size_t count) {
    for (std::size_t i = 0; i < count; i += 4) {
      std::uint32_t w = 0;
      std::memcpy(&w, bytes + i, 4);  // the kernel prints each 32-bit word as it holds it
      std::snprintf(word, sizeof(word), "%08X", w);
      out += word;
    }
  };
  if (ep.address().is_v4()) {
    const auto bytes = ep.address().to_v4().to_bytes();
    append_words(bytes.data(), bytes.size());
  } else {
    const auto bytes = ep.address().to_v6().to_bytes();
    append_words(bytes.data(), bytes.size());
  }
  std::snprintf(word, sizeof(word), ":%04X", ep.port());
  out += word;
  return out;
}

std::optional<std::uint32_t> find_socket_uid(std::string_view table, const tcp::endpoint& local,
                                             const tcp::endpoint& remote) {
  const std::string want_local = proc_net_endpoint(local);
  const std::string want_remote = proc_net_endpoint(remote);
  while (!table.empty()) {
    const auto eol = table.find('\n');
    std::string_view line = table.substr(0, eol);
    table.remove_prefix(eol == std::string_view::npos ? table.size() : eol + 1);
    next_field(line);  // "sl:"
    if (next_field(line) != want_local || next_field(line) != want_remote) {
      continue;
    }
    for (int i = 0; i < 4; ++i) {
      next_field(line);  // st, tx:rx, tr:when, retrnsmt
    }
    const auto uid_text = next_field(line);
    std::uint32_t uid = 0;
    const auto [end, ec] = std::from_chars(uid_text.data(), uid_text.data() + uid_text.size(), uid);
    if (ec == std::errc{} && end == uid_text.data() + uid_text.size() && !uid_text.empty()) {
      return uid;
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> tcp_peer_uid(tcp::socket& connected) {
  error_code ec;
  const auto ours = connected.local_endpoint(ec);
  const auto theirs = connected.remote_endpoint(ec);
  if (ec) {
    return std::nullopt;
  }
  // The server's accepted socket: its local end is our remote end.
  const char* path = theirs.address().is_v4() ? "/proc/net/tcp" : "/proc/net/tcp6";
  return find_socket_uid(read_table(path), theirs, ours);
}

}  // namespace airlock::proxy::control

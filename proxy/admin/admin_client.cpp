#include "proxy/admin/admin_client.hpp"

#include <openssl/crypto.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <variant>
#include <vector>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/src.hpp>  // header-only Boost.JSON, compiled in this one file

#include "config/load.hpp"
#include "proxy/admin/admin_socket.hpp"
#include "proxy/admin/control_server.hpp"
#include "proxy/admin/peer_identity.hpp"
#include "proxy/admin/read_fully.hpp"
#include "proxy/io/asio.hpp"

namespace airlock::proxy::control {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

constexpr std::string_view usage =
    "usage: airlock revoke [--admin unix:PATH | --admin http://IP:PORT] [--token-file FILE] "
    "[--config FILE]\n"
    "       airlock push NAME [same options] < value\n"
    "options: --server-uid N (the UID airlock runs as; default this user's)\n";
// Revoke hooks take up to 5 s each; the receipt comes after them.
constexpr auto answer_timeout = std::chrono::seconds(60);

struct unix_target {
  std::string path;
};
using target = std::variant<unix_target, tcp::endpoint>;

// "unix:/run/airlock-admin/admin.sock", "/path", "http://127.0.0.1:9901", "[::1]:9901".
// Only address literals: a name could resolve elsewhere than airlock bound.
std::optional<target> parse_admin(std::string_view text, std::string& why) {
  if (text.substr(0, 5) == "unix:") {
    text.remove_prefix(5);
  }
  if (!text.empty() && text.front() == '/') {
    return unix_target{std::string(text)};
  }
  if (text.substr(0, 7) == "http://") {
    text.remove_prefix(7);
  }
  while (!text.empty() && text.back() == '/') {
    text.remove_suffix(1);
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    why = "expected unix:PATH or http://IP:PORT";
    return std::nullopt;
  }
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  unsigned port = 0;
  const auto port_text = text.substr(colon + 1);
  const auto [end, perr] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec || perr != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    why = "expected an IP address literal and port (a name may resolve elsewhere)";
    return std::nullopt;
  }
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

target from_config(const config::config& cfg) {
  if (!cfg.admin.socket.empty() || !cfg.admin.listen) {
    return unix_target{cfg.admin.socket};
  }
  return tcp::endpoint(asio::ip::make_address(cfg.admin.listen->host), cfg.admin.listen->port);
}

// The process answering must run as the expected user (this one, unless --server-uid
// says otherwise): not root, not the owner of a directory someone else may have made.
// Anyone else holding the socket or port could be the agent, waiting for the token.
std::optional<std::string> untrusted_server(std::optional<std::uint32_t> uid,
                                            std::uint32_t expected, const std::string& where) {
  if (uid && *uid == expected) {
    return std::nullopt;
  }
  return "the process serving " + where + " runs as uid " +
         (uid ? std::to_string(*uid) : std::string("unknown")) + ", not as uid " +
         std::to_string(expected) + " (airlock's; --server-uid to name another): not sending " +
         "the request";
}

// The connect, write and read here are synchronous, so the deadline is the socket's own.
void set_io_timeout(int fd) {
  timeval tv{};
  tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(answer_timeout).count();
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

template <class Stream>
std::optional<std::string> exchange(Stream& stream, const http::request<http::string_body>& req,
                                    http::response<http::string_body>& res) {
  error_code ec;
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1024 * 1024);
  if (!ec) {
    http::read(stream, buffer, parser, ec);
  }
  if (ec) {
    return ec.message();
  }
  res = parser.release();
  return std::nullopt;
}

// Sends req to the target; the answer, or why there is none.
std::optional<std::string> send(const target& to, std::uint32_t server_uid,
                                const http::request<http::string_body>& req,
                                http::response<http::string_body>& res) {
  asio::io_context io;
  error_code ec;
  if (const auto* u = std::get_if<unix_target>(&to)) {
    local_protocol::socket sock(io);
    sock.connect(local_protocol::endpoint(u->path), ec);
    if (ec) {
      return u->path + ": " + ec.message();
    }
    if (auto why = untrusted_server(peer_uid(sock), server_uid, u->path)) {
      return why;
    }
    set_io_timeout(sock.native_handle());
    return exchange(sock, req, res);
  }
  const auto& ep = std::get<tcp::endpoint>(to);
  const std::string where = ep.address().to_string() + ":" + std::to_string(ep.port());
  tcp::socket sock(io);
  sock.open(ep.protocol(), ec);
  if (!ec) {
    set_io_timeout(sock.native_handle());
    sock.connect(ep, ec);
  }
  if (ec) {
    return where + ": " + ec.message();
  }
  if (auto why = untrusted_server(tcp_peer_uid(sock), server_uid, where)) {
    return why;
  }
  return exchange(sock, req, res);
}

}  // namespace

std::optional<std::string> receipt_problem(int status, std::string_view body) {
  if (status != 200) {
    return "the admin API answered " + std::to_string(status);
  }
  error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return std::string("the answer is not a JSON receipt");
  }
  const auto& o = v.as_object();
  const auto text = [&o](std::string_view key) -> std::string {
    const auto* field = o.if_contains(key);
    return field != nullptr && field->is_string() ? std::string(field->as_string()) : "";
  };
  if (text("phase") != "revoked") {
    return "the receipt's phase is \"" + text("phase") + "\", not \"revoked\"";
  }
  const auto* present = o.if_contains("still_present");
  if (present == nullptr || !present->is_array()) {
    return std::string("the receipt does not list the secrets still present");
  }
  if (!present->as_array().empty()) {
    return "secrets still hold a value: " + json::serialize(*present);
  }
  if (text("result") != "revoked") {
    return "the receipt's result is \"" + text("result") + "\", not \"revoked\"";
  }
  // Wiped here, but a key an issuer did not revoke still works elsewhere.
  if (const auto* hooks = o.if_contains("hooks"); hooks != nullptr && hooks->is_array()) {
    for (const auto& h : hooks->as_array()) {
      const auto* status = h.is_object() ? h.as_object().if_contains("status") : nullptr;
      const bool ok = status != nullptr && status->is_int64() && status->as_int64() >= 200 &&
                      status->as_int64() < 300;
      if (!ok) {
        return "a revoke hook did not succeed: " + json::serialize(h);
      }
    }
  }
  return std::nullopt;
}

namespace {

struct admin_call {
  target to;
  std::uint32_t server_uid = static_cast<std::uint32_t>(::geteuid());
  std::string token_file;
  std::vector<std::string> positional;  // what the command takes besides the options
};

// The options every admin command shares; nullopt (after saying why) with the exit code.
std::variant<admin_call, int> parse_call(std::string_view command, int argc, char** argv) {
  std::optional<target> to;
  std::string token_file;
  std::optional<config::config> cfg;
  admin_call call;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--") {
      call.positional.emplace_back(arg);
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "airlock " << command << ": " << arg << " needs a value\n" << usage;
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--admin") {
      std::string why;
      to = parse_admin(value, why);
      if (!to) {
        std::cerr << "airlock " << command << ": --admin \"" << value << "\": " << why << "\n";
        return 2;
      }
    } else if (arg == "--token-file") {
      token_file = value;
    } else if (arg == "--server-uid") {
      unsigned long uid = 0;
      const auto [end, perr] = std::from_chars(value.data(), value.data() + value.size(), uid);
      if (perr != std::errc{} || end != value.data() + value.size() || uid > 4294967294ul) {
        std::cerr << "airlock " << command << ": --server-uid takes a numeric user ID\n";
        return 2;
      }
      call.server_uid = static_cast<std::uint32_t>(uid);
    } else if (arg == "--config") {
      try {
        cfg = config::load_file(value);
      } catch (const config::config_error& e) {
        std::cerr << e.what() << "\n";
        return 1;
      }
    } else {
      std::cerr << "airlock " << command << ": unknown argument \"" << arg << "\"\n" << usage;
      return 2;
    }
  }
  if (!cfg) {
    cfg = config::embedded_default();
  }
  call.to = to ? *to : from_config(*cfg);
  call.token_file = token_file.empty() ? cfg->admin.token_file : token_file;
  return call;
}

// Sends req with the token (when there is one); the answer, or 1 after saying why.
std::optional<http::response<http::string_body>> call_admin(std::string_view command,
                                                            const admin_call& call,
                                                            http::request<http::string_body>& req) {
  req.set(http::field::host, "airlock");
  req.set(http::field::user_agent, "airlock-" + std::string(command));
  if (!call.token_file.empty()) {
    try {
      const auto token = read_token_file(call.token_file);
      std::string value = "Bearer ";
      value += token.reveal();
      req.set(http::field::authorization, value);
      OPENSSL_cleanse(value.data(), value.size());
    } catch (const std::exception& e) {
      std::cerr << "airlock " << command << ": " << e.what() << "\n";
      return std::nullopt;
    }
  }
  req.prepare_payload();
  http::response<http::string_body> res;
  const auto failed = send(call.to, call.server_uid, req, res);
  // The header copy of the token and the body (a secret, for push) are wiped whatever
  // happened.
  if (auto auth = req.find(http::field::authorization); auth != req.end()) {
    auto v = auth->value();
    OPENSSL_cleanse(const_cast<char*>(v.data()), v.size());
  }
  OPENSSL_cleanse(req.body().data(), req.body().size());
  if (failed) {
    std::cerr << "airlock " << command << ": " << *failed << "\n";
    return std::nullopt;
  }
  return res;
}

}  // namespace

int run_revoke(int argc, char** argv) {
  auto parsed = parse_call("revoke", argc, argv);
  if (const int* code = std::get_if<int>(&parsed)) {
    return *code;
  }
  const auto& call = std::get<admin_call>(parsed);
  if (!call.positional.empty()) {
    std::cerr << "airlock revoke: unexpected \"" << call.positional.front() << "\"\n" << usage;
    return 2;
  }
  http::request<http::string_body> req{http::verb::post, "/v1/revoke", 11};
  const auto res = call_admin("revoke", call, req);
  if (!res) {
    return 1;
  }
  std::cout << res->body();
  if (const auto problem = receipt_problem(res->result_int(), res->body())) {
    std::cerr << "airlock revoke: not revoked: " << *problem << "\n";
    return 1;
  }
  return 0;
}

int run_push(int argc, char** argv) {
  auto parsed = parse_call("push", argc, argv);
  if (const int* code = std::get_if<int>(&parsed)) {
    return *code;
  }
  const auto& call = std::get<admin_call>(parsed);
  if (call.positional.size() != 1) {
    std::cerr << "airlock push: name the secret: airlock push NAME < value\n" << usage;
    return 2;
  }
  http::request<http::string_body> req{http::verb::put, "/v1/secrets/" + call.positional[0], 11};
  // Read straight into the body, in one block sized for the largest value accepted, so
  // no reallocation leaves a copy behind.
  constexpr std::size_t max_value = 64 * 1024;
  auto& body = req.body();
  body.resize(max_value + 1);
  // read(2), not std::cin: a stream buffer would keep its own copy of the value.
  const std::size_t got = read_fully(STDIN_FILENO, body);
  if (got > max_value) {
    OPENSSL_cleanse(body.data(), body.size());
    std::cerr << "airlock push: the value is over 64 KiB\n";
    return 1;
  }
  OPENSSL_cleanse(body.data() + got, body.size() - got);
  body.resize(got);
  const auto res = call_admin("push", call, req);
  if (!res) {
    return 1;
  }
  std::cout << res->body();
  error_code ec;
  const json::value v = json::parse(res->body(), ec);
  const auto* result = !ec && v.is_object() ? v.as_object().if_contains("result") : nullptr;
  if (res->result_int() != 200 || result == nullptr || !result->is_string() ||
      result->as_string() != "stored") {
    std::cerr << "airlock push: not stored: the admin API answered " << res->result_int() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace airlock::proxy::control

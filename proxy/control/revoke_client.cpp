#include "proxy/control/revoke_client.hpp"

#include <openssl/crypto.h>

#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "config/load.hpp"
#include "proxy/asio.hpp"
#include "proxy/control/control_server.hpp"

namespace airlock::proxy::control {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::string_view usage =
    "usage: airlock revoke [--admin http://HOST:PORT] [--token-file FILE] [--config FILE]\n";

struct target {
  std::string host = "127.0.0.1";
  std::string port = "9901";
};

// "http://127.0.0.1:9901" or "127.0.0.1:9901" or "[::1]:9901".
std::optional<target> parse_admin_url(std::string_view url) {
  if (url.substr(0, 7) == "http://") {
    url.remove_prefix(7);
  }
  while (!url.empty() && url.back() == '/') {
    url.remove_suffix(1);
  }
  const auto colon = url.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == url.size()) {
    return std::nullopt;
  }
  target t;
  t.host = std::string(url.substr(0, colon));
  if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']') {
    t.host = t.host.substr(1, t.host.size() - 2);
  }
  t.port = std::string(url.substr(colon + 1));
  return t;
}

}  // namespace

int run_revoke(int argc, char** argv) {
  target to;
  std::string token_file;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "airlock revoke: " << arg << " needs a value\n" << usage;
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--admin") {
      auto parsed = parse_admin_url(value);
      if (!parsed) {
        std::cerr << "airlock revoke: --admin expects http://HOST:PORT, got \"" << value << "\"\n";
        return 2;
      }
      to = *parsed;
    } else if (arg == "--token-file") {
      token_file = value;
    } else if (arg == "--config") {
      try {
        const auto cfg = config::load_file(value);
        to.host = cfg.admin.listen.host;
        to.port = std::to_string(cfg.admin.listen.port);
        if (token_file.empty()) {
          token_file = cfg.admin.token_file;
        }
      } catch (const config::config_error& e) {
        std::cerr << e.what() << "\n";
        return 1;
      }
    } else {
      std::cerr << "airlock revoke: unknown argument \"" << arg << "\"\n" << usage;
      return 2;
    }
  }

  http::request<http::string_body> req{http::verb::post, "/v1/revoke", 11};
  req.set(http::field::host, to.host);
  req.set(http::field::user_agent, "airlock-revoke");
  if (!token_file.empty()) {
    try {
      const auto token = read_token_file(token_file);
      std::string value = "Bearer ";
      value += token.reveal();
      req.set(http::field::authorization, value);
      OPENSSL_cleanse(value.data(), value.size());
    } catch (const std::exception& e) {
      std::cerr << "airlock revoke: " << e.what() << "\n";
      return 1;
    }
  }
  req.prepare_payload();

  asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  error_code ec;
  const auto endpoints = resolver.resolve(to.host, to.port, ec);
  if (!ec) {
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(endpoints, ec);
  }
  if (!ec) {
    http::write(stream, req, ec);
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) {
    http::read(stream, buffer, res, ec);
  }
  if (ec) {
    std::cerr << "airlock revoke: " << to.host << ":" << to.port << ": " << ec.message() << "\n";
    return 1;
  }
  std::cout << res.body();
  if (res.result_int() != 200) {
    std::cerr << "airlock revoke: admin API answered " << res.result_int() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace airlock::proxy::control

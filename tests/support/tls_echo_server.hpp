#pragma once
// An HTTPS upstream that shows what reached it: each request (head and Content-Length
// body), decrypted, is recorded as received, and by default answered with a 200 whose
// body is that request's head, byte for byte, so the client can see the request line
// and every field the upstream got. Handshakes and connections are counted, so a test
// can tell "refused during the handshake" from "nothing was sent" from "sent".

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/loopback_server.hpp"
#include "tests/support/request_log.hpp"
#include "tests/support/test_certs.hpp"

namespace airlock::test {

struct tls_echo_options {
  cert_pair cert;  // what the server presents
  // Builds the whole response to one request (head and body as received); empty
  // function: echo_response.
  std::function<std::string(const std::string& request)> respond;
  // The newest protocol the server speaks (TLS1_VERSION: only TLS 1.0, with the
  // security level lowered so OpenSSL 3 agrees to it); 0: the library's defaults.
  int max_version = 0;
  // Builds the response as pieces written one by one, part_gap apart (a stream, or bytes
  // a proxy must read in several reads); when set, it is used instead of respond.
  std::function<std::vector<std::string>(const std::string& request)> respond_parts{};
  std::chrono::milliseconds part_gap{0};
  // Closes the connection after each response (the end of a body without framing).
  bool close_after_response = false;
};

class tls_echo_server {
 public:
  explicit tls_echo_server(tls_echo_options opts);

  // Closes the listener and every connection now (the destructor does it too).
  void stop() { server_.stop(); }

  std::uint16_t port() const { return server_.port(); }
  // "127.0.0.1:PORT".
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }

  std::size_t connections() const { return server_.connections_accepted(); }
  // TLS handshakes that completed, and how many of them resumed an earlier session.
  std::size_t handshakes() const;
  std::size_t resumed() const;
  // Every decrypted byte, connection after connection in order of arrival.
  std::string received() const { return log_.received(); }
  // Each request as received, in order.
  std::vector<std::string> requests() const { return log_.requests(); }

  // Blocks until `count` requests have arrived or the timeout passes; true if they did.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
    return log_.wait_for_requests(count, timeout);
  }

 private:
  asio::awaitable<void> serve(tcp::socket sock);
  // Writes the response to `request`; false when the connection is to end.
  asio::awaitable<bool> answer(asio::ssl::stream<tcp::socket>& tls, const std::string& request);

  tls_echo_options opts_;
  asio::ssl::context ctx_;
  mutable std::mutex mutex_;
  std::size_t handshakes_ = 0;
  std::size_t resumed_ = 0;
  request_log log_;
  loopback_server server_;  // last: stops before the state above goes away
};

// 200 text/plain whose body is the request's head (through its CRLFCRLF).
std::string echo_response(const std::string& request);

// Every value of the field `name` (case-insensitive) in an HTTP head, in order, with
// surrounding whitespace trimmed: a field sent twice shows up twice.
std::vector<std::string> field_values(std::string_view head, std::string_view name);

// The first line of a head, without its CRLF.
std::string request_line(std::string_view head);

}  // namespace airlock::test

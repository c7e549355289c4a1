#pragma once
// A TCP client for exact bytes: what curl would never send (smuggling attempts,
// bare LF, slow drips) and what needs timing (each SSE event as it arrives). Blocking
// POSIX socket with poll-based timeouts; never raises SIGPIPE.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

// OpenSSL's types, so this header does not pull its headers into every test.
struct ssl_st;
struct ssl_ctx_st;

namespace airlock::test {

using std::chrono::milliseconds;

// A response as it came off the wire.
struct http_response {
  int status = 0;
  std::string head;      // status line and fields, with the final CRLFCRLF
  std::string body;      // decoded when chunked
  std::string trailers;  // a chunked body's trailer field lines, each with its CRLF

  // Value of the first field with that name (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

class raw_client {
 public:
  // Connects to 127.0.0.1:port; throws std::runtime_error on failure or timeout.
  explicit raw_client(std::uint16_t port, milliseconds timeout = milliseconds(2000));
  ~raw_client();
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  // Sends every byte; false if the peer has closed or reset the connection.
  bool send(std::string_view bytes);

  // Half-closes: the peer sees end of input. Over TLS: close_notify, then the TCP half-close.
  void shutdown_send();

  // Turns the connection into a TLS client from here on (after a CONNECT's 200, to speak
  // exact bytes inside an intercepted tunnel): SNI and name verification for host,
  // certificates verified against ca_file. Returns an empty string on success, else
  // why the handshake failed. Bytes still buffered from before are discarded.
  std::string start_tls(const std::string& host, const std::filesystem::path& ca_file,
                        milliseconds timeout = milliseconds(5000));

  // Reads what arrives within timeout (at most one read). Empty when the timeout
  // passed or the connection ended; closed() tells which.
  std::string read_some(milliseconds timeout);

  // Reads until the buffered input contains needle, the connection ends or the
  // timeout passes; returns whether needle was found. Input stays buffered.
  bool read_until(std::string_view needle, milliseconds timeout);

  // Reads one complete response (Content-Length, chunked, or until close when it has
  // neither). nullopt on timeout or when the connection ends first. Set bodiless for
  // answers to HEAD and 2xx answers to CONNECT: they have no body whatever their fields say.
  std::optional<http_response> read_response(milliseconds timeout, bool bodiless = false);

  // Reads and discards until the peer closes or resets the connection; true if that
  // happened within timeout.
  bool wait_closed(milliseconds timeout);

  // True once end of input or a reset was seen.
  bool closed() const { return closed_; }
  // True when the end was a reset rather than an orderly close.
  bool reset() const { return reset_; }

  // Bytes received and not yet taken by read_response.
  const std::string& buffered() const { return buffer_; }
  std::string take_buffered();

 private:
  // One read into buffer_; false on timeout or end of input.
  bool fill(std::chrono::steady_clock::time_point deadline);

  // Waits for the socket to become ready for what OpenSSL asked for; false on timeout.
  bool wait_ssl(int ssl_error, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  bool closed_ = false;
  bool reset_ = false;
  std::string buffer_;
};

// A 127.0.0.1 port that had a listener a moment ago and now has none: connecting
// to it is refused (until something else happens to take it).
std::uint16_t unused_port();

// Tries to connect to 127.0.0.1:port; 0 when it connected, otherwise the errno
// (ECONNREFUSED, ETIMEDOUT for the timeout).
int try_connect(std::uint16_t port, milliseconds timeout = milliseconds(1000));

}  // namespace airlock::test

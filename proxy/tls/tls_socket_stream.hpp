#pragma once
// TLS over a TCP socket without Asio's ssl::stream: OpenSSL reads and writes the socket's
// file descriptor itself (non-blocking, through a small BIO of ours), and an operation that
// cannot go on waits for the socket to be ready and retries. No BIO pair and no staging
// buffers while idle: a connection holds the SSL object, whose record buffers
// SSL_MODE_RELEASE_BUFFERS frees between records.
//
// Reads and writes may run at once from two coroutines on the connection's thread (a
// tunnel pumps both directions): OpenSSL allows that as long as calls do not overlap,
// which they cannot on one thread. What it does not allow is a second write while one
// that returned WANT_WRITE is pending, and a read can write (the reply to a TLS 1.3 key
// update): OpenSSL fails that read with "bad length". So the BIO never refuses a write:
// what the socket does not take is kept (at most about one record, since write() hands
// OpenSSL one record at a time) and sent by the operation that made it before it returns,
// or, for a read while write() is running, by that write. A writer that gets WANT_READ (the
// rest of a post-handshake message) waits for input and retries; it cannot take
// application data off the socket, since renegotiation is off and TLS 1.3 forbids
// interleaving it with a handshake message.
//
// Errors are error_codes, never exceptions: eof for the peer's close_notify,
// asio::ssl::error::stream_truncated for a transport EOF without one (as ssl::stream
// reports them), the errno of a failed socket call (connection_reset, broken_pipe), an
// OpenSSL error code in asio's ssl category otherwise, operation_aborted when the socket
// is cancelled (the deadline) and bad_descriptor once it is closed.

#include <openssl/ssl.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <tuple>

#include "proxy/io/asio.hpp"
#include "proxy/tls/handshake_limit.hpp"

namespace airlock::proxy {

enum class tls_role { client, server };

class tls_socket_stream {
 public:
  using io_result = std::tuple<error_code, std::size_t>;

  // Takes ownership of ssl (from SSL_new) and attaches it to sock, which must outlive the
  // stream and keep its address. A failure to attach shows as the handshake's error.
  tls_socket_stream(tcp::socket& sock, SSL* ssl);
  ~tls_socket_stream();
  tls_socket_stream(const tls_socket_stream&) = delete;
  tls_socket_stream& operator=(const tls_socket_stream&) = delete;

  SSL* native_handle() const { return ssl_; }

  // Runs the handshake as role. early: bytes already read from the socket (a ClientHello
  // that arrived with the CONNECT); they are consumed before the socket is read.
  awaitable<error_code> handshake(tls_role role, std::string_view early = {});

  // Reads at least one byte of application data (zero only for an empty buffer).
  awaitable<io_result> read_some(asio::mutable_buffer b);

  // Writes every buffer completely; on error, the count says how much went out.
  awaitable<io_result> write(std::span<const asio::const_buffer> bufs);

  // Sends close_notify; does not wait for the peer's.
  awaitable<error_code> shutdown();

 private:
  friend struct tls_socket_bio;

  // The error_code for an SSL_get_error result that is not a WANT_*; clears the queue.
  error_code map_error(int ssl_error);

  bool has_output() const { return out_used_ < out_.size(); }
  // Sends kept output without waiting; 0, or the errno of a failed send.
  int send_kept();
  // Sends all kept output, waiting for room as needed.
  awaitable<error_code> flush();

  tcp::socket& sock_;
  SSL* ssl_;
  std::string early_;           // handshake bytes read before the TLS layer existed
  std::size_t early_used_ = 0;  // how many of them OpenSSL has taken
  std::string out_;             // output the socket has not taken yet; empty when idle
  std::size_t out_used_ = 0;    // how much of out_ has been sent
  int last_errno_ = 0;          // of the last failed socket call, for SSL_ERROR_SYSCALL
  bool peer_eof_ = false;       // the socket returned end of input
  bool writing_ = false;        // a write() is under way and will send kept output
  handshake_limit limit_;       // a client's input while this is a handshaking server
};

}  // namespace airlock::proxy

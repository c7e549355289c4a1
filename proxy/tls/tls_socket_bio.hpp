#pragma once
// OpenSSL's own socket BIO (SSL_set_fd) cannot hand over bytes read before the TLS layer
// existed (the ClientHello buffered with the CONNECT head), writes with write(2), which
// raises SIGPIPE on a reset connection, and refuses writes when the socket is full, which
// leaves OpenSSL with a pending write (see the header). This one serves those bytes first,
// then recv/send on the descriptor, non-blocking per call (MSG_DONTWAIT), without signals
// (MSG_NOSIGNAL), and keeps what the socket does not take. It reads the descriptor from the
// socket on every call, so a closed socket fails with EBADF instead of reaching a reused
// number.

#include <openssl/ssl.h>

namespace airlock::proxy {

class tls_socket_stream;

struct tls_socket_bio {
  static tls_socket_stream& owner(BIO* b);
  static int write(BIO* b, const char* data, int len);
  static int read(BIO* b, char* out, int len);
  static long ctrl(BIO* b, int cmd, long num, void* ptr);
  static int create(BIO* b);
  // The method, made once; every tls_socket_stream's BIO uses it.
  static const BIO_METHOD* method();
};

}  // namespace airlock::proxy

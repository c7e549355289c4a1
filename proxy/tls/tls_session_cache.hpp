#pragma once
// The last resumable TLS session per upstream, per worker (no locks), so a new
// upstream connection to a known host resumes instead of a full handshake. Bounded:
// when full, the whole cache is dropped (hosts are few; simpler than an LRU).

#include <openssl/ssl.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace airlock::proxy {

class tls_session_cache {
 public:
  explicit tls_session_cache(std::size_t capacity = 256) : capacity_(capacity) {}
  ~tls_session_cache() { clear(); }
  tls_session_cache(const tls_session_cache&) = delete;
  tls_session_cache& operator=(const tls_session_cache&) = delete;

  // Offers the cached session for key to ssl before its handshake; false if none.
  bool apply(std::string_view key, SSL* ssl) const {
    auto it = sessions_.find(std::string(key));
    return it != sessions_.end() && SSL_set_session(ssl, it->second) == 1;
  }

  // Keeps a copy of ssl's session for key when it can be resumed (call after a
  // response, when a TLS 1.3 ticket has arrived).
  void remember(std::string_view key, SSL* ssl) {
    // A copy: OpenSSL marks the connection's own session unresumable when that
    // connection is freed without a TLS shutdown, as pooled ones are.
    SSL_SESSION* current = SSL_get0_session(ssl);
    SSL_SESSION* session = current != nullptr ? SSL_SESSION_dup(current) : nullptr;
    if (session == nullptr) {
      return;
    }
    if (SSL_SESSION_is_resumable(session) != 1) {
      SSL_SESSION_free(session);
      return;
    }
    if (sessions_.size() >= capacity_) {
      clear();
    }
    auto [it, inserted] = sessions_.try_emplace(std::string(key), session);
    if (!inserted) {
      SSL_SESSION_free(it->second);
      it->second = session;
    }
  }

  std::size_t size() const { return sessions_.size(); }

 private:
  void clear() {
    for (auto& [key, session] : sessions_) {
      SSL_SESSION_free(session);
    }
    sessions_.clear();
  }

  std::unordered_map<std::string, SSL_SESSION*> sessions_;
  std::size_t capacity_;
};

}  // namespace airlock::proxy

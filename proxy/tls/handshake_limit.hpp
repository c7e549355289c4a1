#pragma once
// What a client may make a server handshake hold. OpenSSL sizes its handshake buffer to
// the length a ClientHello announces (up to 128 KiB) before the bytes arrive, and keeps
// whatever arrives until the message is whole: an agent could make every intercepted
// connection hold that much. The socket BIO hands OpenSSL a client's handshake input
// through this limit: the first record must be a handshake record opening with a
// ClientHello that announces at most max_input bytes, and no more than max_input bytes
// are read before the handshake ends. A real ClientHello is a few KiB, in one record.

#include <array>
#include <cstddef>

namespace airlock::proxy {

// The first nine bytes of a server handshake's input (record header, then the handshake
// message header): true when they open a ClientHello of at most max bytes.
bool acceptable_client_hello_start(const std::array<unsigned char, 9>& first, std::size_t max);

class handshake_limit {
 public:
  static constexpr std::size_t max_input = 32 * 1024;

  void start() {
    active_ = true;
    left_ = max_input;
    seen_ = 0;
  }
  void stop() { active_ = false; }

  // How much of a read of `want` bytes may go ahead; 0 when the limit is reached.
  std::size_t allow(std::size_t want) const { return active_ && want > left_ ? left_ : want; }

  // Accounts n bytes about to be handed to OpenSSL; false when they must not be.
  bool take(const char* data, std::size_t n);

 private:
  bool active_ = false;
  std::size_t left_ = 0;
  std::array<unsigned char, 9> first_{};
  std::size_t seen_ = 0;
};

}  // namespace airlock::proxy

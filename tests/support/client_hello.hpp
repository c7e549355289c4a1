#pragma once
// Raw TLS records for tests of how airlock treats a ClientHello it must not buffer whole.

#include <cstddef>
#include <string>

namespace airlock::test {

// TLS records carrying one handshake message that announces `announced` bytes, of which
// only `sent` follow (sent == announced: a complete, if meaningless, ClientHello).
inline std::string client_hello_records(std::size_t announced, std::size_t sent) {
  std::string message = {'\x01',
                         static_cast<char>(announced >> 16),
                         static_cast<char>((announced >> 8) & 0xff),
                         static_cast<char>(announced & 0xff),
                         '\x03',
                         '\x03'};
  message.append(sent - 2, 'a');
  std::string records;
  for (std::size_t at = 0; at < message.size(); at += 16384) {
    const std::string part = message.substr(at, 16384);
    records += {'\x16', '\x03', '\x01', static_cast<char>(part.size() >> 8),
                static_cast<char>(part.size() & 0xff)};
    records += part;
  }
  return records;
}

}  // namespace airlock::test

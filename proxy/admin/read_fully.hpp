#pragma once
// read(2) until into is full, end of input or an error: for secrets (a token file, a
// pushed value) that must land in one buffer of the caller's, never in a stream's own.

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <span>

namespace airlock::proxy::control {

// The bytes read; an error ends the read like end of input does.
inline std::size_t read_fully(int fd, std::span<char> into) {
  std::size_t got = 0;
  while (got < into.size()) {
    const auto n = ::read(fd, into.data() + got, into.size() - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  return got;
}

}  // namespace airlock::proxy::control

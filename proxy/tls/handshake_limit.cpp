#include "proxy/tls/handshake_limit.hpp"

namespace airlock::proxy {

bool acceptable_client_hello_start(const std::array<unsigned char, 9>& first, std::size_t max) {
  constexpr unsigned char handshake_record = 22;
  constexpr unsigned char client_hello = 1;
  const std::size_t record = static_cast<std::size_t>(first[3]) << 8 | first[4];
  const std::size_t announced =
      static_cast<std::size_t>(first[6]) << 16 | static_cast<std::size_t>(first[7]) << 8 | first[8];
  // The message header must be in the first record, so the announced length is the
  // ClientHello's own, not something a split header could hide.
  return first[0] == handshake_record && record >= 4 && first[5] == client_hello &&
         announced <= max;
}

bool handshake_limit::take(const char* data, std::size_t n) {
  if (!active_) {
    return true;
  }
  const bool had_start = seen_ == first_.size();
  for (std::size_t i = 0; i < n && seen_ < first_.size(); ++i) {
    first_[seen_++] = static_cast<unsigned char>(data[i]);
  }
  left_ -= n < left_ ? n : left_;
  return had_start || seen_ < first_.size() || acceptable_client_hello_start(first_, max_input);
}

}  // namespace airlock::proxy

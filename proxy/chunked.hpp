#pragma once
// Finds where a chunked body ends without decoding it, so the proxy can relay the
// bytes unchanged and still know when the message is over. Strict: bare CR or LF,
// chunk sizes over 2^60, oversized extension or trailer lines and control bytes are
// errors, which is what keeps two parsers from disagreeing on a message's end.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace airlock::proxy::http {

class chunked_scanner {
 public:
  struct result {
    std::size_t consumed = 0;  // bytes of data that belong to this message
    bool done = false;         // the last chunk and trailers are complete
    bool error = false;        // malformed framing; nothing after consumed may be trusted
  };

  // Scans the next bytes of the body. Stops at the end of the message, so bytes after
  // `consumed` belong to the next message on the connection.
  result feed(std::string_view data);

  bool done() const { return state_ == state::done; }
  void reset() { *this = chunked_scanner{}; }

  // Makes any trailer field an error, found before a byte of it is consumed: on a
  // request that carries an injected credential, a trailer could repeat the field the
  // rule set, after the head was checked.
  void reject_trailers() { reject_trailers_ = true; }

 private:
  enum class state : std::uint8_t {
    size_start,
    size,
    ext,
    size_lf,
    data,
    data_cr,
    data_lf,
    trailer_start,
    trailer,
    trailer_lf,
    final_lf,
    done,
    error
  };

  state state_ = state::size_start;
  std::uint64_t remaining_ = 0;
  std::size_t line_bytes_ = 0;     // bytes in the current size or trailer line
  std::size_t trailer_bytes_ = 0;  // all trailer bytes so far
  bool reject_trailers_ = false;
};

}  // namespace airlock::proxy::http

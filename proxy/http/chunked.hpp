#pragma once
// Finds where a chunked body ends without decoding it, so the proxy can relay the
// bytes unchanged and still know when the message is over. Strict, because the bytes go
// on verbatim and the next parser must read them as airlock did: chunk sizes are bare
// hex up to 2^60 (no sign, "0x" or whitespace), extensions follow RFC 9112 7.1.1 exactly
// (";" name ["=" token or quoted-string], BWS only where the grammar puts it), trailers
// are field lines (token ":" value, no obs-fold), and bare CR or LF, control bytes and
// oversized lines are errors.

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

  // As feed, but stops after the first run of chunk data, which `run` then views (empty
  // when the bytes consumed were framing only): for re-framing a body airlock rewrites.
  result feed_data(std::string_view data, std::string_view& run);

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
    ext_ws,           // BWS after the size or a value: only ";" may follow
    ext_name_start,   // after ";" (BWS allowed)
    ext_name,         // in a chunk-ext-name token
    ext_name_ws,      // BWS after a name: "=" or ";" follows
    ext_value_start,  // after "=" (BWS allowed)
    ext_token,        // in a token value
    ext_quoted,       // in a quoted-string value
    ext_quoted_pair,  // after a backslash in one
    ext_value_end,    // after the closing quote
    size_lf,
    data,
    data_cr,
    data_lf,
    trailer_start,
    trailer_name,
    trailer_value,
    trailer_lf,
    final_lf,
    done,
    error
  };

  result scan(std::string_view data, std::string_view* run);

  // The state after one byte of a size line or of the trailer section; the byte is
  // consumed unless that is the error state.
  state after_size_line_byte(char c);
  state after_trailer_byte(char c) const;

  state state_ = state::size_start;
  std::uint64_t remaining_ = 0;
  std::size_t line_bytes_ = 0;     // bytes in the current size or trailer line
  std::size_t trailer_bytes_ = 0;  // all trailer bytes so far
  bool reject_trailers_ = false;
};

}  // namespace airlock::proxy::http

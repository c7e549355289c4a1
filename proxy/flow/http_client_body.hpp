#pragma once
// The body of a response airlock reads for itself (a revoke hook's answer), collected as
// it arrives: framing from http::analyze_response, chunked framing checked by the strict
// http::chunked_scanner and then removed, and a cap, so a peer that never stops sending
// costs at most that many bytes. Pure: bytes in, a state out; no I/O.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/chunked.hpp"
#include "proxy/http/message.hpp"

namespace airlock::proxy {

class body_collector {
 public:
  enum class state : std::uint8_t {
    more,       // feed what the peer sends next
    done,       // body() is the whole body
    malformed,  // chunked framing the scanner refused, or a body cut short
    too_large,  // more than max bytes (chunk framing counted)
  };

  // framing: http::body_kind none, length (content_length bytes), chunked or until_close.
  body_collector(http::body_kind framing, std::uint64_t content_length, std::size_t max);

  // Takes the next bytes read. Bytes past the end of the body are left alone (one request
  // per connection: nothing after it is read).
  state feed(std::string_view data);

  // The peer closed: the end of a body that runs until close, a cut-off body otherwise.
  state at_eof();

  state current() const { return state_; }
  // The body without chunk framing; complete once current() is done.
  const std::string& body() const { return body_; }

 private:
  state take_chunked(std::string_view data);

  http::body_kind framing_;
  std::uint64_t remaining_;  // length: bytes still to come
  std::size_t max_;
  state state_ = state::more;
  http::chunked_scanner scanner_;
  std::string framed_;  // chunked: the bytes as sent, until the last chunk arrives
  std::string body_;
};

// The data of a chunked body whose framing chunked_scanner has accepted (sizes, extensions
// and trailers dropped). Appends to out.
void append_dechunked(std::string_view framed, std::string& out);

}  // namespace airlock::proxy

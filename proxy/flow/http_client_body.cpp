#include "proxy/flow/http_client_body.hpp"

#include <algorithm>

#include "net/hex.hpp"
#include "proxy/http/head.hpp"

namespace airlock::proxy {

body_collector::body_collector(http::body_kind framing, std::uint64_t content_length,
                               std::size_t max)
    : framing_(framing), remaining_(content_length), max_(max) {
  if (framing_ == http::body_kind::none ||
      (framing_ == http::body_kind::length && content_length == 0)) {
    state_ = state::done;
  } else if (framing_ == http::body_kind::length && content_length > max) {
    state_ = state::too_large;  // said up front: nothing of it need be read
  }
}

body_collector::state body_collector::feed(std::string_view data) {
  if (state_ != state::more || data.empty()) {
    return state_;
  }
  switch (framing_) {
    case http::body_kind::length: {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
      body_.append(data.substr(0, n));
      remaining_ -= n;
      state_ = remaining_ == 0 ? state::done : state::more;
      break;
    }
    case http::body_kind::chunked:
      state_ = take_chunked(data);
      break;
    case http::body_kind::until_close:
      if (body_.size() + data.size() > max_) {
        state_ = state::too_large;
      } else {
        body_.append(data);
      }
      break;
    case http::body_kind::none:
      state_ = state::done;
      break;
  }
  return state_;
}

body_collector::state body_collector::take_chunked(std::string_view data) {
  const auto scanned = scanner_.feed(data);
  if (framed_.size() + scanned.consumed > max_) {
    return state::too_large;
  }
  framed_.append(data.substr(0, scanned.consumed));
  if (scanned.error) {
    return state::malformed;
  }
  if (!scanned.done) {
    return state::more;
  }
  append_dechunked(framed_, body_);
  std::string().swap(framed_);
  return state::done;
}

body_collector::state body_collector::at_eof() {
  if (state_ == state::more) {
    state_ = framing_ == http::body_kind::until_close ? state::done : state::malformed;
  }
  return state_;
}

void append_dechunked(std::string_view framed, std::string& out) {
  std::size_t pos = 0;
  while (pos < framed.size()) {
    std::uint64_t size = 0;
    for (int digit = 0; pos < framed.size() && (digit = net::hex_digit(framed[pos])) >= 0; ++pos) {
      size = size * 16 + static_cast<std::uint64_t>(digit);
    }
    // The rest of the size line (extensions) ends at its CRLF: the scanner allowed no CR
    // or LF inside an extension.
    const std::size_t line_end = framed.find("\r\n", pos);
    if (size == 0 || line_end == std::string_view::npos) {
      return;  // the last chunk; what follows is trailers
    }
    pos = line_end + 2;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, framed.size() - pos));
    out.append(framed.substr(pos, n));
    pos += n + 2;  // the data's CRLF
  }
}

}  // namespace airlock::proxy

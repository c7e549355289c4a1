#include "proxy/http/chunked.hpp"

#include <algorithm>

#include "net/hex.hpp"
#include "proxy/http/head.hpp"

namespace airlock::proxy::http {

namespace {

constexpr std::size_t max_line = 4096;           // size line with extensions
constexpr std::size_t max_trailers = 16 * 1024;  // all trailer fields together
constexpr std::uint64_t max_chunk = 1ULL << 60;

bool is_ws(char c) {
  return c == ' ' || c == '\t';
}

bool tchar(char c) {
  return is_tchar(static_cast<unsigned char>(c));
}

// HTAB, SP, VCHAR and obs-text: a field value's bytes and what a quoted-pair may escape.
bool is_field_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

// qdtext: a field char other than DQUOTE and backslash.
bool is_qdtext(char c) {
  return c != '"' && c != '\\' && is_field_char(c);
}

}  // namespace

chunked_scanner::state chunked_scanner::after_size_line_byte(char c) {
  if (c != '\r' && c != '\n' && ++line_bytes_ > max_line) {
    return state::error;
  }
  switch (state_) {
    case state::size_start:
    case state::size: {
      const int v = net::hex_digit(c);
      if (v >= 0) {
        if (remaining_ > (max_chunk >> 4)) {
          return state::error;
        }
        remaining_ = (remaining_ << 4) | static_cast<std::uint64_t>(v);
        return remaining_ > max_chunk ? state::error : state::size;
      }
      if (state_ == state::size_start) {
        return state::error;
      }
      return c == ';'    ? state::ext_name_start
             : is_ws(c)  ? state::ext_ws
             : c == '\r' ? state::size_lf
                         : state::error;
    }
    case state::ext_ws:
      return c == ';' ? state::ext_name_start : is_ws(c) ? state::ext_ws : state::error;
    case state::ext_name_start:
      return tchar(c) ? state::ext_name : is_ws(c) ? state::ext_name_start : state::error;
    case state::ext_name:
      return tchar(c)    ? state::ext_name
             : c == ';'  ? state::ext_name_start
             : c == '='  ? state::ext_value_start
             : is_ws(c)  ? state::ext_name_ws
             : c == '\r' ? state::size_lf
                         : state::error;
    case state::ext_name_ws:
      return c == ';'   ? state::ext_name_start
             : c == '=' ? state::ext_value_start
             : is_ws(c) ? state::ext_name_ws
                        : state::error;
    case state::ext_value_start:
      return c == '"'   ? state::ext_quoted
             : tchar(c) ? state::ext_token
             : is_ws(c) ? state::ext_value_start
                        : state::error;
    case state::ext_token:
      return tchar(c)    ? state::ext_token
             : c == ';'  ? state::ext_name_start
             : is_ws(c)  ? state::ext_ws
             : c == '\r' ? state::size_lf
                         : state::error;
    case state::ext_quoted:
      return c == '"'       ? state::ext_value_end
             : c == '\\'    ? state::ext_quoted_pair
             : is_qdtext(c) ? state::ext_quoted
                            : state::error;
    case state::ext_quoted_pair:
      return is_field_char(c) ? state::ext_quoted : state::error;
    case state::ext_value_end:
      return c == ';'    ? state::ext_name_start
             : is_ws(c)  ? state::ext_ws
             : c == '\r' ? state::size_lf
                         : state::error;
    case state::size_lf:
      line_bytes_ = 0;
      return c != '\n' ? state::error : remaining_ == 0 ? state::trailer_start : state::data;
    default:
      return state::error;
  }
}

chunked_scanner::state chunked_scanner::after_trailer_byte(char c) const {
  switch (state_) {
    case state::trailer_start:
      // A field name, or the CRLF that ends the message. A leading space would be obs-fold.
      if (c == '\r') {
        return state::final_lf;
      }
      return !reject_trailers_ && tchar(c) ? state::trailer_name : state::error;
    case state::trailer_name:
      return tchar(c) ? state::trailer_name : c == ':' ? state::trailer_value : state::error;
    case state::trailer_value:
      return c == '\r' ? state::trailer_lf : is_field_char(c) ? state::trailer_value : state::error;
    case state::trailer_lf:
      return c == '\n' ? state::trailer_start : state::error;
    case state::final_lf:
      return c == '\n' ? state::done : state::error;
    default:
      return state::error;
  }
}

chunked_scanner::result chunked_scanner::feed(std::string_view data) {
  return scan(data, nullptr);
}

chunked_scanner::result chunked_scanner::feed_data(std::string_view data, std::string_view& run) {
  run = {};
  return scan(data, &run);
}

chunked_scanner::result chunked_scanner::scan(std::string_view data, std::string_view* run) {
  result r;
  std::size_t i = 0;
  const std::size_t n = data.size();
  while (i < n && state_ != state::done && state_ != state::error) {
    const char c = data[i];
    switch (state_) {
      case state::data: {
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
        if (run != nullptr) {
          *run = data.substr(i, take);
        }
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) {
          state_ = state::data_cr;
        }
        if (run != nullptr && take > 0) {
          r.consumed = i;  // a data run ends the call, so the caller can take it
          return r;
        }
        continue;
      }
      case state::data_cr:
        state_ = c == '\r' ? state::data_lf : state::error;
        break;
      case state::data_lf:
        state_ = c == '\n' ? state::size_start : state::error;
        break;
      case state::trailer_start:
      case state::trailer_name:
      case state::trailer_value:
      case state::trailer_lf:
      case state::final_lf:
        state_ = c != '\r' && c != '\n' && ++trailer_bytes_ > max_trailers ? state::error
                                                                           : after_trailer_byte(c);
        break;
      default:
        state_ = after_size_line_byte(c);
        break;
    }
    if (state_ != state::error) {
      ++i;
    }
  }
  r.consumed = i;
  r.done = state_ == state::done;
  r.error = state_ == state::error;
  return r;
}

}  // namespace airlock::proxy::http

#include "proxy/chunked.hpp"

#include <algorithm>

#include "proxy/http_head.hpp"

namespace airlock::proxy::http {

namespace {

constexpr std::size_t max_line = 4096;           // size line with extensions
constexpr std::size_t max_trailers = 16 * 1024;  // all trailer fields together
constexpr std::uint64_t max_chunk = 1ULL << 60;

// Extension and trailer bytes: HTAB, SP, VCHAR and obs-text; never CR, LF or other controls.
bool is_line_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

}  // namespace

chunked_scanner::result chunked_scanner::feed(std::string_view data) {
  result r;
  std::size_t i = 0;
  const std::size_t n = data.size();
  while (i < n && state_ != state::done && state_ != state::error) {
    const char c = data[i];
    switch (state_) {
      case state::size_start:
      case state::size: {
        const int v = hex_value(c);
        if (v >= 0) {
          if (remaining_ > (max_chunk >> 4) || ++line_bytes_ > max_line) {
            state_ = state::error;
            break;
          }
          remaining_ = (remaining_ << 4) | static_cast<std::uint64_t>(v);
          if (remaining_ > max_chunk) {
            state_ = state::error;
            break;
          }
          state_ = state::size;
          ++i;
        } else if (state_ == state::size && c == ';') {
          state_ = state::ext;
          ++i;
        } else if (state_ == state::size && c == '\r') {
          state_ = state::size_lf;
          ++i;
        } else {
          state_ = state::error;
        }
        break;
      }
      case state::ext:
        if (c == '\r') {
          state_ = state::size_lf;
        } else if (!is_line_char(c) || ++line_bytes_ > max_line) {
          state_ = state::error;
          break;
        }
        ++i;
        break;
      case state::size_lf:
        if (c != '\n') {
          state_ = state::error;
          break;
        }
        ++i;
        line_bytes_ = 0;
        state_ = remaining_ == 0 ? state::trailer_start : state::data;
        break;
      case state::data: {
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) {
          state_ = state::data_cr;
        }
        break;
      }
      case state::data_cr:
        state_ = c == '\r' ? state::data_lf : state::error;
        i += c == '\r' ? 1 : 0;
        break;
      case state::data_lf:
        state_ = c == '\n' ? state::size_start : state::error;
        i += c == '\n' ? 1 : 0;
        break;
      case state::trailer_start:
        if (c == '\r') {
          state_ = state::final_lf;
          ++i;
        } else if (c == ' ' || c == '\t' || reject_trailers_) {
          state_ = state::error;  // obs-fold in trailers, or trailers refused
        } else {
          state_ = state::trailer;
        }
        break;
      case state::trailer:
        if (c == '\r') {
          state_ = state::trailer_lf;
        } else if (!is_line_char(c) || ++trailer_bytes_ > max_trailers) {
          state_ = state::error;
          break;
        }
        ++i;
        break;
      case state::trailer_lf:
        state_ = c == '\n' ? state::trailer_start : state::error;
        i += c == '\n' ? 1 : 0;
        break;
      case state::final_lf:
        state_ = c == '\n' ? state::done : state::error;
        i += c == '\n' ? 1 : 0;
        break;
      case state::done:
      case state::error:
        break;
    }
  }
  r.consumed = i;
  r.done = state_ == state::done;
  r.error = state_ == state::error;
  return r;
}

}  // namespace airlock::proxy::http

#pragma once
// Strict HTTP/1.1 message-head parsing (RFC 9112) over bytes already in memory.
// Pure functions: no I/O, no allocation beyond the caller's header vector. Views
// point into the caller's buffer and stay valid while it is unchanged.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace airlock::proxy::http {

struct header {
  std::string_view name;
  std::string_view value;  // without leading/trailing whitespace
};

enum class version : std::uint8_t { http10, http11 };

struct request_head {
  std::string_view method;
  std::string_view target;
  version ver = version::http11;
  std::vector<header> headers;
};

struct response_head {
  version ver = version::http11;
  int status = 0;
  std::string_view reason;
  std::vector<header> headers;
};

// Why a head was refused; status is what the client gets (400, 431, 501, 505).
struct head_error {
  int status = 0;
  std::string_view reason;  // static text, safe to show the client
  explicit operator bool() const { return status != 0; }
};

struct head_limits {
  std::size_t max_bytes = 64 * 1024;
  std::size_t max_headers = 100;
};

// Result of looking for the end of a head in a growing buffer.
struct head_scan {
  enum class state { incomplete, complete, error } st = state::incomplete;
  std::size_t skip = 0;     // leading empty lines (CRLF) to ignore before the head
  std::size_t length = 0;   // complete: bytes of the head after `skip`, final CRLFCRLF included
  std::size_t scanned = 0;  // incomplete: resume offset for the next call
  head_error error;
};

// Looks for CRLFCRLF in data, starting at `resume` (a previous call's `scanned`).
// A bare LF is an error at once; so is a head longer than limits.max_bytes (431).
head_scan scan_head(std::string_view data, std::size_t resume, const head_limits& limits);

// Parses a complete request head (as delimited by scan_head). Fills out; on failure
// returns the error and leaves out partially filled.
head_error parse_request(std::string_view head, const head_limits& limits, request_head& out);

// Same for a response head from an upstream; any error means 502 for the client.
head_error parse_response(std::string_view head, const head_limits& limits, response_head& out);

// ASCII case-insensitive comparison, for header names and tokens.
// Inline: called for every field against every name the proxy looks for, and most calls
// end at the length check.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y && ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z')) {
      return false;
    }
  }
  return true;
}

// True for RFC 9110 tchar.
bool is_tchar(unsigned char c);

}  // namespace airlock::proxy::http

#include "proxy/http/head.hpp"

#include <array>
#include <cstring>

namespace airlock::proxy::http {

namespace {

constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) {
    t[c] = true;
  }
  for (int c = 'a'; c <= 'z'; ++c) {
    t[c] = true;
  }
  for (int c = 'A'; c <= 'Z'; ++c) {
    t[c] = true;
  }
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
    t[static_cast<unsigned char>(c)] = true;
  }
  return t;
}

constexpr std::array<bool, 256> tchar_table = make_tchar_table();

// field-value bytes: HTAB, SP, VCHAR, obs-text. Excludes every other control, DEL, CR and LF.
constexpr bool is_value_char(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

// request-target bytes: visible ASCII only; spaces, controls and non-ASCII are refused.
constexpr bool is_target_char(unsigned char c) {
  return c > 0x20 && c < 0x7f;
}

constexpr head_error bad(std::string_view reason) {
  return head_error{400, reason};
}

// Splits off one CRLF-terminated line; the head was already checked for bare LF.
std::string_view next_line(std::string_view& rest) {
  const auto lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf - 1);
  rest.remove_prefix(lf + 1);
  return line;
}

// Parses "HTTP/1.x"; anything HTTP-shaped but another version is 505.
head_error parse_version(std::string_view text, version& out) {
  if (text == "HTTP/1.1") {
    out = version::http11;
    return {};
  }
  if (text == "HTTP/1.0") {
    out = version::http10;
    return {};
  }
  if (text.size() == 8 && text.substr(0, 5) == "HTTP/" && text[5] >= '0' && text[5] <= '9' &&
      text[6] == '.' && text[7] >= '0' && text[7] <= '9') {
    return head_error{505, "HTTP version not supported"};
  }
  return bad("malformed HTTP version");
}

head_error parse_fields(std::string_view rest, const head_limits& limits,
                        std::vector<header>& out) {
  out.clear();
  while (!rest.empty()) {
    std::string_view line = next_line(rest);
    if (line.empty()) {
      return {};  // the terminating empty line
    }
    if (line.front() == ' ' || line.front() == '\t') {
      return bad("obsolete line folding in header");
    }
    std::size_t i = 0;
    while (i < line.size() && tchar_table[static_cast<unsigned char>(line[i])]) {
      ++i;
    }
    if (i == 0 || i == line.size() || line[i] != ':') {
      return bad(i < line.size() && (line[i] == ' ' || line[i] == '\t')
                     ? "whitespace between header name and colon"
                     : "malformed header name");
    }
    std::string_view name = line.substr(0, i);
    std::string_view value = line.substr(i + 1);
    for (char c : value) {
      if (!is_value_char(static_cast<unsigned char>(c))) {
        return bad("invalid character in header value");
      }
    }
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
      value.remove_suffix(1);
    }
    if (out.size() >= limits.max_headers) {
      return head_error{431, "too many header fields"};
    }
    out.push_back(header{name, value});
  }
  return bad("incomplete head");
}

}  // namespace

bool is_tchar(unsigned char c) {
  return tchar_table[c];
}

head_scan scan_head(std::string_view data, std::size_t resume, const head_limits& limits) {
  head_scan out;
  // Tolerate empty lines before a request line (RFC 9112 2.2), e.g. a stray CRLF after a body.
  std::size_t skip = 0;
  while (data.size() >= skip + 2 && data[skip] == '\r' && data[skip + 1] == '\n' && skip < 64) {
    skip += 2;
  }
  out.skip = skip;
  std::size_t pos = resume > skip ? resume : skip;
  while (pos < data.size()) {
    const void* hit = std::memchr(data.data() + pos, '\n', data.size() - pos);
    if (hit == nullptr) {
      break;
    }
    const auto lf = static_cast<std::size_t>(static_cast<const char*>(hit) - data.data());
    if (lf == skip || data[lf - 1] != '\r') {
      out.st = head_scan::state::error;
      out.error = bad("bare LF in head");
      return out;
    }
    // An empty line (CRLF right after the previous CRLF) ends the head.
    if (lf >= skip + 3 && data[lf - 2] == '\n') {
      out.length = lf + 1 - skip;
      if (out.length > limits.max_bytes) {
        break;
      }
      out.st = head_scan::state::complete;
      return out;
    }
    pos = lf + 1;
  }
  if (data.size() - skip > limits.max_bytes) {
    out.st = head_scan::state::error;
    out.error = head_error{431, "request head too large"};
    return out;
  }
  // The end test looks back from each LF, so resuming after the last LF seen is enough.
  out.scanned = pos;
  return out;
}

head_error parse_request(std::string_view head, const head_limits& limits, request_head& out) {
  std::string_view rest = head;
  std::string_view line = next_line(rest);

  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) {
    return bad("malformed request line");
  }
  out.method = line.substr(0, sp1);
  for (char c : out.method) {
    if (!tchar_table[static_cast<unsigned char>(c)]) {
      return bad("malformed method");
    }
  }
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    return bad("malformed request line");
  }
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (char c : out.target) {
    if (!is_target_char(static_cast<unsigned char>(c))) {
      return bad("invalid character in request target");
    }
  }
  if (auto err = parse_version(line.substr(sp2 + 1), out.ver)) {
    return err;
  }
  return parse_fields(rest, limits, out.headers);
}

head_error parse_response(std::string_view head, const head_limits& limits, response_head& out) {
  std::string_view rest = head;
  std::string_view line = next_line(rest);
  if (line.size() < 12 || line[8] != ' ') {
    return bad("malformed status line");
  }
  if (auto err = parse_version(line.substr(0, 8), out.ver)) {
    return err;
  }
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      return bad("malformed status code");
    }
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) {
    return bad("malformed status code");
  }
  out.status = status;
  // Some servers omit the space when the reason is empty ("HTTP/1.1 200").
  if (line.size() > 12 && line[12] != ' ') {
    return bad("malformed status line");
  }
  out.reason = line.size() > 13 ? line.substr(13) : std::string_view{};
  for (char c : out.reason) {
    if (!is_value_char(static_cast<unsigned char>(c))) {
      return bad("invalid character in reason phrase");
    }
  }
  return parse_fields(rest, limits, out.headers);
}

}  // namespace airlock::proxy::http

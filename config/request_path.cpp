#include "config/request_path.hpp"

#include <array>
#include <cctype>
#include <cstdint>

#include "net/hex.hpp"

namespace airlock::config {

namespace {

// The byte "%XX" at path[i] stands for, or -1 when it is not a complete escape.
int escaped_byte(std::string_view path, std::size_t i) {
  if (i + 2 >= path.size()) {
    return -1;
  }
  const int hi = net::hex_digit(path[i + 1]);
  const int lo = net::hex_digit(path[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

// Code points that NFKC or Windows' best-fit code pages fold into a character that
// changes how a path splits or decodes: fullwidth and small forms of . / \ % ;, the one
// dot leader, division and fraction slashes, and yen and won signs (read as "\" under
// Japanese and Korean code pages).
bool is_lookalike(std::uint32_t cp) {
  static constexpr std::array<std::uint32_t, 13> folded = {0x00A5, 0x20A9, 0x2024, 0x2044, 0x2215,
                                                           0x2216, 0xFE52, 0xFE68, 0xFF05, 0xFF0E,
                                                           0xFF0F, 0xFF1B, 0xFF3C};
  for (const auto f : folded) {
    if (cp == f) {
      return true;
    }
  }
  return false;
}

// Strict UTF-8 (RFC 3629) over the decoded bytes of a path, one byte at a time.
class utf8_check {
 public:
  // False on a byte that cannot come next: a stray continuation, an overlong form
  // (C0 AE is "."), a surrogate, or a code point above U+10FFFF.
  bool feed(unsigned char b) {
    if (need_ > 0) {
      if (b < lo_ || b > hi_) {
        return false;
      }
      lo_ = 0x80;
      hi_ = 0xBF;
      cp_ = (cp_ << 6) | (b & 0x3Fu);
      if (--need_ == 0 && is_lookalike(cp_)) {
        lookalike_ = true;
      }
      return true;
    }
    if (b < 0x80) {
      return true;
    }
    if (b < 0xC2 || b > 0xF4) {
      return false;
    }
    need_ = b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
    cp_ = b & (need_ == 1 ? 0x1Fu : need_ == 2 ? 0x0Fu : 0x07u);
    lo_ = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
    hi_ = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
    return true;
  }
  bool complete() const { return need_ == 0; }
  bool saw_lookalike() const { return lookalike_; }

 private:
  int need_ = 0;
  std::uint32_t cp_ = 0;
  unsigned char lo_ = 0x80;
  unsigned char hi_ = 0xBF;
  bool lookalike_ = false;
};

constexpr std::string_view dot_segment =
    "a \".\" or \"..\" segment (also percent-encoded, or Windows' \"...\" and \".. \")";

// The doubt an escape's byte raises by itself, or empty.
std::string_view escape_doubt(int b) {
  if (b == '/' || b == '\\') {
    return "an encoded \"/\" or \"\\\" (some servers decode it into a separator)";
  }
  if (b < 0x20 || b == 0x7F) {
    return "an encoded control character such as NUL (%00)";
  }
  if (b == '%') {
    return "an encoded \"%\" (a server that decodes twice reads another path)";
  }
  if (b == ';') {
    return "an encoded \";\" (a server that decodes before cutting parameters reads another "
           "path)";
  }
  return {};
}

std::string_view raw_doubt(std::string_view path, std::size_t i) {
  switch (path[i]) {
    case ';':
      return "a \";\" path parameter (Tomcat, Jetty and Spring drop it: \"/a/..;/b\" is \"/b\")";
    case '\\':
      return "a \"\\\" (IIS and other Windows servers read it as \"/\")";
    case '#':
      return "a \"#\" (some servers cut the path there)";
    case '/':
      if (i + 1 < path.size() && path[i + 1] == '/') {
        return "repeated \"/\" (nginx and others merge them, other servers do not)";
      }
      return {};
    default:
      return {};
  }
}

}  // namespace

std::string normalize_path(std::string_view path, path_decoding decoding) {
  if (path.empty() || path.front() != '/') {
    return std::string(path);
  }
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  std::string seg;
  bool trailing = false;
  const auto end_segment = [&] {
    if (seg == "..") {
      out.resize(out.empty() ? 0 : out.rfind('/'));
    } else if (!seg.empty() && seg != ".") {
      out += '/';
      out += seg;
    }
    trailing = seg.empty() || seg == "." || seg == "..";
    seg.clear();
  };
  bool in_params = false;
  for (std::size_t i = 1; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '/' || c == '\\') {
      end_segment();
      in_params = false;
      continue;
    }
    if (in_params || c == ';') {
      in_params = true;
      continue;
    }
    const int b = c == '%' ? escaped_byte(path, i) : -1;
    if (b < 0) {
      seg += c;
      continue;
    }
    i += 2;
    const auto byte = static_cast<unsigned char>(b);
    if (decoding == path_decoding::all && (byte == '/' || byte == '\\')) {
      end_segment();
    } else if (decoding == path_decoding::all || is_unreserved(byte)) {
      seg += static_cast<char>(byte);
    } else {
      seg += '%';
      seg += hex[byte >> 4];
      seg += hex[byte & 15];
    }
  }
  end_segment();
  if (out.empty() || trailing) {
    out += '/';
  }
  return out;
}

std::string_view path_doubt(std::string_view path) {
  utf8_check utf8;
  bool seg_only_dots = true;  // only "." and " " so far in this segment
  bool seg_has_dot = false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    int b = static_cast<unsigned char>(path[i]);
    if (path[i] == '%') {
      b = escaped_byte(path, i);
      if (b < 0) {
        return "a malformed percent-encoding (IIS reads \"%u002e\" as \".\")";
      }
      if (const auto doubt = escape_doubt(b); !doubt.empty()) {
        return doubt;
      }
      i += 2;
    } else if (const auto doubt = raw_doubt(path, i); !doubt.empty()) {
      return doubt;
    }
    if (!utf8.feed(static_cast<unsigned char>(b))) {
      return "invalid or overlong UTF-8 (old decoders read \"%c0%ae\" as \".\")";
    }
    if (utf8.saw_lookalike()) {
      return "a character that Unicode or Windows best-fit folds into \".\", \"/\", \"\\\", "
             "\"%\" or \";\"";
    }
    if (b == '/') {
      if (seg_has_dot && seg_only_dots) {
        return dot_segment;
      }
      seg_only_dots = true;
      seg_has_dot = false;
      continue;
    }
    seg_only_dots = seg_only_dots && (b == '.' || b == ' ');
    seg_has_dot = seg_has_dot || b == '.';
  }
  if (!utf8.complete()) {
    return "invalid or overlong UTF-8 (old decoders read \"%c0%ae\" as \".\")";
  }
  if (seg_has_dot && seg_only_dots) {
    return dot_segment;
  }
  return {};
}

bool path_within(std::string_view path, std::string_view prefix) {
  if (prefix.empty() || path.substr(0, prefix.size()) != prefix) {
    return false;
  }
  return path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/';
}

std::string prefix_problem(std::string_view prefix, path_decoding decoding) {
  if (prefix.empty() || prefix.front() != '/') {
    return "a path prefix starts with \"/\"";
  }
  if (prefix.find('?') != std::string_view::npos) {
    return "a path prefix has no query (\"?\")";
  }
  if (const auto doubt = path_doubt(prefix); !doubt.empty()) {
    return "a path prefix with " + std::string(doubt) + " matches no request";
  }
  if (const auto normal = normalize_path(prefix, decoding); normal != prefix) {
    return "requests are compared in normal form: write \"" + normal + "\"";
  }
  return {};
}

}  // namespace airlock::config

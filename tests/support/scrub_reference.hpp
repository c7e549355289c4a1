#pragma once
// For the scrubber's tests and fuzz target, written independently of the code under test:
// the concrete byte strings an encoder writes for a secret (base64 by the book, percent- and
// JSON-encoding, hex), and a slow reference scrubber that tries every form (scrub_forms, whose
// own tests check them against these encoders) at every start position, spelling by
// spelling, and masks the union of what it finds. Header-only, so the standalone libFuzzer
// build needs no library of tests.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/policy/scrub_forms.hpp"

namespace airlock::proxy::testing {

inline std::string base64_encode(std::string_view in, bool url, bool pad) {
  const std::string_view chars =
      url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t v = std::uint32_t{static_cast<std::uint8_t>(in[i])} << 16;
    if (i + 1 < in.size()) {
      v |= std::uint32_t{static_cast<std::uint8_t>(in[i + 1])} << 8;
    }
    if (i + 2 < in.size()) {
      v |= static_cast<std::uint8_t>(in[i + 2]);
    }
    out += chars[(v >> 18) & 63];
    out += chars[(v >> 12) & 63];
    if (i + 1 < in.size()) {
      out += chars[(v >> 6) & 63];
    } else if (pad) {
      out += '=';
    }
    if (i + 2 < in.size()) {
      out += chars[v & 63];
    } else if (pad) {
      out += '=';
    }
  }
  return out;
}

inline std::string hex_byte(std::uint8_t c, bool upper) {
  char buf[3];
  std::snprintf(buf, sizeof buf, upper ? "%02X" : "%02x", c);
  return buf;
}

inline std::string hex_encode(std::string_view in, bool upper) {
  std::string out;
  for (const char c : in) {
    out += hex_byte(static_cast<std::uint8_t>(c), upper);
  }
  return out;
}

// Every byte as %HH.
inline std::string percent_all(std::string_view in, bool upper) {
  std::string out;
  for (const char c : in) {
    out += '%';
    out += hex_byte(static_cast<std::uint8_t>(c), upper);
  }
  return out;
}

// As a form encoder writes a query value: unreserved bytes as they are, ' ' as '+', the rest
// as %HH.
inline std::string form_encode(std::string_view in, bool upper) {
  std::string out;
  for (const char c : in) {
    const auto b = static_cast<std::uint8_t>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '-' ||
        b == '.' || b == '_' || b == '~') {
      out += c;
    } else if (b == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex_byte(b, upper);
    }
  }
  return out;
}

// Every ASCII byte as \u00HH (others as they are).
inline std::string json_u_all(std::string_view in, bool upper) {
  std::string out;
  for (const char c : in) {
    const auto b = static_cast<std::uint8_t>(c);
    if (b < 0x80) {
      out += "\\u00";
      out += hex_byte(b, upper);
    } else {
      out += c;
    }
  }
  return out;
}

// As a JSON encoder that escapes '/' writes a string's content (PHP's json_encode).
inline std::string json_escape(std::string_view in) {
  std::string out;
  for (const char c : in) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '/':
        out += "\\/";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<std::uint8_t>(c) < 0x20) {
          out += "\\u00";
          out += hex_byte(static_cast<std::uint8_t>(c), false);
        } else {
          out += c;
        }
    }
  }
  return out;
}

// The characters of base64(prefix + secret + suffix) that come from the secret alone, for a
// prefix of `a` bytes: the same for any prefix and suffix.
inline std::string base64_middle(std::string_view secret, unsigned a, bool url) {
  const std::string whole =
      base64_encode(std::string(a, 'x') + std::string(secret) + "yz", url, false);
  const std::size_t first = (8 * a + 5) / 6;
  const std::size_t stop = (8 * a + 8 * secret.size()) / 6;
  return whole.substr(first, stop - first);
}

// The concrete strings the forms of a secret take in common encoders.
inline std::vector<std::string> concrete_spellings(std::string_view secret) {
  std::vector<std::string> out{std::string(secret),        percent_all(secret, true),
                               percent_all(secret, false), form_encode(secret, true),
                               json_u_all(secret, false),  json_u_all(secret, true),
                               json_escape(secret)};
  if (secret.size() >= scrub_min_derived_length) {
    for (const bool url : {false, true}) {
      for (const bool pad : {false, true}) {
        out.push_back(base64_encode(secret, url, pad));
      }
      for (unsigned a = 0; a < 3; ++a) {
        out.push_back(base64_middle(secret, a, url));
      }
    }
    out.push_back(hex_encode(secret, false));
    out.push_back(hex_encode(secret, true));
  }
  return out;
}

// The ends of the spellings of unit u that start at p.
inline std::vector<std::size_t> reference_unit_ends(scrub_unit u, std::string_view t,
                                                    std::size_t p) {
  std::vector<std::size_t> ends;
  const auto is = [&](int v) { return v == u.a || v == u.b; };
  const auto digit = [](char c) -> int {
    constexpr std::string_view digits = "0123456789abcdef0123456789ABCDEF";
    const std::size_t at = digits.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at % 16);
  };
  const auto hex = [&](std::size_t i) -> int {
    if (i + 2 > t.size() || digit(t[i]) < 0 || digit(t[i + 1]) < 0) {
      return -1;
    }
    return digit(t[i]) * 16 + digit(t[i + 1]);
  };
  if (p < t.size()) {
    const auto c = static_cast<std::uint8_t>(t[p]);
    if (is(c) || (c == '+' && is(' '))) {
      ends.push_back(p + 1);
    }
  }
  if (p + 3 <= t.size() && t[p] == '%' && is(hex(p + 1))) {
    ends.push_back(p + 3);
  }
  if (p + 2 <= t.size() && t[p] == '\\') {
    for (const int v : {int{u.a}, int{u.b}}) {
      const std::uint8_t e = json_short_escape(static_cast<std::uint8_t>(v));
      if (e != 0 && static_cast<std::uint8_t>(t[p + 1]) == e) {
        ends.push_back(p + 2);
        break;
      }
    }
  }
  if (p + 6 <= t.size() && t.substr(p, 4) == "\\u00") {
    const int v = hex(p + 4);
    if (v >= 0 && v < 0x80 && is(v)) {
      ends.push_back(p + 6);
    }
  }
  return ends;
}

// Every byte of body inside an occurrence of a form of a value, masked with '*'.
inline std::string reference_scrub(const std::vector<std::string_view>& values,
                                   std::string_view body, std::size_t* occurrences = nullptr) {
  const auto forms = scrub_forms(values);
  struct occurrence {
    std::size_t start, end, form, units;
  };
  std::vector<occurrence> found;
  for (std::size_t start = 0; start < body.size(); ++start) {
    for (std::size_t fi = 0; fi < forms.size(); ++fi) {
      const scrub_form& f = forms[fi];
      std::vector<std::size_t> at{start};  // where the units so far may end
      for (std::size_t k = 0; k < f.units.size() && !at.empty(); ++k) {
        std::vector<std::size_t> next;
        for (const std::size_t p : at) {
          for (const std::size_t e : reference_unit_ends(f.units[k], body, p)) {
            next.push_back(e);
          }
        }
        std::sort(next.begin(), next.end());
        next.erase(std::unique(next.begin(), next.end()), next.end());
        at = std::move(next);
        for (const std::uint32_t end : f.ends) {
          if (end == k + 1) {
            for (const std::size_t e : at) {
              found.push_back({start, e, fi, k + 1});
            }
          }
        }
      }
    }
  }
  std::string out(body);
  for (const occurrence& o : found) {
    for (std::size_t i = o.start; i < o.end; ++i) {
      out[i] = '*';
    }
  }
  if (occurrences != nullptr) {
    // Counted as the scrubber counts, by end: the occurrences of one form (and unit count)
    // that end at one place are one, from the earliest start; those ending at one place
    // count once, when one of them starts at or after everything that ended before.
    std::sort(found.begin(), found.end(), [](const occurrence& x, const occurrence& y) {
      return x.end != y.end       ? x.end < y.end
             : x.form != y.form   ? x.form < y.form
             : x.units != y.units ? x.units < y.units
                                  : x.start < y.start;
    });
    std::size_t until = 0;
    *occurrences = 0;
    for (std::size_t i = 0; i < found.size();) {
      const std::size_t before = until;
      bool counted = false;
      for (const std::size_t end = found[i].end; i < found.size() && found[i].end == end; ++i) {
        const bool earliest = i == 0 || found[i - 1].end != end ||
                              found[i - 1].form != found[i].form ||
                              found[i - 1].units != found[i].units;
        if (earliest && !counted && found[i].start >= before) {
          ++*occurrences;
          counted = true;
        }
        until = std::max(until, end);
      }
    }
  }
  return out;
}

}  // namespace airlock::proxy::testing

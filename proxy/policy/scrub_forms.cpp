#include "proxy/policy/scrub_forms.hpp"

#include <algorithm>
#include <string>

namespace airlock::proxy {
namespace {

using unit_list = std::vector<scrub_unit, secrets::wiping_allocator<scrub_unit>>;

constexpr std::string_view base64_chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

scrub_unit one(std::uint8_t c) {
  return {c, c};
}

// A base64 digit in both alphabets: 62 is '+' or '-', 63 is '/' or '_'.
scrub_unit base64_unit(unsigned v) {
  if (v == 62) {
    return {'+', '-'};
  }
  if (v == 63) {
    return {'/', '_'};
  }
  return one(static_cast<std::uint8_t>(base64_chars[v]));
}

scrub_unit hex_unit(unsigned nibble) {
  if (nibble < 10) {
    return one(static_cast<std::uint8_t>('0' + nibble));
  }
  return {static_cast<std::uint8_t>('a' + nibble - 10),
          static_cast<std::uint8_t>('A' + nibble - 10)};
}

scrub_form raw_form(std::string_view v) {
  scrub_form f;
  f.kind = scrub_form_kind::raw;
  for (const char c : v) {
    f.units.push_back(one(static_cast<std::uint8_t>(c)));
  }
  f.ends.push_back(static_cast<std::uint32_t>(f.units.size()));
  return f;
}

scrub_form hex_form(std::string_view v) {
  scrub_form f;
  f.kind = scrub_form_kind::hex;
  for (const char c : v) {
    const auto b = static_cast<std::uint8_t>(c);
    f.units.push_back(hex_unit(b >> 4));
    f.units.push_back(hex_unit(b & 15));
  }
  f.ends.push_back(static_cast<std::uint32_t>(f.units.size()));
  return f;
}

// The six-bit digit at index i of the base64 of (a zero bytes, then v), zero bits past the
// end as base64 pads the last group.
unsigned digit_at(std::string_view v, unsigned a, std::size_t i) {
  unsigned d = 0;
  for (std::size_t bit = i * 6; bit < i * 6 + 6; ++bit) {
    const std::size_t byte = bit / 8;
    unsigned b = 0;
    if (byte >= a && byte - a < v.size()) {
      b = (static_cast<std::uint8_t>(v[byte - a]) >> (7 - bit % 8)) & 1U;
    }
    d = (d << 1) | b;
  }
  return d;
}

scrub_form base64_form(std::string_view v, unsigned a) {
  scrub_form f;
  f.kind = scrub_form_kind::base64;
  f.alignment = static_cast<std::uint8_t>(a);
  const std::size_t first = (8 * a + 5) / 6;            // ceil(8a/6)
  const std::size_t stop = (8 * a + 8 * v.size()) / 6;  // floor((8a+8n)/6)
  for (std::size_t i = first; i < stop; ++i) {
    f.units.push_back(base64_unit(digit_at(v, a, i)));
  }
  f.ends.push_back(static_cast<std::uint32_t>(f.units.size()));
  const std::size_t rest = (a + v.size()) % 3;
  if (rest != 0) {
    // The value ends the input: the zero-filled last digit, then the padding.
    f.units.push_back(base64_unit(digit_at(v, a, stop)));
    f.ends.push_back(static_cast<std::uint32_t>(f.units.size()));
    for (std::size_t pad = rest == 1 ? 2 : 1; pad > 0; --pad) {
      f.units.push_back(one('='));
    }
    f.ends.push_back(static_cast<std::uint32_t>(f.units.size()));
  }
  return f;
}

bool same_form(const scrub_form& x, const scrub_form& y) {
  return x.ends == y.ends &&
         std::equal(x.units.begin(), x.units.end(), y.units.begin(), y.units.end(),
                    [](scrub_unit p, scrub_unit q) { return p.a == q.a && p.b == q.b; });
}

}  // namespace

std::vector<scrub_form> scrub_forms(std::span<const std::string_view> values) {
  std::vector<scrub_form> forms;
  const auto add = [&forms](scrub_form f) {
    if (f.units.empty()) {
      return;
    }
    for (const auto& g : forms) {
      if (same_form(f, g)) {
        return;
      }
    }
    forms.push_back(std::move(f));
  };
  for (const std::string_view v : values) {
    if (v.empty()) {
      continue;
    }
    add(raw_form(v));
    if (v.size() < scrub_min_derived_length) {
      continue;
    }
    add(hex_form(v));
    for (unsigned a = 0; a < 3; ++a) {
      add(base64_form(v, a));
    }
  }
  return forms;
}

std::size_t longest_spelling(scrub_unit u) {
  return u.a < 0x80 || u.b < 0x80 ? 6 : 3;
}

std::size_t longest_spelling(const scrub_form& form) {
  std::size_t n = 0;
  for (const scrub_unit u : form.units) {
    n += longest_spelling(u);
  }
  return n;
}

std::uint8_t json_short_escape(std::uint8_t c) {
  switch (c) {
    case '"':
      return '"';
    case '\\':
      return '\\';
    case '/':
      return '/';
    case '\b':
      return 'b';
    case '\f':
      return 'f';
    case '\n':
      return 'n';
    case '\r':
      return 'r';
    case '\t':
      return 't';
    default:
      return 0;
  }
}

}  // namespace airlock::proxy

#include "proxy/policy/scrub_spelling.hpp"

#include <algorithm>

#include "net/hex.hpp"

namespace airlock::proxy {
namespace {

// The byte two hex digits at [i, i + 2) spell, or -1.
int hex_byte(const scrub_window& w, std::size_t i) {
  const int hi = net::hex_digit(static_cast<char>(w.at(i)));
  const int lo = net::hex_digit(static_cast<char>(w.at(i + 1)));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

bool accepts(scrub_unit u, int byte) {
  return byte == u.a || byte == u.b;
}

}  // namespace

unsigned spellings_ending_at(scrub_unit u, const scrub_window& w, std::size_t q) {
  unsigned lengths = 0;
  if (q >= 1) {
    const std::uint8_t c = w.at(q - 1);
    if (accepts(u, c) || (c == '+' && accepts(u, ' '))) {
      lengths |= 1U << 1;
    }
  }
  if (q >= 2 && w.at(q - 2) == '\\') {
    const std::uint8_t c = w.at(q - 1);
    const std::uint8_t ea = json_short_escape(u.a);
    const std::uint8_t eb = json_short_escape(u.b);
    if ((ea != 0 && c == ea) || (eb != 0 && c == eb)) {
      lengths |= 1U << 2;
    }
  }
  if (q >= 3 && w.at(q - 3) == '%' && accepts(u, hex_byte(w, q - 2))) {
    lengths |= 1U << 3;
  }
  if (q >= 6 && w.at(q - 6) == '\\' && w.at(q - 5) == 'u' && w.at(q - 4) == '0' &&
      w.at(q - 3) == '0') {
    const int v = hex_byte(w, q - 2);
    if (v >= 0 && v < 0x80 && accepts(u, v)) {
      lengths |= 1U << 6;
    }
  }
  return lengths;
}

std::size_t earliest_start(const scrub_form& form, std::size_t units, const scrub_window& w,
                           std::size_t q, std::vector<std::size_t>& a,
                           std::vector<std::size_t>& b) {
  a.assign(1, q);
  for (std::size_t k = units; k-- > 0;) {
    b.clear();
    for (const std::size_t end : a) {
      const unsigned lengths = spellings_ending_at(form.units[k], w, end);
      for (const unsigned len : {1U, 2U, 3U, 6U}) {
        if ((lengths >> len) & 1U) {
          b.push_back(end - len);
        }
      }
    }
    if (b.empty()) {
      return std::string_view::npos;
    }
    std::sort(b.begin(), b.end());
    b.erase(std::unique(b.begin(), b.end()), b.end());
    a.swap(b);
  }
  return a.front();
}

}  // namespace airlock::proxy

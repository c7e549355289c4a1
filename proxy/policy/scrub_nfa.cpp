#include "proxy/policy/scrub_nfa.hpp"

#include <algorithm>
#include <array>

namespace airlock::proxy {
namespace {

class nfa_builder {
 public:
  explicit nfa_builder(scrub_nfa& nfa) : nfa_(nfa) {}

  std::uint32_t add_state(std::uint32_t form, std::uint32_t unit, std::uint8_t progress) {
    nfa_.states.push_back({form, unit, progress, false});
    return static_cast<std::uint32_t>(nfa_.states.size() - 1);
  }

  void edge(std::uint32_t from, std::uint8_t byte, std::uint32_t to) {
    nfa_.edges.push_back({from, byte, to});
  }

  // A hex digit in either case.
  void hex_edge(std::uint32_t from, unsigned nibble, std::uint32_t to) {
    constexpr std::string_view lower = "0123456789abcdef";
    constexpr std::string_view upper = "0123456789ABCDEF";
    edge(from, static_cast<std::uint8_t>(lower[nibble]), to);
    if (nibble >= 10) {
      edge(from, static_cast<std::uint8_t>(upper[nibble]), to);
    }
  }

  // Every spelling of unit i of form f, from boundary `at` to boundary `next`.
  void spell_unit(std::uint32_t f, std::uint32_t i, scrub_unit u, std::uint32_t at,
                  std::uint32_t next) {
    const std::array<std::uint8_t, 2> alts{u.a, u.b};
    const std::size_t n = u.a == u.b ? 1 : 2;
    for (std::size_t k = 0; k < n; ++k) {
      edge(at, alts[k], next);
      if (alts[k] == ' ') {
        edge(at, '+', next);
      }
    }
    // %HH: one state after '%', one per high digit after "%H".
    const std::uint32_t pct = add_state(f, i, 1);
    edge(at, '%', pct);
    std::array<std::uint32_t, 16> hi_state{};
    std::array<std::uint8_t, 16> seen{};
    for (std::size_t k = 0; k < n; ++k) {
      const unsigned hi = alts[k] >> 4;
      if (seen[hi] == 0) {
        seen[hi] = 1;
        hi_state[hi] = add_state(f, i, 2);
        hex_edge(pct, hi, hi_state[hi]);
      }
      hex_edge(hi_state[hi], alts[k] & 15U, next);
    }
    if (u.a >= 0x80 && u.b >= 0x80) {
      return;  // JSON escapes code points, not the bytes of a UTF-8 sequence
    }
    spell_json(f, i, alts, n, at, next);
  }

 private:
  // \" \\ \/ \b \f \n \r \t, and \u00HH for any ASCII byte.
  void spell_json(std::uint32_t f, std::uint32_t i, const std::array<std::uint8_t, 2>& alts,
                  std::size_t n, std::uint32_t at, std::uint32_t next) {
    const std::uint32_t backslash = add_state(f, i, 1);
    edge(at, '\\', backslash);
    for (std::size_t k = 0; k < n; ++k) {
      if (const std::uint8_t esc = json_short_escape(alts[k]); esc != 0) {
        edge(backslash, esc, next);
      }
    }
    std::uint32_t prev = backslash;
    constexpr std::string_view u00 = "u00";
    for (std::size_t k = 0; k < u00.size(); ++k) {
      const std::uint32_t s = add_state(f, i, static_cast<std::uint8_t>(2 + k));
      edge(prev, static_cast<std::uint8_t>(u00[k]), s);
      prev = s;
    }
    std::array<std::uint8_t, 8> hi_seen{};
    std::array<std::uint32_t, 8> hi_state{};
    for (std::size_t k = 0; k < n; ++k) {
      if (alts[k] >= 0x80) {
        continue;
      }
      const unsigned hi = alts[k] >> 4;
      if (hi_seen[hi] == 0) {
        hi_seen[hi] = 1;
        hi_state[hi] = add_state(f, i, 5);
        hex_edge(prev, hi, hi_state[hi]);
      }
      hex_edge(hi_state[hi], alts[k] & 15U, next);
    }
  }

  scrub_nfa& nfa_;
};

}  // namespace

scrub_nfa build_scrub_nfa(const std::vector<scrub_form>& forms) {
  scrub_nfa nfa;
  nfa_builder b(nfa);
  for (std::uint32_t f = 0; f < forms.size(); ++f) {
    const auto& units = forms[f].units;
    std::vector<std::uint32_t> bounds{b.add_state(f, 0, 0)};
    nfa.starts.push_back(bounds[0]);
    for (std::uint32_t i = 0; i < units.size(); ++i) {
      bounds.push_back(b.add_state(f, i + 1, 0));
      b.spell_unit(f, i, units[i], bounds[i], bounds[i + 1]);
    }
    for (const std::uint32_t end : forms[f].ends) {
      nfa.states[bounds[end]].accept = true;
    }
  }
  std::sort(nfa.edges.begin(), nfa.edges.end(),
            [](const scrub_nfa_edge& x, const scrub_nfa_edge& y) {
              return x.from != y.from   ? x.from < y.from
                     : x.byte != y.byte ? x.byte < y.byte
                                        : x.to < y.to;
            });
  nfa.edges.erase(std::unique(nfa.edges.begin(), nfa.edges.end(),
                              [](const scrub_nfa_edge& x, const scrub_nfa_edge& y) {
                                return x.from == y.from && x.byte == y.byte && x.to == y.to;
                              }),
                  nfa.edges.end());
  nfa.edge_begin.assign(nfa.states.size() + 1, 0);
  for (const auto& e : nfa.edges) {
    ++nfa.edge_begin[e.from + 1];
  }
  for (std::size_t s = 0; s < nfa.states.size(); ++s) {
    nfa.edge_begin[s + 1] += nfa.edge_begin[s];
  }
  return nfa;
}

}  // namespace airlock::proxy

#pragma once
// Where an occurrence starts. The DFA (scrub_automaton.hpp) says that a form ends here, or
// that a spelling is under way, but not where it began: a unit's spellings differ in length
// (1 to 6 bytes). These functions read the bytes backwards, unit by unit, and return the
// earliest start, which is what the scrubber masks from or holds back from. Pure.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "proxy/policy/scrub_forms.hpp"

namespace airlock::proxy {

// The bytes a scrubber can still read: what it held back, then the bytes fed now.
struct scrub_window {
  std::string_view held;
  std::string_view fresh;

  std::size_t size() const { return held.size() + fresh.size(); }
  std::uint8_t at(std::size_t i) const {
    return static_cast<std::uint8_t>(i < held.size() ? held[i] : fresh[i - held.size()]);
  }
};

// The lengths of u's spellings that end at q (bytes [q - len, q)), as bits: bit len set.
unsigned spellings_ending_at(scrub_unit u, const scrub_window& w, std::size_t q);

// The earliest p such that bytes [p, q) of w spell the first `units` units of form, or
// npos when none does. a and b are scratch, reused so the call does not allocate.
std::size_t earliest_start(const scrub_form& form, std::size_t units, const scrub_window& w,
                           std::size_t q, std::vector<std::size_t>& a, std::vector<std::size_t>& b);

}  // namespace airlock::proxy

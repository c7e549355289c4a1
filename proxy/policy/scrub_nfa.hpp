#pragma once
// The spellings of a set of forms as one NFA, the input scrub_automaton determinizes. Each
// form is a chain: a boundary state before each unit, and from it one path per spelling of
// that unit (scrub_forms.hpp) to the next boundary. Every state knows its form, its unit and
// how many bytes of that unit's spelling lie behind it, which is what lets the scrubber find
// where an occurrence starts by reading the bytes backwards (scrub_spelling.hpp).

#include <cstdint>
#include <vector>

#include "proxy/policy/scrub_forms.hpp"
#include "secrets/wiping_allocator.hpp"

namespace airlock::proxy {

struct scrub_nfa_state {
  std::uint32_t form = 0;
  std::uint32_t unit = 0;     // the unit being spelled, or (progress 0) the units behind
  std::uint8_t progress = 0;  // bytes of unit's spelling already read; 0 at a boundary
  bool accept = false;        // an occurrence of the form ends here
};

struct scrub_nfa_edge {
  std::uint32_t from = 0;
  std::uint8_t byte = 0;
  std::uint32_t to = 0;
};

struct scrub_nfa {
  std::vector<scrub_nfa_state> states;
  // Sorted by from; they spell the secrets, so freed memory is wiped.
  std::vector<scrub_nfa_edge, secrets::wiping_allocator<scrub_nfa_edge>> edges;
  std::vector<std::uint32_t> edge_begin;  // per state, into edges; one past the last state too
  std::vector<std::uint32_t> starts;      // each form's first boundary
};

scrub_nfa build_scrub_nfa(const std::vector<scrub_form>& forms);

}  // namespace airlock::proxy

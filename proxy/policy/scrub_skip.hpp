#pragma once
// The scrubber's fast path: where, from a position where no spelling is under way, the next
// one may start (scrub_automaton.hpp describes the two filters). With AVX2 (checked at run
// time) 32 positions at a time first pass a superset test, whether their byte may begin a
// spelling and the next byte may follow one, in a few vector instructions; only the positions
// that pass take the exact pair and four-byte tests. Elsewhere, and for the last bytes, eight
// positions at a time in plain code. Pure.

#include <array>
#include <cstddef>
#include <cstdint>

namespace airlock::proxy {

class scrub_automaton;

// The first position in [i, n) where a spelling may start, or n - 1 (the last byte is always
// stepped: the bytes after it are not known yet). Requires i < n.
std::size_t scrub_skip(const scrub_automaton& a, const std::uint8_t* p, std::size_t i,
                       std::size_t n);

// Nibble tables for a vector membership test of a set of bytes b: (lo[b & 15] & hi[b >> 4])
// != 0 for every b in the set (and, when its high nibbles need more than eight row patterns,
// for some bytes outside it, which the exact tests then turn down).
void shufti_tables(const std::array<bool, 256>& set, std::uint8_t* lo, std::uint8_t* hi);

}  // namespace airlock::proxy

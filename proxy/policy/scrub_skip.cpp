#include "proxy/policy/scrub_skip.hpp"

#include <bit>
#include <vector>

#include "proxy/policy/scrub_automaton.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AIRLOCK_SCRUB_AVX2 1
#endif

namespace airlock::proxy {
namespace {

unsigned pair_hit(const std::uint64_t* bits, const std::uint8_t* p) {
  const unsigned pair = p[0] | (unsigned{p[1]} << 8);
  return static_cast<unsigned>((bits[pair >> 6] >> (pair & 63)) & 1U);
}

// The positions among the eight at p where a spelling may start, as bits, without a branch
// per byte: their pairs, and only where a pair passes, their four bytes. Reads p[0, 11).
unsigned starts8(const scrub_automaton& a, const std::uint8_t* p) {
  const std::uint64_t* bits = a.pair_bits();
  unsigned pairs = 0;
  for (unsigned k = 0; k < 8; ++k) {
    pairs |= pair_hit(bits, p + k) << k;
  }
  if (pairs == 0) {
    return 0;
  }
  unsigned quads = 0;
  for (unsigned k = 0; k < 8; ++k) {
    quads |= static_cast<unsigned>(a.may_start4(p + k)) << k;
  }
  return pairs & quads;
}

std::size_t skip_scalar(const scrub_automaton& a, const std::uint8_t* p, std::size_t i,
                        std::size_t n) {
  while (i + 11 < n) {
    if (const unsigned hits = starts8(a, p + i); hits != 0) {
      return i + static_cast<std::size_t>(std::countr_zero(hits));
    }
    i += 8;
  }
  for (; i + 1 < n; ++i) {
    if (pair_hit(a.pair_bits(), p + i) != 0 && (i + 4 > n || a.may_start4(p + i))) {
      return i;
    }
  }
  return i;
}

#ifdef AIRLOCK_SCRUB_AVX2
__attribute__((target("avx2"))) __m256i nibble_table(const std::uint8_t* q) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
}

// A bit per byte of v that is in the set the two tables describe.
__attribute__((target("avx2"))) std::uint32_t members(__m256i v, __m256i lo, __m256i hi) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i l = _mm256_shuffle_epi8(lo, _mm256_and_si256(v, low4));
  const __m256i h = _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), low4));
  const __m256i none = _mm256_cmpeq_epi8(_mm256_and_si256(l, h), _mm256_setzero_si256());
  return ~static_cast<std::uint32_t>(_mm256_movemask_epi8(none));
}

// Bit `index` of a bitmap, for eight indexes at once (the bitmap read as 32-bit words).
__attribute__((target("avx2"))) __m256i bitmap_bits(const std::uint64_t* bitmap, __m256i index) {
  const __m256i words =
      _mm256_i32gather_epi32(reinterpret_cast<const int*>(bitmap), _mm256_srli_epi32(index, 5), 4);
  return _mm256_srlv_epi32(words, _mm256_and_si256(index, _mm256_set1_epi32(31)));
}

// The four-byte test on 32 positions, eight per gather, for reads where most positions pass
// the superset test (JSON full of escapes). Reads p[0, 40).
__attribute__((target("avx2"))) std::uint32_t starts32(const scrub_automaton& a,
                                                       const std::uint8_t* p) {
  // Each 32-bit lane k gets bytes k..k+3 of the 16 broadcast to both halves.
  const __m256i windows = _mm256_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6,  //
                                           4, 5, 6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10);
  const std::uint64_t* quads = a.quad_bitmap();
  const __m256i multiplier = _mm256_set1_epi32(static_cast<int>(scrub_automaton::quad_multiplier));
  std::uint32_t hits = 0;
  for (unsigned k = 0; k < 32; k += 8) {
    const __m256i w = _mm256_shuffle_epi8(
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k))),
        windows);
    // The four-byte test alone (a spelling's first four bytes include its first pair; a
    // hash collision only costs a DFA step), or the pair test when there is no four-byte one.
    const __m256i ok =
        quads != nullptr
            ? bitmap_bits(quads, _mm256_srli_epi32(_mm256_mullo_epi32(w, multiplier),
                                                   32 - scrub_automaton::quad_bits))
            : bitmap_bits(a.pair_bits(), _mm256_and_si256(w, _mm256_set1_epi32(0xffff)));
    const __m256 sign = _mm256_castsi256_ps(_mm256_slli_epi32(ok, 31));
    hits |= static_cast<std::uint32_t>(_mm256_movemask_ps(sign)) << k;
  }
  return hits;
}

__attribute__((target("avx2"))) std::size_t skip_avx2(const scrub_automaton& a,
                                                      const std::uint8_t* p, std::size_t i,
                                                      std::size_t n) {
  const std::uint8_t* t = a.nibble_tables();
  const __m256i first_lo = nibble_table(t);
  const __m256i first_hi = nibble_table(t + 16);
  const __m256i second_lo = nibble_table(t + 32);
  const __m256i second_hi = nibble_table(t + 48);
  const std::uint64_t* bits = a.pair_bits();
  // 32 positions need 33 bytes for their pairs and 35 for their four-byte tests; the dense
  // path loads 40.
  while (i + 40 <= n) {
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 1));
    std::uint32_t m = members(v0, first_lo, first_hi) & members(v1, second_lo, second_hi);
    if (std::popcount(m) > 4) {
      // Dense: the exact tests on all 32 at once rather than a branch per candidate.
      m &= starts32(a, p + i);
      if (m != 0) {
        return i + static_cast<std::size_t>(std::countr_zero(m));
      }
    }
    while (m != 0) {
      const std::size_t j = i + static_cast<std::size_t>(std::countr_zero(m));
      if (pair_hit(bits, p + j) != 0 && a.may_start4(p + j)) {
        return j;
      }
      m &= m - 1;
    }
    i += 32;
  }
  return skip_scalar(a, p, i, n);
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

}  // namespace

std::size_t scrub_skip(const scrub_automaton& a, const std::uint8_t* p, std::size_t i,
                       std::size_t n) {
#ifdef AIRLOCK_SCRUB_AVX2
  if (has_avx2()) {
    return skip_avx2(a, p, i, n);
  }
#endif
  return skip_scalar(a, p, i, n);
}

void shufti_tables(const std::array<bool, 256>& set, std::uint8_t* lo, std::uint8_t* hi) {
  std::vector<std::uint16_t> buckets;  // the low nibbles each bucket accepts
  for (unsigned h = 0; h < 16; ++h) {
    std::uint16_t row = 0;
    for (unsigned l = 0; l < 16; ++l) {
      row = static_cast<std::uint16_t>(row | (set[h * 16 + l] ? 1U << l : 0U));
    }
    hi[h] = 0;
    if (row == 0) {
      continue;
    }
    std::size_t b = 0;
    while (b < buckets.size() && buckets[b] != row) {
      ++b;
    }
    if (b == buckets.size()) {
      if (buckets.size() < 8) {
        buckets.push_back(row);
      } else {
        b = h % 8;  // out of buckets: share one, accepting the union (a superset)
        buckets[b] = static_cast<std::uint16_t>(buckets[b] | row);
      }
    }
    hi[h] = static_cast<std::uint8_t>(1U << b);
  }
  for (unsigned l = 0; l < 16; ++l) {
    lo[l] = 0;
    for (std::size_t b = 0; b < buckets.size(); ++b) {
      lo[l] = static_cast<std::uint8_t>(lo[l] | (((buckets[b] >> l) & 1U) << b));
    }
  }
}

}  // namespace airlock::proxy

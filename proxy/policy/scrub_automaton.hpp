#pragma once
// The compiled matcher for one set of secret values: every spelling of every form
// (scrub_forms.hpp) as one unanchored DFA over byte classes, built once when the values
// change and shared read-only by every scrubber (a response only holds a pointer and a few
// bytes of state). Pure: no I/O, no clock.
//
// Why a DFA: a spelling may start at any byte, whatever the bytes before it look like (a
// greedy decoder would read "\\" + "\u0041..." as an escaped backslash and miss the
// occurrence after it), so the matcher follows every spelling from every position at once,
// which a DFA does in one table step per byte. What a DFA does not know is where an
// occurrence started, since the spellings of a unit differ in length; the scrubber finds that
// by reading the buffered bytes backwards when a form ends or a body pauses
// (scrub_spelling.hpp), which is rare.
//
// When the DFA would outgrow its budget: a form that repeats itself, with a unit whose
// escapes contain the form's first byte (the base64 of a value full of zero bytes is "AAAA",
// and "%41" contains a '1' that may begin "1AAAA..."), has a DFA exponential in its length,
// since every subset of its positions can be under way at once. Such values are rare (real
// keys are random) but must still be scrubbed, so past max_dfa_bytes the automaton keeps the
// NFA and the scrubber follows its threads one by one instead: the same matches, slower, and
// only on bytes that start something.
//
// Speed: while no spelling is under way (the DFA's root) the scrubber skips bytes with a
// two-byte filter: a bit per byte pair, set when a thread that starts at the first byte is
// still alive after the second; then, where a pair passes, a four-byte one (hashed into a
// bitmap) of every four bytes a spelling can begin with. Bytes that start nothing are never
// stepped through the DFA. The second filter is what keeps JSON full of "\u4e2d" escapes
// fast: "\u" may begin "\u0073", "\u4e" never does.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "proxy/policy/scrub_forms.hpp"
#include "proxy/policy/scrub_nfa.hpp"
#include "secrets/wiping_allocator.hpp"

namespace airlock::proxy {

class scrub_automaton {
 public:
  // Default budget for the DFA: its transition table (states x byte classes x 4 bytes) and
  // the NFA states each DFA state stands for. Four random 40-byte keys take about 3 MiB.
  static constexpr std::size_t default_max_dfa_bytes = std::size_t{16} << 20;

  // Never fails: past max_dfa_bytes the NFA is kept instead (see above). No values: an
  // automaton that matches nothing.
  static std::shared_ptr<const scrub_automaton> build(
      std::span<const std::string_view> values, std::size_t max_dfa_bytes = default_max_dfa_bytes);

  scrub_automaton() = default;
  scrub_automaton(const scrub_automaton&) = delete;
  scrub_automaton& operator=(const scrub_automaton&) = delete;
  ~scrub_automaton();

  // The longest spelling of any form, in bytes: a scrubber holds back at most one less.
  std::size_t longest() const { return longest_; }
  const std::vector<scrub_form>& forms() const { return forms_; }
  const scrub_nfa_state& nfa_state(std::uint32_t id) const { return nfa_states_[id]; }
  std::size_t nfa_size() const { return nfa_states_.size(); }

  // Whether a thread starting at byte `first` is still alive after `second`.
  bool may_start(std::uint8_t first, std::uint8_t second) const {
    const unsigned pair = first | (unsigned{second} << 8);
    return (pairs_[pair >> 6] >> (pair & 63)) & 1U;
  }
  const std::uint64_t* pair_bits() const { return pairs_.data(); }
  // Vector membership tables (scrub_skip.hpp) for the bytes that may begin a spelling (0-31)
  // and the bytes that may follow one (32-63).
  const std::uint8_t* nibble_tables() const { return nibbles_.data(); }
  // Whether a spelling can begin with the four bytes at p. Always true when some form has a
  // spelling shorter than four bytes (a value of one to three bytes), since then a match may
  // end before the four.
  bool may_start4(const std::uint8_t* p) const {
    if (!quads_ready_) {
      return true;
    }
    const std::uint32_t h = quad_hash(p);
    return (quads_[h >> 6] >> (h & 63)) & 1U;
  }
  // The four-byte bitmap (2^quad_bits bits, bit quad_hash), or nullptr when not used.
  const std::uint64_t* quad_bitmap() const { return quads_ready_ ? quads_.data() : nullptr; }
  static constexpr unsigned quad_bits = 18;
  static constexpr std::uint32_t quad_multiplier = 0x9E3779B1U;
  static std::uint32_t quad_hash(const std::uint8_t* p) {
    const std::uint32_t v = p[0] | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
                            (std::uint32_t{p[3]} << 24);
    return (v * quad_multiplier) >> (32 - quad_bits);
  }

  // The DFA, when it fit. States are premultiplied by class_count (row offsets); 0 is the
  // root, where no spelling is under way, and states from accept_from() on end a form.
  bool deterministic() const { return !table_.empty(); }
  std::size_t state_count() const { return class_count_ == 0 ? 0 : table_.size() / class_count_; }
  std::size_t class_count() const { return class_count_; }
  std::size_t table_bytes() const { return table_.size() * sizeof(std::uint32_t); }
  std::uint32_t step(std::uint32_t state, std::uint8_t byte) const {
    return table_[state + classes_[byte]];
  }
  std::uint32_t accept_from() const { return accept_from_; }
  // The NFA states a DFA state stands for (spellings under way, and forms ending here).
  std::span<const std::uint32_t> members(std::uint32_t state) const {
    const std::uint32_t row = state / class_count_;
    return {members_.data() + member_begin_[row], members_.data() + member_begin_[row + 1]};
  }

  // The NFA, when the DFA did not fit: where the forms' starts go on a byte, and a state's
  // edges (sorted by byte).
  std::span<const std::uint32_t> start_moves(std::uint8_t byte) const {
    return {start_targets_.data() + start_begin_[byte],
            start_targets_.data() + start_begin_[byte + 1U]};
  }
  std::span<const scrub_nfa_edge> edges(std::uint32_t state) const {
    return {nfa_edges_.data() + nfa_edge_begin_[state],
            nfa_edges_.data() + nfa_edge_begin_[state + 1]};
  }

 private:
  friend struct scrub_dfa_builder;
  template <class T>
  using wiping_vector = std::vector<T, secrets::wiping_allocator<T>>;

  void keep_nfa(scrub_nfa& nfa);
  void make_pairs();
  void make_quads();
  bool add_quads(std::uint32_t state, std::uint8_t* bytes, unsigned depth);

  std::vector<scrub_form> forms_;
  std::vector<scrub_nfa_state> nfa_states_;
  std::size_t longest_ = 0;
  std::array<std::uint64_t, 1024> pairs_{};
  std::array<std::uint8_t, 64> nibbles_{};
  std::vector<std::uint64_t> quads_;  // 2^quad_bits bits
  bool quads_ready_ = false;
  // DFA
  std::array<std::uint8_t, 256> classes_{};
  std::size_t class_count_ = 0;
  wiping_vector<std::uint32_t> table_;
  std::uint32_t accept_from_ = 0;
  std::vector<std::uint32_t> member_begin_;
  std::vector<std::uint32_t> members_;
  // NFA
  wiping_vector<scrub_nfa_edge> nfa_edges_;
  std::vector<std::uint32_t> nfa_edge_begin_;
  std::array<std::uint32_t, 257> start_begin_{};
  wiping_vector<std::uint32_t> start_targets_;
};

}  // namespace airlock::proxy

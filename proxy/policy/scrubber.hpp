#pragma once
// Response scrubbing, streaming (issue 18): one scrubber per response body (or header
// value), fed the bytes as they arrive; it gives back the bytes that may go now, with every
// occurrence of every form of the secrets (scrub_forms.hpp) replaced. Pure: no I/O, no clock.
//
// The marker: each replaced byte becomes '*' (scrub_marker), so a replacement has the
// length of what it replaces and Content-Length and chunk sizes stay true; "\u0041" becomes
// "******", which keeps a JSON string a JSON string. Overlapping occurrences are masked as
// their union.
//
// Hold-back: a feed returns everything except the bytes at its end that could still begin
// a spelling of a form (at most automaton.longest() - 1 bytes), and those go out with the
// first later feed that rules them out, or with finish(). Bytes that begin nothing are never
// delayed, so an SSE event with no prefix of a secret in it goes out whole at once.
//
// Since what is held depends on the secret, the moment bytes go out says whether they could
// begin a spelling of it: an agent that can make an upstream echo bytes of its choice and
// flush them one read at a time can learn a secret a byte at a time from the release timing.
// That is inherent in holding back by content. A mitigation, if the wiring needs one: hold
// only from a few units into a spelling, so a guess must be several bytes long, at the cost
// of those first bytes going out unmasked when an echo is cut right there.
//
// Cost: the automaton is shared; a scrubber holds the held-back bytes, a copy buffer (the
// largest feed plus what was held) used only when bytes were held or masked, and a few words:
// bounded by the feed size, whatever the body's size. A feed that neither holds nor masks
// returns a view of its own input: no copy, no allocation.
//
// What is not caught: values the upstream derives from a secret (tokens, cookies it mints),
// other encodings (double percent-encoding, base64 with line breaks), and a secret cut short
// (a truncated echo of its first bytes goes out as it is).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/policy/scrub_automaton.hpp"
#include "secrets/wiping_allocator.hpp"

namespace airlock::proxy {

inline constexpr char scrub_marker = '*';

class scrubber {
 public:
  explicit scrubber(std::shared_ptr<const scrub_automaton> automaton);
  scrubber(scrubber&&) noexcept = default;
  scrubber& operator=(scrubber&&) noexcept = default;

  // The bytes that may go now, masked. A view into `in` (when nothing was held or masked)
  // or into the scrubber: valid until the next call, and while `in` is.
  std::string_view feed(std::string_view in);

  // The body ended: whatever was held back (it can no longer complete a form). The scrubber
  // is then ready for another body.
  std::string_view finish();

  // The secrets changed (a rotation) while a stream is under way: from here on the stream is
  // scanned for the new ones. What is held back now goes out with the next feed: it could
  // only begin an old value's spelling, as the new value was sent nowhere before the change.
  void rekey(const std::shared_ptr<const scrub_automaton>& automaton);

  // Occurrences replaced so far; occurrences that overlap what was masked before count once.
  std::uint64_t replacements() const { return replacements_; }
  // Bytes held back now (never more than automaton.longest() - 1).
  std::size_t held() const { return held_.size(); }

 private:
  using buffer = std::vector<char, secrets::wiping_allocator<char>>;

  void scan_dfa(std::string_view in);
  void scan_nfa(std::string_view in);
  void on_match(std::span<const std::uint32_t> members, std::size_t end, std::string_view in);
  std::size_t hold_from(std::span<const std::uint32_t> members, std::string_view in);
  void add_mask(std::uint64_t from, std::uint64_t to);
  std::string_view release(std::string_view in, std::size_t keep_from);

  std::shared_ptr<const scrub_automaton> automaton_;
  std::uint32_t state_ = 0;  // the DFA's
  // Without a DFA: the NFA states under way, and a stamp per NFA state against duplicates.
  std::vector<std::uint32_t> active_;
  std::vector<std::uint32_t> next_;
  std::vector<std::uint32_t> seen_;
  std::uint32_t generation_ = 0;
  buffer held_;
  buffer out_;
  std::uint64_t base_ = 0;  // stream offset of held_[0]
  // Stream offsets still to mask: disjoint, ascending, none before base_.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> masks_;
  std::uint64_t masked_until_ = 0;  // the end of the last occurrence masked
  std::uint64_t group_end_ = 0;     // where the occurrences being counted end
  std::uint64_t group_until_ = 0;   // masked_until_ before them
  bool group_counted_ = false;
  std::uint64_t replacements_ = 0;
  std::vector<std::size_t> scratch_a_;
  std::vector<std::size_t> scratch_b_;
};

}  // namespace airlock::proxy

#include "proxy/policy/scrubber.hpp"

#include <algorithm>
#include <cstring>

#include "proxy/policy/scrub_skip.hpp"
#include "proxy/policy/scrub_spelling.hpp"

namespace airlock::proxy {

scrubber::scrubber(std::shared_ptr<const scrub_automaton> automaton)
    : automaton_(std::move(automaton)) {}

std::string_view scrubber::feed(std::string_view in) {
  if (in.empty()) {
    return {};
  }
  if (automaton_->deterministic()) {
    scan_dfa(in);
    return release(in, hold_from(automaton_->members(state_), in));
  }
  scan_nfa(in);
  return release(in, hold_from(active_, in));
}

// Steps the DFA over `in`, skipping what starts nothing.
void scrubber::scan_dfa(std::string_view in) {
  const scrub_automaton& a = *automaton_;
  const auto* p = reinterpret_cast<const std::uint8_t*>(in.data());
  const std::size_t n = in.size();
  const std::uint32_t accept_from = a.accept_from();
  std::uint32_t s = state_;
  std::size_t i = 0;
  while (i < n) {
    if (s == 0) {
      i = scrub_skip(a, p, i, n);
    }
    do {
      s = a.step(s, p[i]);
      ++i;
      if (s >= accept_from) {
        on_match(a.members(s), held_.size() + i, in);
      }
    } while (s != 0 && i < n);
  }
  state_ = s;
}

// The same over the NFA, thread by thread (an automaton whose DFA did not fit).
void scrubber::scan_nfa(std::string_view in) {
  const scrub_automaton& a = *automaton_;
  const auto* p = reinterpret_cast<const std::uint8_t*>(in.data());
  const std::size_t n = in.size();
  if (seen_.size() != a.nfa_size()) {
    seen_.assign(a.nfa_size(), 0);
  }
  std::size_t i = 0;
  while (i < n) {
    if (active_.empty()) {
      i = scrub_skip(a, p, i, n);
    }
    const std::uint8_t c = p[i++];
    if (++generation_ == 0) {
      std::fill(seen_.begin(), seen_.end(), 0);
      generation_ = 1;
    }
    next_.clear();
    bool accepting = false;
    const auto reach = [&](std::uint32_t to) {
      if (seen_[to] != generation_) {
        seen_[to] = generation_;
        next_.push_back(to);
        accepting = accepting || a.nfa_state(to).accept;
      }
    };
    for (const std::uint32_t s : active_) {
      for (const scrub_nfa_edge& e : a.edges(s)) {
        if (e.byte == c) {
          reach(e.to);
        }
      }
    }
    for (const std::uint32_t to : a.start_moves(c)) {
      reach(to);
    }
    active_.swap(next_);
    if (accepting) {
      on_match(active_, held_.size() + i, in);
    }
  }
}

void scrubber::on_match(std::span<const std::uint32_t> members, std::size_t end,
                        std::string_view in) {
  const scrub_automaton& a = *automaton_;
  const scrub_window w{{held_.data(), held_.size()}, in};
  for (const std::uint32_t m : members) {
    const scrub_nfa_state& st = a.nfa_state(m);
    if (!st.accept) {
      continue;
    }
    std::size_t start = earliest_start(a.forms()[st.form], st.unit, w, end, scratch_a_, scratch_b_);
    if (start == std::string_view::npos) {
      start = 0;  // cannot happen (all bytes of a live spelling are held); mask all there is
    }
    add_mask(base_ + start, base_ + end);
  }
}

// The earliest start of a spelling still under way at the end of `in`; the end when none.
std::size_t scrubber::hold_from(std::span<const std::uint32_t> members, std::string_view in) {
  const std::size_t end = held_.size() + in.size();
  const scrub_automaton& a = *automaton_;
  const scrub_window w{{held_.data(), held_.size()}, in};
  std::size_t from = end;
  for (const std::uint32_t m : members) {
    const scrub_nfa_state& st = a.nfa_state(m);
    const scrub_form& form = a.forms()[st.form];
    if (st.progress == 0 && st.unit == form.units.size()) {
      continue;  // a whole form, already masked: nothing can extend it
    }
    const std::size_t start =
        earliest_start(form, st.unit, w, end - st.progress, scratch_a_, scratch_b_);
    from = std::min(from, start == std::string_view::npos ? std::size_t{0} : start);
  }
  return from;
}

void scrubber::add_mask(std::uint64_t from, std::uint64_t to) {
  // Occurrences ending at one place count once, when one of them starts at or after
  // everything that ended before (so counts do not depend on the order forms are tried).
  if (to != group_end_) {
    group_end_ = to;
    group_until_ = masked_until_;
    group_counted_ = false;
  }
  if (!group_counted_ && from >= group_until_) {
    ++replacements_;
    group_counted_ = true;
  }
  masked_until_ = std::max(masked_until_, to);
  // Matches arrive in order of their ends, so only the last intervals can touch this one.
  while (!masks_.empty() && masks_.back().second >= from) {
    from = std::min(from, masks_.back().first);
    to = std::max(to, masks_.back().second);
    masks_.pop_back();
  }
  masks_.emplace_back(from, to);
}

// Sends bytes [0, keep_from) of held_ followed by in, masked; keeps the rest.
std::string_view scrubber::release(std::string_view in, std::size_t keep_from) {
  const std::size_t h = held_.size();
  const std::uint64_t release_end = base_ + keep_from;
  const bool masked = !masks_.empty() && masks_.front().first < release_end;
  std::string_view sent;
  if (h == 0 && !masked) {
    sent = in.substr(0, keep_from);
  } else {
    out_.clear();
    const std::size_t from_held = std::min(h, keep_from);
    out_.insert(out_.end(), held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(from_held));
    out_.insert(out_.end(), in.begin(),
                in.begin() + static_cast<std::ptrdiff_t>(keep_from - from_held));
    for (const auto& [from, to] : masks_) {
      if (from >= release_end) {
        break;
      }
      const std::uint64_t stop = std::min(to, release_end);
      std::memset(out_.data() + (from - base_), scrub_marker, stop - from);
    }
    sent = {out_.data(), out_.size()};
  }
  if (keep_from <= h) {
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(keep_from));
    held_.insert(held_.end(), in.begin(), in.end());
  } else {
    held_.assign(in.begin() + static_cast<std::ptrdiff_t>(keep_from - h), in.end());
  }
  base_ = release_end;
  masks_.erase(masks_.begin(), std::find_if(masks_.begin(), masks_.end(),
                                            [&](const auto& m) { return m.second > release_end; }));
  if (!masks_.empty() && masks_.front().first < release_end) {
    masks_.front().first = release_end;
  }
  return sent;
}

void scrubber::rekey(const std::shared_ptr<const scrub_automaton>& automaton) {
  if (automaton == automaton_) {
    return;
  }
  automaton_ = automaton;
  state_ = 0;
  active_.clear();
}

std::string_view scrubber::finish() {
  const std::string_view sent = release({}, held_.size());
  state_ = 0;
  active_.clear();
  return sent;
}

}  // namespace airlock::proxy

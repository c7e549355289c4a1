#include "proxy/policy/scrub_automaton.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <unordered_map>

#include "proxy/policy/scrub_skip.hpp"

namespace airlock::proxy {
namespace {

using subset = std::vector<std::uint32_t>;
template <class T>
using wiping_vector = std::vector<T, secrets::wiping_allocator<T>>;

struct subset_hash {
  std::size_t operator()(const subset& s) const noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const std::uint32_t v : s) {
      h = (h ^ v) * 0x100000001b3ULL;
    }
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

}  // namespace

// Subset construction, with the NFA's bytes first merged into classes that no edge tells
// apart (every byte no spelling uses is one class), so rows are short.
struct scrub_dfa_builder {
  scrub_dfa_builder(const scrub_nfa& n, scrub_automaton& a) : nfa(n), out(a) {}

  const scrub_nfa& nfa;
  scrub_automaton& out;
  std::size_t max_bytes = 0;     // for the table and the members together
  std::size_t member_count = 0;  // over all subsets
  // (class, to), in the order of nfa.edges (so nfa.edge_begin indexes them)
  wiping_vector<std::pair<std::uint32_t, std::uint32_t>> class_edges;
  std::vector<subset> start_moves;  // per class, where the forms' starts go
  std::vector<subset> subsets;      // per DFA state
  std::unordered_map<subset, std::uint32_t, subset_hash> ids;
  wiping_vector<std::uint32_t> rows;  // per state and class, unmultiplied state ids
  std::vector<std::uint32_t> touched;

  // Bytes with the same edges (from, to) everywhere share a class.
  void make_classes() {
    wiping_vector<scrub_nfa_edge> by_byte(nfa.edges.begin(), nfa.edges.end());
    std::sort(by_byte.begin(), by_byte.end(), [](const scrub_nfa_edge& x, const scrub_nfa_edge& y) {
      return x.byte != y.byte ? x.byte < y.byte : x.from != y.from ? x.from < y.from : x.to < y.to;
    });
    std::array<std::size_t, 257> run{};  // the edges on byte c are by_byte[run[c], run[c + 1])
    for (const auto& e : by_byte) {
      ++run[e.byte + 1U];
    }
    for (std::size_t c = 0; c < 256; ++c) {
      run[c + 1] += run[c];
    }
    const auto same = [&](unsigned x, unsigned y) {
      return std::equal(by_byte.begin() + run[x], by_byte.begin() + run[x + 1],
                        by_byte.begin() + run[y], by_byte.begin() + run[y + 1],
                        [](const scrub_nfa_edge& p, const scrub_nfa_edge& q) {
                          return p.from == q.from && p.to == q.to;
                        });
    };
    std::vector<unsigned> representative;  // a byte of each class
    for (unsigned c = 0; c < 256; ++c) {
      std::size_t k = 0;
      while (k < representative.size() && !same(c, representative[k])) {
        ++k;
      }
      if (k == representative.size()) {
        representative.push_back(c);
      }
      out.classes_[c] = static_cast<std::uint8_t>(k);
    }
    out.class_count_ = representative.size();
    for (const auto& e : nfa.edges) {
      class_edges.emplace_back(out.classes_[e.byte], e.to);
    }
    start_moves.assign(out.class_count_, {});
    for (const std::uint32_t s : nfa.starts) {
      for (std::uint32_t k = nfa.edge_begin[s]; k < nfa.edge_begin[s + 1]; ++k) {
        start_moves[class_edges[k].first].push_back(class_edges[k].second);
      }
    }
    for (auto& m : start_moves) {
      std::sort(m.begin(), m.end());
      m.erase(std::unique(m.begin(), m.end()), m.end());
    }
  }

  // The state for a subset, added (and queued, by its place in subsets) when new.
  std::uint32_t intern(subset&& s) {
    if (const auto it = ids.find(s); it != ids.end()) {
      return it->second;
    }
    const auto id = static_cast<std::uint32_t>(subsets.size());
    member_count += s.size();
    ids.emplace(s, id);
    subsets.push_back(std::move(s));
    return id;
  }

  // Every class goes where the root sends it unless a member has an edge on it.
  bool fill_row(std::uint32_t d, std::vector<subset>& bucket) {
    const std::size_t n = out.class_count_;
    rows.resize((d + 1) * n);
    touched.clear();
    for (const std::uint32_t m : subsets[d]) {
      for (std::uint32_t k = nfa.edge_begin[m]; k < nfa.edge_begin[m + 1]; ++k) {
        const auto [cls, to] = class_edges[k];
        if (bucket[cls].empty()) {
          touched.push_back(cls);
        }
        bucket[cls].push_back(to);
      }
    }
    for (std::size_t c = 0; c < n; ++c) {
      rows[d * n + c] = d == 0 ? 0 : rows[c];
    }
    for (const std::uint32_t cls : touched) {
      subset s = std::move(bucket[cls]);
      bucket[cls] = {};
      s.insert(s.end(), start_moves[cls].begin(), start_moves[cls].end());
      std::sort(s.begin(), s.end());
      s.erase(std::unique(s.begin(), s.end()), s.end());
      rows[d * n + cls] = intern(std::move(s));
    }
    if (d == 0) {
      for (std::size_t c = 0; c < n; ++c) {
        if (rows[c] == 0 && !start_moves[c].empty()) {
          rows[c] = intern(subset(start_moves[c]));
        }
      }
    }
    return (subsets.size() * out.class_count_ + member_count) * sizeof(std::uint32_t) <= max_bytes;
  }

  bool determinize() {
    intern({});  // the root: nothing under way
    std::vector<subset> bucket(out.class_count_);
    for (std::uint32_t d = 0; d < subsets.size(); ++d) {
      if (!fill_row(d, bucket)) {
        return false;
      }
    }
    return true;
  }

  bool accepting(const subset& s) const {
    return std::any_of(s.begin(), s.end(), [&](std::uint32_t m) { return nfa.states[m].accept; });
  }

  // Accepting states move to the end so the scan tests one comparison; rows premultiplied.
  void emit() {
    const std::size_t n = out.class_count_;
    std::vector<std::uint32_t> order;
    std::vector<std::uint32_t> place(subsets.size());
    for (int pass = 0; pass < 2; ++pass) {
      for (std::uint32_t d = 0; d < subsets.size(); ++d) {
        if (accepting(subsets[d]) == (pass == 1)) {
          place[d] = static_cast<std::uint32_t>(order.size());
          order.push_back(d);
        }
      }
      if (pass == 0) {
        out.accept_from_ = static_cast<std::uint32_t>(order.size() * n);
      }
    }
    out.table_.resize(subsets.size() * n);
    out.member_begin_.push_back(0);
    for (std::uint32_t p = 0; p < order.size(); ++p) {
      const std::uint32_t d = order[p];
      for (std::size_t c = 0; c < n; ++c) {
        out.table_[p * n + c] = static_cast<std::uint32_t>(place[rows[d * n + c]] * n);
      }
      out.members_.insert(out.members_.end(), subsets[d].begin(), subsets[d].end());
      out.member_begin_.push_back(static_cast<std::uint32_t>(out.members_.size()));
    }
  }
};

// The NFA's edges stay for the scrubber to follow, with each byte's start moves apart.
void scrub_automaton::keep_nfa(scrub_nfa& nfa) {
  nfa_edges_.assign(nfa.edges.begin(), nfa.edges.end());
  nfa_edge_begin_ = nfa.edge_begin;
  wiping_vector<std::pair<std::uint8_t, std::uint32_t>> moves;
  for (const std::uint32_t s : nfa.starts) {
    for (std::uint32_t k = nfa.edge_begin[s]; k < nfa.edge_begin[s + 1]; ++k) {
      moves.emplace_back(nfa.edges[k].byte, nfa.edges[k].to);
    }
  }
  std::sort(moves.begin(), moves.end());
  moves.erase(std::unique(moves.begin(), moves.end()), moves.end());
  for (const auto& [byte, to] : moves) {
    ++start_begin_[byte + 1U];
    start_targets_.push_back(to);
  }
  for (std::size_t c = 0; c < 256; ++c) {
    start_begin_[c + 1] += start_begin_[c];
  }
}

// A pair of bytes may start something when a thread that begins at the first byte is alive
// after the second (or has matched at the first).
void scrub_automaton::make_pairs() {
  const auto set = [this](unsigned first, unsigned second) {
    const unsigned pair = first | (second << 8);
    pairs_[pair >> 6] |= std::uint64_t{1} << (pair & 63);
  };
  for (unsigned first = 0; first < 256; ++first) {
    for (const std::uint32_t s1 : start_moves(static_cast<std::uint8_t>(first))) {
      if (nfa_states_[s1].accept) {
        for (unsigned second = 0; second < 256; ++second) {
          set(first, second);
        }
      }
      for (const scrub_nfa_edge& e : edges(s1)) {
        set(first, e.byte);
      }
    }
  }
  std::array<bool, 256> firsts{};
  std::array<bool, 256> seconds{};
  for (unsigned pair = 0; pair < 65536; ++pair) {
    if ((pairs_[pair >> 6] >> (pair & 63)) & 1U) {
      firsts[pair & 0xff] = true;
      seconds[pair >> 8] = true;
    }
  }
  shufti_tables(firsts, nibbles_.data(), nibbles_.data() + 16);
  shufti_tables(seconds, nibbles_.data() + 32, nibbles_.data() + 48);
}

// Every four bytes a spelling can begin with, following the NFA from each start. False when
// a path accepts in fewer than four bytes: then no four-byte filter is sound.
bool scrub_automaton::add_quads(std::uint32_t state, std::uint8_t* bytes, unsigned depth) {
  if (depth == 4) {
    const std::uint32_t h = quad_hash(bytes);
    quads_[h >> 6] |= std::uint64_t{1} << (h & 63);
    return true;
  }
  if (depth > 0 && nfa_states_[state].accept) {
    return false;
  }
  const auto follow = [&](const scrub_nfa_edge& e) {
    bytes[depth] = e.byte;
    return add_quads(e.to, bytes, depth + 1);
  };
  return std::all_of(nfa_edges_.begin() + nfa_edge_begin_[state],
                     nfa_edges_.begin() + nfa_edge_begin_[state + 1], follow);
}

void scrub_automaton::make_quads() {
  quads_.assign((std::size_t{1} << quad_bits) / 64, 0);
  std::array<std::uint8_t, 4> bytes{};
  quads_ready_ = true;
  for (std::uint32_t s = 0; s < nfa_states_.size() && quads_ready_; ++s) {
    if (nfa_states_[s].unit == 0 && nfa_states_[s].progress == 0) {
      quads_ready_ = add_quads(s, bytes.data(), 0);
    }
  }
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!quads_ready_) {
    quads_.clear();
  }
}

std::shared_ptr<const scrub_automaton> scrub_automaton::build(
    std::span<const std::string_view> values, std::size_t max_dfa_bytes) {
  auto a = std::make_shared<scrub_automaton>();
  a->forms_ = scrub_forms(values);
  for (const auto& f : a->forms_) {
    a->longest_ = std::max(a->longest_, longest_spelling(f));
  }
  scrub_nfa nfa = build_scrub_nfa(a->forms_);
  a->nfa_states_ = nfa.states;
  a->keep_nfa(nfa);
  a->make_pairs();
  a->make_quads();
  {
    scrub_dfa_builder b{nfa, *a};
    b.make_classes();
    b.max_bytes = max_dfa_bytes;
    if (b.determinize()) {
      b.emit();
      // The DFA replaces the NFA's edges.
      a->nfa_edges_ = {};
      a->nfa_edge_begin_ = {};
      a->start_targets_ = {};
      a->start_begin_ = {};
    }
  }
  return a;
}

scrub_automaton::~scrub_automaton() {
  // The table and forms spell the secrets and wipe themselves; the pair filter hints at them.
  OPENSSL_cleanse(pairs_.data(), sizeof(pairs_));
  OPENSSL_cleanse(nibbles_.data(), sizeof(nibbles_));
  if (!quads_.empty()) {
    OPENSSL_cleanse(quads_.data(), quads_.size() * sizeof(quads_[0]));
  }
}

}  // namespace airlock::proxy

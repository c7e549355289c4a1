#include "proxy/flow/scrub_cache.hpp"

#include <algorithm>
#include <string_view>

#include "secrets/store.hpp"

namespace airlock::proxy {

namespace {

constexpr std::size_t max_entries = 256;

}  // namespace

scrub_cache::scrub_cache(const std::vector<config::credential_rule>& rules,
                         const secrets::store& store, std::size_t decoding_limit)
    : rules_(rules), store_(store), decodes_(decoding_limit) {}

std::uint64_t scrub_cache::generation() const {
  return store_.generation();
}

std::shared_ptr<const scrub_automaton> scrub_cache::get(const scrub_scope& scope) {
  // Read before the values: a change after this makes the entry stale, never the reverse.
  const std::uint64_t gen = store_.generation();
  std::lock_guard lock(mutex_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const entry& e) { return e.rules == scope.rules; });
  if (it != entries_.end() && it->generation == gen) {
    return it->automaton;
  }
  // Each value read stays alive (not wiped by a rotation on another thread) until built.
  std::vector<secrets::value_ref> pins;
  const secret_lookup lookup = [&](std::string_view name) {
    secrets::value_ref v = store_.get(name);
    if (!v) {
      return std::optional<std::string_view>();
    }
    pins.push_back(std::move(v));
    return std::optional<std::string_view>(pins.back()->reveal());
  };
  const std::vector<scrub_text> values = scrub_values(rules_, scope, lookup);
  std::vector<std::string_view> views(values.begin(), values.end());
  auto built = scrub_automaton::build(views);
  if (it == entries_.end()) {
    if (entries_.size() >= max_entries) {
      entries_.clear();
    }
    entries_.push_back(entry{scope.rules, gen, built});
  } else {
    it->generation = gen;
    it->automaton = built;
  }
  return built;
}

void scrub_cache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

const std::shared_ptr<const scrub_automaton>& scrub_memo::get(scrub_cache& cache,
                                                              const scrub_scope& scope) {
  const std::uint64_t gen = cache.generation();
  if (!automaton_ || gen != generation_ || rules_ != scope.rules) {
    automaton_ = cache.get(scope);
    rules_ = scope.rules;
    generation_ = gen;
  }
  return automaton_;
}

}  // namespace airlock::proxy

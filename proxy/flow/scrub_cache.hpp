#pragma once
// The compiled scrubbers, one per scope (the set of rules whose secrets a host's responses
// must not carry), shared by every worker. Built on first use and again after any secret
// changes (the store's generation moves on a push, a rotation or a revoke), so a rotated
// key is scrubbed from the first response after the rotation. Building takes a few
// milliseconds per key and happens once per change, under the cache's lock.

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "config/model.hpp"
#include "proxy/flow/head_budget.hpp"
#include "proxy/policy/scrub_automaton.hpp"
#include "proxy/policy/scrub_scope.hpp"

namespace airlock::secrets {
class store;
}

namespace airlock::proxy {

class scrub_cache {
 public:
  // decoding_limit: proxy.max_decoding_bytes.
  scrub_cache(const std::vector<config::credential_rule>& rules, const secrets::store& store,
              std::size_t decoding_limit);

  // The automaton for the scope's secrets as they are now; never null (one that matches
  // nothing when no value is present, say after a revoke).
  std::shared_ptr<const scrub_automaton> get(const scrub_scope& scope);

  // Drops every automaton (they hold the secrets' forms): after a revoke, nothing of a
  // wiped secret stays here.
  void clear();

  std::uint64_t generation() const;

  // Memory for decoding compressed answers, shared by every worker: each decoding answer
  // holds response_filter::decoding_reserve of it while it lasts.
  head_budget& decodes() { return decodes_; }

 private:
  struct entry {
    std::vector<std::uint32_t> rules;
    std::uint64_t generation = 0;
    std::shared_ptr<const scrub_automaton> automaton;
  };

  const std::vector<config::credential_rule>& rules_;
  const secrets::store& store_;
  std::mutex mutex_;
  // A scope per distinct set of rules naming one host: as many as the config makes, which
  // the bound below only guards.
  std::vector<entry> entries_;
  head_budget decodes_;
};

// An exchange's memo of the automaton it used last, so a connection that keeps talking to
// one host takes no lock per response: asked again only when the scope or a secret changed.
class scrub_memo {
 public:
  // A reference to the memo's own: asked before every read of a long answer, it copies
  // (and counts) nothing when nothing changed.
  const std::shared_ptr<const scrub_automaton>& get(scrub_cache& cache, const scrub_scope& scope);

 private:
  std::vector<std::uint32_t> rules_;
  std::uint64_t generation_ = 0;
  std::shared_ptr<const scrub_automaton> automaton_;
};

}  // namespace airlock::proxy

// Fuzz target: response scrubbing (issue 18). A secret and a body from the input, the body
// with concrete spellings of the secret planted where the input asks, fed to a scrubber in
// pieces cut at random places. Whatever the cuts: the output is the body with exactly the
// occurrences the slow reference scrubber finds masked (so a body without the secret comes
// out byte for byte), no concrete spelling of the secret survives, and what is held back
// never exceeds the longest spelling less one.
//
// Input: [flags+length][secret...][seed][body...], where body byte 0xff followed by k plants
// concrete spelling k of the secret. Flag 0x80 also scrubs "u:" + secret (a basic_auth pair);
// seed bit 0x80 scrubs with the NFA the scrubber falls back to when a DFA would not fit.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/policy/scrubber.hpp"
#include "tests/support/scrub_reference.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// Mutations mostly change the body, so the automaton of a recent secret is kept: building
// one takes longer than scrubbing a fuzz input.
std::shared_ptr<const airlock::proxy::scrub_automaton> automaton_for(
    const std::vector<std::string_view>& values, bool nfa) {
  static std::map<std::pair<std::vector<std::string>, bool>,
                  std::shared_ptr<const airlock::proxy::scrub_automaton>>
      cache;
  std::pair<std::vector<std::string>, bool> key{{values.begin(), values.end()}, nfa};
  if (const auto it = cache.find(key); it != cache.end()) {
    return it->second;
  }
  if (cache.size() >= 64) {
    cache.clear();
  }
  // A DFA budget of 4 MiB keeps builds quick under the sanitizers; a self-repeating secret
  // then falls back to the NFA here too.
  auto a = airlock::proxy::scrub_automaton::build(values, nfa ? 1 : std::size_t{4} << 20);
  cache.emplace(std::move(key), a);
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace airlock::proxy;
  if (size < 3) {
    return 0;
  }
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t length = 1 + (data[0] & 0x7f) % 48;
  if (size < 2 + length) {
    return 0;
  }
  const std::string secret(input.substr(1, length));
  const std::string pair = "u:" + secret;
  std::vector<std::string_view> values{secret};
  if ((data[0] & 0x80) != 0) {
    values.push_back(pair);
  }
  std::mt19937 rng(data[1 + length]);
  const auto spellings = testing::concrete_spellings(secret);
  std::string body;
  for (std::size_t i = 2 + length; i < size; ++i) {
    if (data[i] == 0xff && i + 1 < size) {
      body += spellings[data[++i] % spellings.size()];
    } else {
      body += static_cast<char>(data[i]);
    }
  }

  const auto automaton = automaton_for(values, (data[1 + length] & 0x80) != 0);
  scrubber s(automaton);
  std::string out;
  for (std::size_t at = 0; at < body.size();) {
    const std::size_t n = std::min<std::size_t>(rng() % 64, body.size() - at);
    out += s.feed(std::string_view(body).substr(at, n));
    at += n;
    check(s.held() < automaton->longest() || s.held() == 0);
    check(out.size() + s.held() == at);
  }
  out += s.finish();
  check(s.held() == 0);

  std::size_t occurrences = 0;
  check(out == testing::reference_scrub(values, body, &occurrences));
  check(s.replacements() == occurrences);
  for (const std::string& form : spellings) {
    if (form.find('*') == std::string::npos) {
      check(out.find(form) == std::string::npos);
    }
  }
  return 0;
}

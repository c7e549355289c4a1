// Fuzz target: WebSocket frames from a scrubbed upstream (issue 18). Two modes:
// - Frames built from the input: a secret, messages with concrete spellings of it planted
//   where the input asks, cut into fragments at random with control frames between them, the
//   stream fed in random pieces the way the tunnel feeds it (what is not consumed is fed
//   again). The agent reads exactly the reference scrubber's output for each message and
//   control frame, no spelling survives, and the count matches.
// - Raw bytes as frames (the parser): the filter fails exactly when a frame breaks a rule
//   (an independent reader in tests/support/ws_frames.hpp judges), sends the agent the
//   scrubbed events of the frames before it in whole, well-formed frames, leaves at most a
//   control frame unconsumed, and its output stays within the bound its header promises.
//
// Input: [flags+length][secret...][seed][body...]. Flag 0x80: raw mode. In frame mode, body
// byte 0xff followed by k plants concrete spelling k of the secret; seed bit 0x80 scrubs with
// the NFA the scrubber falls back to when a DFA would not fit.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/filter/ws_filter.hpp"
#include "tests/support/ws_frames.hpp"

namespace {

using namespace airlock::proxy;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// Mutations mostly change the frames, so the automata of recent secrets are kept: building
// one takes longer than filtering a fuzz input.
std::shared_ptr<const scrub_automaton> automaton_for(const std::string& secret, bool nfa) {
  static std::map<std::pair<std::string, bool>, std::shared_ptr<const scrub_automaton>> cache;
  std::pair<std::string, bool> key{secret, nfa};
  if (const auto it = cache.find(key); it != cache.end()) {
    return it->second;
  }
  if (cache.size() >= 64) {
    cache.clear();
  }
  // A DFA budget of 4 MiB keeps builds quick under the sanitizers.
  const std::vector<std::string_view> values{secret};
  auto a = scrub_automaton::build(values, nfa ? 1 : std::size_t{4} << 20);
  cache.emplace(std::move(key), a);
  return a;
}

// Feeds `stream` in pieces cut by rng, keeping what is not consumed; reads every output.
// Whether the filter failed.
bool feed_all(ws_filter& f, std::string_view stream, std::mt19937& rng, std::size_t longest,
              testing::ws_reader& reader) {
  std::string buf;
  std::string out;
  for (std::size_t at = 0; at < stream.size() || !buf.empty();) {
    const std::size_t n = std::min<std::size_t>(rng() % 200, stream.size() - at);
    buf.append(stream.substr(at, n));
    at += n;
    const std::size_t frames = reader.frames();
    const ws_filter::result res = f.feed(buf, out);
    check(reader.read(out).empty());
    check(out.size() <= buf.size() + longest + 10 * (reader.frames() - frames));
    out.clear();
    if (res.error) {
      return true;
    }
    check(res.consumed <= buf.size());
    buf.erase(0, res.consumed);
    check(buf.size() <= 127);
    if (at == stream.size() && n == 0) {
      return false;  // what is left waits for bytes that will not come
    }
  }
  return false;
}

// The number of occurrences the filter counts includes those in a message never ended.
void check_events(const ws_filter& f, const testing::ws_reader& reader, const std::string& secret,
                  const std::vector<testing::ws_frame>& frames, bool all_ended) {
  std::size_t occurrences = 0;
  check(reader.events == testing::ws_expected({secret}, frames, &occurrences));
  check(all_ended ? f.replacements() == occurrences : f.replacements() >= occurrences);
  const auto spellings = testing::concrete_spellings(secret);
  for (const testing::ws_event& e : reader.events) {
    for (const std::string& form : spellings) {
      if (form.find('*') == std::string::npos) {
        check(e.payload.find(form) == std::string::npos);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) {
    return 0;
  }
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t length = 1 + (data[0] & 0x7f) % 48;
  if (size < 2 + length) {
    return 0;
  }
  const std::string secret(input.substr(1, length));
  const std::uint8_t seed = data[1 + length];
  std::mt19937 rng(seed);
  const auto automaton = automaton_for(secret, (seed & 0x80) != 0);
  const std::string_view body = input.substr(2 + length);
  ws_filter f(automaton);
  testing::ws_reader reader;

  if ((data[0] & 0x80) != 0) {
    // Fails exactly when a frame breaks a rule, and passes what comes before it.
    const testing::ws_parsed parsed = testing::ws_parse(body);
    check(feed_all(f, body, rng, automaton->longest(), reader) == parsed.invalid);
    check_events(f, reader, secret, parsed.frames, false);
    return 0;
  }

  const auto spellings = testing::concrete_spellings(secret);
  std::string text;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (static_cast<std::uint8_t>(body[i]) == 0xff && i + 1 < body.size()) {
      text += spellings[static_cast<std::uint8_t>(body[++i]) % spellings.size()];
    } else {
      text += body[i];
    }
  }
  // Messages of random length, each cut into fragments, a control frame now and then between
  // them carrying a piece of the text (so spellings in pings, and cut short, too).
  std::vector<testing::ws_frame> frames;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.size(), at + rng() % 400);
    const auto op = static_cast<std::uint8_t>(1 + rng() % 2);
    for (bool first = true;; first = false) {
      const std::size_t n = std::min<std::size_t>(rng() % 100, end - at);
      const bool fin = at + n == end && rng() % 4 != 0;
      frames.push_back({fin, first ? op : std::uint8_t{0}, text.substr(at, n)});
      at += n;
      if (fin) {
        break;
      }
      if (rng() % 4 == 0) {
        const std::size_t from = rng() % (text.size() + 1);
        frames.push_back(
            {true, static_cast<std::uint8_t>(9 + rng() % 2), text.substr(from, rng() % 126)});
      }
    }
  }
  std::string stream;
  for (const testing::ws_frame& fr : frames) {
    stream += testing::ws_encode(fr);
  }
  check(!feed_all(f, stream, rng, automaton->longest(), reader));
  check(!reader.open());
  check_events(f, reader, secret, frames, true);
  return 0;
}

// Response scrubbing throughput (issue 18): a 1 GiB synthetic body streamed through one
// scrubber in 16 KiB chunks, with four secrets configured (every form of each). Prints GB/s
// and CPU seconds per GB on one core. A bench, not a test: it asserts no speed.
//
// usage: scrub_bench [text|random|base64|json-escaped] [GiB]
//   text:         JSON/SSE-like ASCII (words, numbers, punctuation, a few %XX and \n escapes)
//   random:       uniform random bytes
//   base64:       a random base64 string
//   json-escaped: non-English JSON text the way Python's json.dumps writes it (\uXXXX)
// One occurrence of a secret (a different form each time) is planted every 64 KiB, so the
// matching path runs too; the replacements counted are checked against the plants.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/policy/scrubber.hpp"

namespace {

using airlock::proxy::scrub_automaton;
using airlock::proxy::scrubber;

std::string random_token(std::mt19937_64& rng, std::string_view prefix, std::size_t n,
                         std::string_view alphabet) {
  std::string s(prefix);
  for (std::size_t i = 0; i < n; ++i) {
    s += alphabet[rng() % alphabet.size()];
  }
  return s;
}

std::string base64(std::string_view in) {
  static constexpr std::string_view chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size())
      v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size())
      v |= static_cast<unsigned char>(in[i + 2]);
    out += chars[(v >> 18) & 63];
    out += chars[(v >> 12) & 63];
    out += i + 1 < in.size() ? chars[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? chars[v & 63] : '=';
  }
  return out;
}

std::string percent_all(std::string_view in) {
  std::string out;
  char buf[4];
  for (const char c : in) {
    std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
    out += buf;
  }
  return out;
}

std::string make_filler(std::string_view kind, std::mt19937_64& rng, std::size_t n) {
  static constexpr std::string_view b64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr const char* words[] = {
      "the",   "model",   "response", "token",  "stream",    "data",
      "event", "content", "delta",    "text",   "of",        "and",
      "a",     "to",      "in",       "is",     "that",      "for",
      "with",  "as",      "on",       "by",     "\"type\":", "\"index\":",
      "{",     "}",       "[",        "]",      ",",         ":",
      "%20",   "\\n",     "\\\"",     "12345",  "3.14",      "https://example.com/path?q=1&r=2",
      "null",  "true",    "\n",       "data: {"};
  std::string s;
  s.reserve(n + 64);
  while (s.size() < n) {
    if (kind == "random") {
      s += static_cast<char>(rng() & 0xff);
    } else if (kind == "base64") {
      s += b64[rng() % 64];
    } else if (kind == "json-escaped") {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", 0x4e00 + static_cast<unsigned>(rng() % 0x5000));
      s += buf;
      if (rng() % 8 == 0)
        s += "\", \"";
    } else {
      s += words[rng() % (sizeof words / sizeof words[0])];
      s += ' ';
    }
  }
  s.resize(n);
  return s;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string kind = argc > 1 ? argv[1] : "text";
  const double gib = argc > 2 ? std::atof(argv[2]) : 1.0;
  std::mt19937_64 rng(18);
  const std::string url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::vector<std::string> secrets{random_token(rng, "sk-ant-api03-", 40, url),
                                         random_token(rng, "ghp_", 36, url),
                                         random_token(rng, "", 32, "0123456789abcdef"),
                                         "bench-user:" + random_token(rng, "", 24, url)};
  const std::vector<std::string_view> views(secrets.begin(), secrets.end());

  const auto t0 = std::chrono::steady_clock::now();
  const auto automaton = scrub_automaton::build(views);
  const auto t1 = std::chrono::steady_clock::now();
  if (!automaton) {
    std::fprintf(stderr, "automaton too large\n");
    return 1;
  }

  // 1 MiB of filler with a planted occurrence every 64 KiB, cycling through the forms.
  constexpr std::size_t body_size = std::size_t{1} << 20;
  constexpr std::size_t plant_every = std::size_t{64} << 10;
  std::string body = make_filler(kind, rng, body_size);
  std::size_t planted = 0;
  for (std::size_t at = 1000; at + 512 < body_size; at += plant_every, ++planted) {
    const std::string& s = secrets[planted % secrets.size()];
    std::string form;
    switch (planted % 3) {
      case 0:
        form = s;
        break;
      case 1:
        form = base64(s);
        break;
      default:
        form = percent_all(s);
        break;
    }
    body.replace(at, form.size(), form);
  }

  const std::size_t total = static_cast<std::size_t>(gib * static_cast<double>(1ULL << 30));
  constexpr std::size_t chunk = 16 << 10;
  scrubber sc(automaton);
  std::size_t out_bytes = 0;
  const double c0 = cpu_seconds();
  const auto w0 = std::chrono::steady_clock::now();
  for (std::size_t done = 0; done < total; done += chunk) {
    const std::size_t off = done % body_size;
    out_bytes += sc.feed(std::string_view(body).substr(off, chunk)).size();
  }
  out_bytes += sc.finish().size();
  const auto w1 = std::chrono::steady_clock::now();
  const double c1 = cpu_seconds();

  const double wall = std::chrono::duration<double>(w1 - w0).count();
  const double cpu = c1 - c0;
  const double gb = static_cast<double>(total) / 1e9;
  const std::size_t rounds = total / body_size;
  std::printf("scrub_bench body=%s bytes=%zu chunk=%zu secrets=%zu forms=%zu\n", kind.c_str(),
              total, chunk, secrets.size(), automaton->forms().size());
  std::printf("automaton: %zu states, %zu classes, %.1f MiB table, built in %.1f ms\n",
              automaton->state_count(), automaton->class_count(),
              static_cast<double>(automaton->table_bytes()) / (1 << 20),
              std::chrono::duration<double, std::milli>(t1 - t0).count());
  std::printf("throughput: %.2f GB/s wall, %.3f CPU s/GB (%.2f GB/s of CPU)\n", gb / wall, cpu / gb,
              gb / cpu);
  std::printf("replacements: %llu (planted %zu)%s\n",
              static_cast<unsigned long long>(sc.replacements()), planted * rounds,
              out_bytes == total ? "" : "  OUTPUT SIZE MISMATCH");
  return out_bytes == total && sc.replacements() == planted * rounds ? 0 : 1;
}

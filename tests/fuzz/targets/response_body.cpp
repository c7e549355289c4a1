// Fuzz target: a response body from a scrubbed host (issue 18) through the response filter.
// A secret and a body from the input (with concrete spellings of the secret planted where
// the input asks), framed as Content-Length, chunked (random chunk sizes) or close-delimited,
// optionally gzip- or deflate-coded, fed in pieces cut at random places. Whatever the cuts:
// the body completes, its framing is well formed, and what the client gets is exactly the
// reference scrubber's output of the decoded body (so a body without the secret comes out
// byte for byte and no concrete spelling survives); no step yields more than max_decoded
// plus a chunk's framing.
//
// Input: [secret length][secret...][mode][seed][body...]; mode picks framing and coding;
// body byte 0xff followed by k plants concrete spelling k of the secret.

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/filter/response_filter.hpp"
#include "tests/support/scrub_reference.hpp"
#include "tests/support/zlib_compress.hpp"

namespace {

using airlock::proxy::body_coding;
using airlock::proxy::response_filter;
namespace http = airlock::proxy::http;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

std::shared_ptr<const airlock::proxy::scrub_automaton> automaton_for(const std::string& secret) {
  static std::map<std::string, std::shared_ptr<const airlock::proxy::scrub_automaton>> cache;
  if (const auto it = cache.find(secret); it != cache.end()) {
    return it->second;
  }
  if (cache.size() >= 64) {
    cache.clear();
  }
  const std::vector<std::string_view> values{secret};
  auto a = airlock::proxy::scrub_automaton::build(values, std::size_t{4} << 20);
  cache.emplace(secret, a);
  return a;
}

std::string compress(std::string_view in, int window_bits) {
  auto out = airlock::proxy::testing::zlib_compress(in, window_bits);
  check(out.has_value());
  return *out;
}

std::string chunked(std::string_view body, std::mt19937& rng) {
  std::string out;
  for (std::size_t at = 0; at < body.size();) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 40, body.size() - at);
    char line[24];
    std::snprintf(line, sizeof line, "%zx\r\n", n);
    out += line;
    out.append(body.substr(at, n));
    out += "\r\n";
    at += n;
  }
  return out + "0\r\n\r\n";
}

std::string unchunk(std::string_view wire) {
  std::string out;
  for (;;) {
    const auto eol = wire.find("\r\n");
    check(eol != std::string_view::npos && eol > 0);
    const std::size_t n = std::strtoul(std::string(wire.substr(0, eol)).c_str(), nullptr, 16);
    wire.remove_prefix(eol + 2);
    if (n == 0) {
      check(wire == "\r\n");
      return out;
    }
    check(wire.size() >= n + 2 && wire.substr(n, 2) == "\r\n");
    out.append(wire.substr(0, n));
    wire.remove_prefix(n + 2);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) {
    return 0;
  }
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t length = 8 + data[0] % 40;
  if (size < 3 + length) {
    return 0;
  }
  const std::string secret(input.substr(1, std::min(length, size - 3)));
  const std::uint8_t mode = data[1 + secret.size()];
  std::mt19937 rng(data[2 + secret.size()]);
  const auto spellings = airlock::proxy::testing::concrete_spellings(secret);
  std::string body;
  for (std::size_t i = 3 + secret.size(); i < size; ++i) {
    if (data[i] == 0xff && i + 1 < size) {
      body += spellings[data[++i] % spellings.size()];
    } else {
      body += static_cast<char>(data[i]);
    }
  }
  const auto framing = std::array{http::body_kind::length, http::body_kind::chunked,
                                  http::body_kind::until_close}[mode % 3];
  const auto coding = std::array{body_coding::kind::identity, body_coding::kind::gzip,
                                 body_coding::kind::deflate}[(mode / 3) % 3];
  const bool coded = coding != body_coding::kind::identity;
  std::string payload = body;
  if (coded) {
    payload = compress(body, coding == body_coding::kind::gzip ? 31 : ((mode & 0x80) ? -15 : 15));
  }
  const std::string wire = framing == http::body_kind::chunked ? chunked(payload, rng) : payload;
  const bool chunked_out = framing == http::body_kind::chunked || coded;

  response_filter f;
  f.start(automaton_for(secret), {framing, payload.size(), coding, chunked_out});
  std::string out;
  std::string buf;
  bool done = false;
  bool all_in = false;  // the last bytes were fed: what follows is the upstream closing
  for (std::size_t at = 0; !done;) {
    const bool eof = all_in;
    // Content-Length and chunked bodies end by their framing, before the upstream closes.
    check(!eof || framing == http::body_kind::until_close);
    if (!eof) {
      const std::size_t n = std::min<std::size_t>(rng() % 300, wire.size() - at);
      buf.append(wire.substr(at, n));
      at += n;
      all_in = at == wire.size();
    }
    for (;;) {
      const auto s = eof ? f.end_of_input() : f.feed(buf);
      check(s.error.empty());
      std::size_t step = 0;
      for (const auto part : s.out) {
        out.append(part);
        step += part.size();
      }
      check(!coded || step <= response_filter::max_decoded + 32);
      buf.erase(0, s.consumed);
      done = s.done;
      if (done || !s.more) {
        break;
      }
    }
    check(done || !eof);
  }
  const std::string got = chunked_out ? unchunk(out) : out;
  check(got == airlock::proxy::testing::reference_scrub({secret}, body));
  return 0;
}

// Fuzz target: decoding what an upstream compressed (issue 18). Either random bytes fed as a
// gzip or deflate body, or the body compressed by zlib first and then decoded, both in pieces
// cut at random places into a buffer of a random small size. Whatever the input: no call
// writes more than its buffer or uses more than its input, a call short of a full buffer
// used all its input, an error is final, and what zlib compressed comes back byte for byte.
//
// Input: [flags][body...]. Flags bit 0: deflate rather than gzip; bits 1-2: the buffer size;
// bit 3: compress the body first (bits 4-5: gzip, zlib or raw deflate for deflate); the flags
// also seed the cuts.

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/filter/inflater.hpp"
#include "tests/support/zlib_compress.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

std::string compress(std::string_view data, int bits) {
  auto out = airlock::proxy::testing::zlib_compress(data, bits);
  check(out.has_value());
  return *out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using airlock::proxy::inflater;
  if (size < 1) {
    return 0;
  }
  const std::uint8_t flags = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool deflate = (flags & 0x01) != 0;
  static constexpr std::size_t buffers[] = {1, 7, 512, 16384};
  std::vector<char> out(buffers[(flags >> 1) & 0x03]);
  const bool round_trip = (flags & 0x08) != 0;
  static constexpr int deflate_bits[] = {15, -15, 15, -15};
  const std::string body = round_trip
                               ? compress(input, deflate ? deflate_bits[(flags >> 4) & 0x03] : 31)
                               : std::string(input);

  std::mt19937 rng(flags);
  inflater d(deflate ? inflater::coding::deflate : inflater::coding::gzip);
  std::string decoded;
  bool failed = false;
  for (std::size_t at = 0; at < body.size() && !failed;) {
    const std::size_t n = std::min<std::size_t>(rng() % 64, body.size() - at);
    std::string_view rest = std::string_view(body).substr(at, n);
    at += n;
    for (;;) {
      const auto r = d.feed(rest, out);
      check(r.consumed <= rest.size() && r.produced <= out.size());
      check(!(r.done && r.error) && r.done == d.finished());
      if (r.error) {
        check(!r.reason.empty());
        failed = true;
        const auto again = d.feed(rest, out);
        check(again.error && again.consumed == 0 && again.produced == 0);
        break;
      }
      // A bomb from a few KiB of input is a few MiB: kept only while the round trip needs it.
      if (round_trip) {
        decoded.append(out.data(), r.produced);
      }
      rest.remove_prefix(r.consumed);
      if (r.produced < out.size()) {
        check(rest.empty());
        break;
      }
    }
  }
  if (round_trip) {
    check(!failed && d.finished() && decoded == input);
  }
  return 0;
}

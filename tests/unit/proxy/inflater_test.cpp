// Decoding what an upstream compressed (issue 18): a scrubbed response is scanned as identity,
// so gzip and deflate bodies are inflated on the way. What must hold: the bytes come out as
// zlib's own compressor put them in, however the body is cut into reads and however small
// the output buffer; one call never writes more than its buffer (a bomb costs one buffer);
// a body that stops early is not finished; and a corrupt body, or bytes after the end of the
// stream, are an error with a reason rather than passed on.

#include "proxy/filter/inflater.hpp"
#include "tests/support/zlib_compress.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace airlock::proxy {
namespace {

using coding = inflater::coding;

constexpr int gzip_bits = 31;
constexpr int zlib_bits = 15;
constexpr int raw_bits = -15;

// zlib's own compressor: window bits 31 for gzip, 15 for zlib, -15 for raw deflate.
std::string compress(std::string_view data, int bits, int level = Z_DEFAULT_COMPRESSION,
                     gz_header* header = nullptr) {
  auto out = testing::zlib_compress(data, bits, level, header);
  EXPECT_TRUE(out);
  return out.value_or("");
}

coding coding_for(int bits) {
  return bits == gzip_bits ? coding::gzip : coding::deflate;
}

// Text that compresses, with some bytes that do not: matches and literals both.
std::string sample() {
  std::mt19937 rng(5);
  std::string s;
  for (int i = 0; s.size() < 3000; ++i) {
    s += "data: {\"index\":" + std::to_string(i) + ",\"text\":\"the quick brown fox\"}\n";
    for (int k = 0; k < 6; ++k) {
      s += static_cast<char>(rng() & 0xff);
    }
  }
  return s;
}

struct decoded {
  std::string out;
  bool error = false;
  std::string_view reason;
  bool finished = false;
};

// Feeds each piece in turn as the data plane would: again with the rest while the buffer
// came back full, checking every call keeps to its bounds and to the documented contract.
decoded decode(inflater& d, const std::vector<std::string_view>& pieces, std::size_t buffer) {
  decoded res;
  std::vector<char> out(buffer);
  for (std::string_view rest : pieces) {
    for (;;) {
      const auto r = d.feed(rest, out);
      EXPECT_LE(r.consumed, rest.size());
      EXPECT_LE(r.produced, out.size());
      res.out.append(out.data(), r.produced);
      if (r.error) {
        res.error = true;
        res.reason = r.reason;
        EXPECT_FALSE(r.reason.empty());
        return res;
      }
      EXPECT_EQ(r.done, d.finished());
      rest.remove_prefix(r.consumed);
      if (r.produced < out.size()) {
        EXPECT_TRUE(rest.empty());  // it stops short of a full buffer only for want of input
        break;
      }
    }
  }
  res.finished = d.finished();
  return res;
}

decoded decode_whole(coding c, std::string_view body, std::size_t buffer = 16 << 10) {
  inflater d(c);
  return decode(d, {body}, buffer);
}

TEST(inflater, round_trips_zlibs_gzip_zlib_and_raw_deflate) {
  const std::string text = sample();
  for (const int bits : {gzip_bits, zlib_bits, raw_bits}) {
    for (const int level : {0, 1, Z_DEFAULT_COMPRESSION, 9}) {
      SCOPED_TRACE(::testing::Message() << "bits " << bits << " level " << level);
      const auto res = decode_whole(coding_for(bits), compress(text, bits, level));
      EXPECT_FALSE(res.error) << res.reason;
      EXPECT_TRUE(res.finished);
      EXPECT_EQ(res.out, text);
    }
  }
}

TEST(inflater, every_split_point_decodes_the_same) {
  const std::string text = sample();
  for (const int bits : {gzip_bits, zlib_bits, raw_bits}) {
    const std::string body = compress(text, bits);
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
      SCOPED_TRACE(::testing::Message() << "bits " << bits << " cut " << cut);
      inflater d(coding_for(bits));
      const std::string_view b(body);
      const auto res = decode(d, {b.substr(0, cut), b.substr(cut)}, 16 << 10);
      ASSERT_FALSE(res.error) << res.reason;
      ASSERT_TRUE(res.finished);
      ASSERT_EQ(res.out, text);
    }
  }
}

TEST(inflater, one_byte_at_a_time_into_one_byte_buffers) {
  const std::string text = sample();
  for (const int bits : {gzip_bits, zlib_bits, raw_bits}) {
    SCOPED_TRACE(::testing::Message() << "bits " << bits);
    const std::string body = compress(text, bits);
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < body.size(); ++i) {
      bytes.push_back(std::string_view(body).substr(i, 1));
    }
    for (const std::size_t buffer : {std::size_t{1}, std::size_t{16} << 10}) {
      inflater d(coding_for(bits));
      const auto res = decode(d, bytes, buffer);
      EXPECT_FALSE(res.error) << res.reason;
      EXPECT_TRUE(res.finished);
      EXPECT_EQ(res.out, text);
    }
    // Whole input, one byte of output per call.
    const auto res = decode_whole(coding_for(bits), body, 1);
    EXPECT_TRUE(res.finished);
    EXPECT_EQ(res.out, text);
  }
}

// 100 MB of zeros in about 100 KB: each call writes at most the caller's 16 KiB, and the
// whole comes out, a buffer at a time.
TEST(inflater, a_bomb_costs_one_buffer_per_call) {
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 9, Z_DEFLATED, gzip_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  const std::string zeros(1 << 20, '\0');
  std::string bomb(256 << 10, '\0');
  z.next_out = reinterpret_cast<Bytef*>(bomb.data());
  z.avail_out = static_cast<uInt>(bomb.size());
  constexpr std::size_t megabytes = 100;
  for (std::size_t i = 0; i < megabytes; ++i) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = static_cast<uInt>(zeros.size());
    ASSERT_EQ(deflate(&z, i + 1 == megabytes ? Z_FINISH : Z_NO_FLUSH),
              i + 1 == megabytes ? Z_STREAM_END : Z_OK);
    ASSERT_EQ(z.avail_in, 0U);
  }
  bomb.resize(z.total_out);
  deflateEnd(&z);
  ASSERT_LT(bomb.size(), 200U << 10);

  inflater d(coding::gzip);
  std::vector<char> out(16 << 10);
  std::string_view rest(bomb);
  std::size_t total = 0;
  std::size_t calls = 0;
  for (;;) {
    const auto r = d.feed(rest, out);
    ASSERT_FALSE(r.error) << r.reason;
    ASSERT_LE(r.produced, out.size());
    ASSERT_EQ(static_cast<std::size_t>(std::count(out.begin(), out.begin() + r.produced, '\0')),
              r.produced);
    total += r.produced;
    ++calls;
    rest.remove_prefix(r.consumed);
    if (r.produced < out.size()) {
      break;
    }
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_TRUE(d.finished());
  EXPECT_EQ(total, megabytes << 20);
  EXPECT_GE(calls, total / out.size());
}

TEST(inflater, concatenated_gzip_members_decode_as_one_body) {
  const std::string text = sample();
  const std::string members = compress(text, gzip_bits) + compress("", gzip_bits) +
                              compress("and a third member\n", gzip_bits, 9);
  const std::string expected = text + "and a third member\n";
  EXPECT_EQ(decode_whole(coding::gzip, members).out, expected);
  for (std::size_t cut = 0; cut <= members.size(); ++cut) {
    SCOPED_TRACE(::testing::Message() << "cut " << cut);
    inflater d(coding::gzip);
    const std::string_view m(members);
    const auto res = decode(d, {m.substr(0, cut), m.substr(cut)}, 4096);
    ASSERT_FALSE(res.error) << res.reason;
    ASSERT_TRUE(res.finished);
    ASSERT_EQ(res.out, expected);
  }
}

// Between members the body could end cleanly; once the next one has begun, it could not.
TEST(inflater, a_gzip_stream_is_finished_only_between_members) {
  const std::string first = compress("one", gzip_bits);
  const std::string second = compress("two", gzip_bits);
  inflater d(coding::gzip);
  std::vector<char> out(64);
  auto r = d.feed(first, out);
  EXPECT_TRUE(r.done);
  EXPECT_TRUE(d.finished());
  EXPECT_EQ(std::string_view(out.data(), r.produced), "one");
  r = d.feed(std::string_view(second).substr(0, 5), out);
  EXPECT_EQ(r.consumed, 5U);
  EXPECT_FALSE(r.done);
  EXPECT_FALSE(d.finished());
  r = d.feed(std::string_view(second).substr(5), out);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(std::string_view(out.data(), r.produced), "two");
}

TEST(inflater, an_empty_gzip_member_is_a_finished_empty_body) {
  const auto res = decode_whole(coding::gzip, compress("", gzip_bits));
  EXPECT_FALSE(res.error);
  EXPECT_TRUE(res.finished);
  EXPECT_EQ(res.out, "");
  EXPECT_TRUE(decode_whole(coding::deflate, compress("", zlib_bits)).finished);
  EXPECT_TRUE(decode_whole(coding::deflate, compress("", raw_bits)).finished);
}

// Every prefix of a valid stream is valid so far and unfinished: a body cut short is seen.
TEST(inflater, a_truncated_stream_is_not_finished) {
  const std::string text = sample();
  for (const int bits : {gzip_bits, zlib_bits, raw_bits}) {
    const std::string body = compress(text, bits);
    for (std::size_t length = 0; length < body.size(); ++length) {
      SCOPED_TRACE(::testing::Message() << "bits " << bits << " length " << length);
      const auto res = decode_whole(coding_for(bits), std::string_view(body).substr(0, length));
      ASSERT_FALSE(res.error) << res.reason;
      ASSERT_FALSE(res.finished);
    }
  }
}

TEST(inflater, a_corrupt_stream_is_an_error_with_a_reason) {
  const std::string text = sample();
  std::string gzip = compress(text, gzip_bits);
  gzip[gzip.size() - 6] ^= 0x01;  // the CRC-32 of the trailer
  auto res = decode_whole(coding::gzip, gzip);
  EXPECT_TRUE(res.error);
  EXPECT_EQ(res.reason, "gzip stream invalid");
  EXPECT_FALSE(res.finished);

  std::string zlib = compress(text, zlib_bits);
  zlib[zlib.size() - 1] ^= 0x01;  // the Adler-32
  res = decode_whole(coding::deflate, zlib);
  EXPECT_TRUE(res.error);
  EXPECT_EQ(res.reason, "deflate stream invalid");

  // Raw deflate has no check value: a reserved block type, then.
  res = decode_whole(coding::deflate, std::string_view("\x07\x00\x00\x00", 4));
  EXPECT_TRUE(res.error);
  EXPECT_EQ(res.reason, "deflate stream invalid");

  // The error sticks: later feeds neither decode nor consume.
  inflater d(coding::gzip);
  std::vector<char> out(64);
  EXPECT_TRUE(d.feed("not gzip at all", out).error);
  const auto again = d.feed(compress("fine", gzip_bits), out);
  EXPECT_TRUE(again.error);
  EXPECT_EQ(again.reason, "gzip stream invalid");
  EXPECT_EQ(again.consumed, 0U);
  EXPECT_EQ(again.produced, 0U);
}

// What follows the end is not what a client that stops there reads, so it is not passed on.
TEST(inflater, data_after_the_end_is_an_error) {
  const std::string gzip = compress("body", gzip_bits);
  using namespace std::string_view_literals;
  for (const std::string_view tail : {"x"sv, "\0\0\0\0"sv, "\x1f\x8c"sv, "\x78\x9c"sv}) {
    SCOPED_TRACE(::testing::Message() << "tail " << ::testing::PrintToString(std::string(tail)));
    auto res = decode_whole(coding::gzip, gzip + std::string(tail));
    EXPECT_TRUE(res.error);
    EXPECT_EQ(res.reason, "data after the end of the gzip stream");
    // Also when the tail arrives in a later read, after the end was reported.
    inflater d(coding::gzip);
    res = decode(d, {gzip, tail}, 64);
    EXPECT_TRUE(res.error);
    EXPECT_EQ(res.out, "body");
  }
  for (const int bits : {zlib_bits, raw_bits}) {
    const auto res = decode_whole(coding::deflate, compress("body", bits) + "\x1f\x8b");
    EXPECT_TRUE(res.error);
    EXPECT_EQ(res.reason, "data after the end of the deflate stream");
  }
  // A gzip magic's first byte alone may begin another member: unfinished, not an error.
  const auto res = decode_whole(coding::gzip, gzip + "\x1f");
  EXPECT_FALSE(res.error);
  EXPECT_FALSE(res.finished);
  // A second member whose header is wrong after the magic: zlib's own header check.
  EXPECT_TRUE(decode_whole(coding::gzip, gzip + std::string("\x1f\x8b\x07\x00", 4)).error);
}

TEST(inflater, identity_or_the_other_coding_under_a_label_is_refused) {
  EXPECT_TRUE(decode_whole(coding::gzip, "hello world").error);
  EXPECT_TRUE(decode_whole(coding::deflate, "hello world").error);
  // gzip labelled deflate: not a zlib header, and not valid raw deflate either.
  EXPECT_TRUE(decode_whole(coding::deflate, compress("body", gzip_bits)).error);
  EXPECT_TRUE(decode_whole(coding::gzip, compress("body", zlib_bits)).error);
  EXPECT_TRUE(decode_whole(coding::gzip, compress("body", raw_bits)).error);
}

// HTTP's deflate is zlib; raw deflate is what many servers send. The zlib header decides.
TEST(inflater, deflate_reads_zlib_and_raw_and_refuses_a_preset_dictionary) {
  const std::string zlib = compress("zlib body", zlib_bits);
  ASSERT_EQ(zlib.substr(0, 2), "\x78\x9c");
  EXPECT_EQ(decode_whole(coding::deflate, zlib).out, "zlib body");
  EXPECT_EQ(decode_whole(coding::deflate, compress("raw body", raw_bits)).out, "raw body");

  z_stream z{};
  ASSERT_EQ(deflateInit(&z, Z_DEFAULT_COMPRESSION), Z_OK);
  const std::string dictionary = "a dictionary the client does not have";
  ASSERT_EQ(deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dictionary.data()),
                                 static_cast<uInt>(dictionary.size())),
            Z_OK);
  std::string body(256, '\0');
  std::string text = "a dictionary";
  z.next_in = reinterpret_cast<Bytef*>(text.data());
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(body.data());
  z.avail_out = static_cast<uInt>(body.size());
  ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  body.resize(z.total_out);
  deflateEnd(&z);
  const auto res = decode_whole(coding::deflate, body);
  EXPECT_TRUE(res.error);
  EXPECT_EQ(res.reason, "deflate stream needs a preset dictionary");
}

TEST(inflater, gzip_headers_with_extra_name_comment_and_header_crc) {
  std::string extra =
      "xy\x04\x00"
      "abcd";
  std::string name = "body.json";
  std::string comment = "made by a test";
  gz_header h{};
  h.extra = reinterpret_cast<Bytef*>(extra.data());
  h.extra_len = static_cast<uInt>(extra.size());
  h.name = reinterpret_cast<Bytef*>(name.data());
  h.comment = reinterpret_cast<Bytef*>(comment.data());
  h.hcrc = 1;
  const std::string text = sample();
  const std::string body = compress(text, gzip_bits, Z_DEFAULT_COMPRESSION, &h);
  for (std::size_t cut = 0; cut <= 40; ++cut) {
    inflater d(coding::gzip);
    const std::string_view b(body);
    const auto res = decode(d, {b.substr(0, cut), b.substr(cut)}, 1000);
    ASSERT_FALSE(res.error) << res.reason;
    ASSERT_EQ(res.out, text);
  }
}

TEST(inflater, an_empty_out_makes_no_progress_and_an_empty_in_waits) {
  for (const coding c : {coding::gzip, coding::deflate}) {
    inflater d(c);
    const auto r = d.feed("\x1f\x8b\x08", {});
    EXPECT_EQ(r.consumed, 0U);
    EXPECT_EQ(r.produced, 0U);
    EXPECT_FALSE(r.error);
    std::vector<char> out(16);
    const auto w = d.feed("", out);
    EXPECT_EQ(w.consumed, 0U);
    EXPECT_EQ(w.produced, 0U);
    EXPECT_FALSE(w.done);
    EXPECT_FALSE(w.error);
  }
}

}  // namespace
}  // namespace airlock::proxy

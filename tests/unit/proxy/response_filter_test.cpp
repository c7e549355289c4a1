// A response body from a scrubbed host (issue 18): out of its framing and coding, scrubbed,
// framed again. Whatever the framing, the coding and where the reads split the bytes, the
// client must get a well-framed body equal to the reference scrubber's output of the
// decoded body: never a byte of a secret, never a byte lost.

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "proxy/filter/response_filter.hpp"
#include "tests/support/scrub_reference.hpp"
#include "tests/support/zlib_compress.hpp"

namespace airlock::proxy {
namespace {

constexpr std::string_view key = "sk-ant-api03-Zx9/Qw+Rt_Yu-Io";

std::string deflate_with(std::string_view in, int window_bits) {
  auto out = testing::zlib_compress(in, window_bits);
  EXPECT_TRUE(out);
  return out.value_or("");
}

std::string gzip(std::string_view in) {
  return deflate_with(in, 31);
}

std::string chunk(std::string_view body, std::size_t piece) {
  std::string out;
  for (std::size_t at = 0; at < body.size(); at += piece) {
    const auto part = body.substr(at, piece);
    char line[32];
    std::snprintf(line, sizeof line, "%zx;ext=1\r\n", part.size());
    out += line;
    out += part;
    out += "\r\n";
  }
  out += "0\r\nTrailer-Key: ";
  out += key;
  out += "\r\n\r\n";
  return out;
}

// Undoes chunked framing strictly; fails the test on anything malformed.
std::string unchunk(std::string_view wire, bool& complete) {
  std::string out;
  complete = false;
  while (!wire.empty()) {
    const auto eol = wire.find("\r\n");
    EXPECT_NE(eol, std::string_view::npos);
    const std::size_t n = std::stoul(std::string(wire.substr(0, eol)), nullptr, 16);
    wire.remove_prefix(eol + 2);
    if (n == 0) {
      EXPECT_EQ(wire, "\r\n");
      complete = true;
      return out;
    }
    out += wire.substr(0, n);
    EXPECT_EQ(wire.substr(n, 2), "\r\n");
    wire.remove_prefix(n + 2);
  }
  return out;
}

struct run_result {
  std::string out;
  bool done = false;
  std::string error;
  std::size_t most_per_step = 0;
};

// Feeds `wire` split at the given points, as a relay would: consumed bytes leave the buffer,
// `more` means call again before reading.
run_result run(response_filter& f, std::string_view wire, const std::vector<std::size_t>& cuts,
               bool eof_at_end) {
  run_result r;
  std::string buf;
  std::size_t at = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(wire.size());
  for (std::size_t e : ends) {
    buf.append(wire.substr(at, e - at));
    at = e;
    for (;;) {
      const auto s = f.feed(buf);
      std::size_t step_out = 0;
      for (const auto part : s.out) {
        r.out += part;
        step_out += part.size();
      }
      r.most_per_step = std::max(r.most_per_step, step_out);
      buf.erase(0, s.consumed);
      if (!s.error.empty()) {
        r.error = s.error;
        return r;
      }
      if (s.done) {
        r.done = true;
        return r;
      }
      if (!s.more) {
        break;
      }
    }
  }
  while (eof_at_end) {
    const auto s = f.end_of_input();
    for (const auto part : s.out) {
      r.out += part;
    }
    if (!s.error.empty()) {
      r.error = s.error;
      return r;
    }
    if (s.done) {
      r.done = true;
      return r;
    }
    if (!s.more) {
      break;
    }
  }
  return r;
}

std::string body_with_forms() {
  std::string b = "{\"echo\":{\"x-api-key\":\"";
  b += key;
  b += "\",\"b64\":\"" +
       testing::base64_encode(std::string("Bearer ") + std::string(key), false, true);
  b += "\",\"json\":\"sk-ant-api03-Zx9\\/"
       "Qw+Rt_Yu-Io\",\"pct\":\"sk-ant-api03-Zx9%2FQw%2BRt_Yu-Io\"}}";
  b += std::string(300, 'x');
  return b;
}

std::shared_ptr<const scrub_automaton> automaton() {
  static const auto a = scrub_automaton::build(std::vector<std::string_view>{key});
  return a;
}

TEST(response_filter, content_length_body_keeps_its_length_at_every_split) {
  const std::string body = body_with_forms();
  const std::string want = testing::reference_scrub({key}, body);
  ASSERT_NE(want, body);
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    response_filter f;
    f.start(automaton(), {http::body_kind::length, body.size()});
    const auto r = run(f, body + "NEXT RESPONSE", {cut}, false);
    ASSERT_TRUE(r.done) << cut;
    ASSERT_EQ(r.out, want) << cut;
    EXPECT_EQ(f.replacements(), 4U);
  }
}

TEST(response_filter, close_delimited_body_ends_at_eof) {
  const std::string body = body_with_forms();
  for (std::size_t cut : {0UL, 30UL, body.size() - 3}) {
    response_filter f;
    f.start(automaton(), {http::body_kind::until_close, 0});
    const auto r = run(f, body, {cut}, true);
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.out, testing::reference_scrub({key}, body));
  }
}

TEST(response_filter, chunked_body_is_rechunked_and_its_trailers_dropped) {
  const std::string body = body_with_forms();
  const std::string wire = chunk(body, 7);
  for (std::size_t cut = 0; cut <= wire.size(); cut += 3) {
    response_filter f;
    f.start(automaton(), {http::body_kind::chunked, 0, body_coding::kind::identity, true});
    const auto r = run(f, wire + "HTTP/1.1 200", {cut}, false);
    ASSERT_TRUE(r.done) << cut;
    bool complete = false;
    EXPECT_EQ(unchunk(r.out, complete), testing::reference_scrub({key}, body)) << cut;
    EXPECT_TRUE(complete);
    EXPECT_EQ(r.out.find("Trailer-Key"), std::string::npos);
  }
}

TEST(response_filter, malformed_chunks_stop_the_body) {
  response_filter f;
  f.start(automaton(), {http::body_kind::chunked, 0, body_coding::kind::identity, true});
  const auto r = run(f, "5\r\nhello\r\nzz\r\n", {}, false);
  EXPECT_FALSE(r.error.empty());
}

TEST(response_filter, gzip_and_deflate_are_decoded_and_scrubbed) {
  const std::string body = body_with_forms() + std::string(5000, 'y') + std::string(key);
  const std::string want = testing::reference_scrub({key}, body);
  for (int bits : {31, 15, -15}) {  // gzip, zlib-wrapped deflate, raw deflate
    const std::string coded = deflate_with(body, bits);
    const auto kind = bits == 31 ? body_coding::kind::gzip : body_coding::kind::deflate;
    for (std::size_t cut = 0; cut <= coded.size(); cut += 5) {
      for (const auto framing : {http::body_kind::length, http::body_kind::chunked}) {
        response_filter f;
        const std::string wire = framing == http::body_kind::chunked ? chunk(coded, 11) : coded;
        f.start(automaton(), {framing, coded.size(), kind, true});
        const auto r = run(f, wire, {std::min(cut, wire.size())}, false);
        ASSERT_TRUE(r.done) << bits << " " << cut << " " << r.error;
        bool complete = false;
        ASSERT_EQ(unchunk(r.out, complete), want) << bits << " " << cut;
        EXPECT_TRUE(complete);
      }
    }
  }
}

TEST(response_filter, decoded_for_http10_runs_to_close) {
  const std::string body = body_with_forms();
  const std::string coded = gzip(body);
  response_filter f;
  f.start(automaton(), {http::body_kind::until_close, 0, body_coding::kind::gzip, false});
  const auto r = run(f, coded, {coded.size() / 2}, true);
  ASSERT_TRUE(r.done) << r.error;
  EXPECT_EQ(r.out, testing::reference_scrub({key}, body));
}

TEST(response_filter, a_bomb_is_drained_a_bounded_piece_at_a_time) {
  const std::string zeros(64 << 20, '\0');
  const std::string coded = gzip(zeros);
  ASSERT_LT(coded.size(), 256U << 10);
  response_filter f;
  f.start(automaton(), {http::body_kind::length, coded.size(), body_coding::kind::gzip, true});
  std::string buf = coded;
  std::size_t total = 0;
  std::size_t most = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    const auto s = f.feed(buf);
    std::size_t n = 0;
    for (const auto part : s.out) {
      n += part.size();
    }
    most = std::max(most, n);
    total += n;
    buf.erase(0, s.consumed);
    ASSERT_TRUE(s.error.empty()) << s.error;
    if (s.done) {
      break;
    }
    ASSERT_TRUE(s.more);  // all input is there: it only stops to hand out what it made
  }
  EXPECT_LE(most, response_filter::max_decoded + 64);
  EXPECT_GT(total, zeros.size());  // every byte, framed
}

TEST(response_filter, truncated_or_corrupt_codings_are_errors) {
  const std::string coded = gzip(body_with_forms());
  {
    response_filter f;
    f.start(automaton(), {http::body_kind::until_close, 0, body_coding::kind::gzip, true});
    const auto r = run(f, coded.substr(0, coded.size() / 2), {}, true);
    EXPECT_FALSE(r.done);
    EXPECT_FALSE(r.error.empty());
  }
  {
    response_filter f;
    std::string bad = coded;
    bad[12] ^= 0x55;
    bad[13] ^= 0x55;
    f.start(automaton(), {http::body_kind::length, bad.size(), body_coding::kind::gzip, true});
    const auto r = run(f, bad, {}, false);
    EXPECT_FALSE(r.error.empty());
  }
  {
    // Content-Length ends before the gzip stream does: the client must not get an end.
    response_filter f;
    f.start(automaton(), {http::body_kind::length, 10, body_coding::kind::gzip, true});
    const auto r = run(f, coded.substr(0, 10), {}, false);
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(r.out.find("0\r\n\r\n"), std::string::npos);
  }
}

TEST(response_filter, a_body_without_secrets_passes_byte_for_byte) {
  std::mt19937 rng(3);
  std::string body(200000, '\0');
  for (char& c : body) {
    c = static_cast<char>(rng());
  }
  response_filter f;
  f.start(automaton(), {http::body_kind::length, body.size()});
  std::vector<std::size_t> cuts;
  for (std::size_t at = 0; at < body.size(); at += 1 + rng() % 20000) {
    cuts.push_back(at);
  }
  const auto r = run(f, body, cuts, false);
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.out, body);
  EXPECT_EQ(f.replacements(), 0U);
}

TEST(response_filter, decide_refuses_what_it_cannot_read_unless_told_to_pass) {
  http::response_head head;
  head.status = 200;
  head.headers = {{"Content-Encoding", "br"}};
  http::response_info info;
  info.body = http::body_kind::length;
  info.content_length = 10;
  auto d = response_filter::decide(head, info, http::version::http11, false);
  EXPECT_EQ(d.unreadable, "br");
  d = response_filter::decide(head, info, http::version::http11, true);
  EXPECT_TRUE(d.unreadable.empty());
  EXPECT_FALSE(d.filter);
  head.headers = {{"Content-Encoding", "gzip"}};
  d = response_filter::decide(head, info, http::version::http11, false);
  EXPECT_TRUE(d.filter);
  EXPECT_EQ(d.framing, http::client_framing::chunked);
  d = response_filter::decide(head, info, http::version::http10, false);
  EXPECT_EQ(d.framing, http::client_framing::until_close);
  head.headers = {{"Content-Encoding", "gzip, br"}};
  EXPECT_FALSE(response_filter::decide(head, info, http::version::http11, true).filter);
  EXPECT_EQ(response_filter::decide(head, info, http::version::http11, false).unreadable, "br");
  // No body (HEAD, 304): nothing to read, nothing refused.
  info.body = http::body_kind::none;
  EXPECT_TRUE(response_filter::decide(head, info, http::version::http11, false).unreadable.empty());
}

}  // namespace
}  // namespace airlock::proxy

// Response scrubbing and framing (issue 18): a masked body keeps its length, so a
// Content-Length body keeps its Content-Length; a chunked body is re-chunked with the same
// data and its trailers (a second place for the key) dropped; a body ended by the close is
// masked to its end. Bytes that hold no secret pass unchanged, byte for byte, and each
// replacement is counted, in the metric and the access log, without the secret.

#include <gtest/gtest.h>

#include <random>

#include "tests/integration/scrub_fixture.hpp"
#include "tests/support/scrub_reference.hpp"

namespace airlock::test {
namespace {

const std::vector<std::string> key_only = {scrub_secret};

// Random text with the secret's spellings spread through it, some straddling the sizes a
// reader or a chunker might cut at (multiples of 4 KiB).
std::string text_with_secrets(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string body;
  const auto spellings = spellings_of(scrub_secret);
  std::size_t next = 0;
  while (body.size() < size) {
    if (body.size() + 40 >= next) {
      body += spellings[rng() % spellings.size()];
      next = (body.size() / 4096 + 1) * 4096;
    }
    body += static_cast<char>(' ' + rng() % 95);
  }
  return body;
}

// Pieces of body of random sizes (1 to max bytes).
std::vector<std::string> cut(const std::string& body, std::size_t max, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> pieces;
  for (std::size_t at = 0; at < body.size();) {
    const std::size_t n = std::min(body.size() - at, std::size_t{1} + rng() % max);
    pieces.push_back(body.substr(at, n));
    at += n;
  }
  return pieces;
}

TEST_F(scrub_test, ChunkedBodyIsRechunkedWithTheSameDataAndItsTrailersDropped) {
  const std::string s = scrub_secret;
  // The key cut across chunks, and repeated in a trailer the agent must not get.
  const std::vector<std::string> pieces = {"one " + s.substr(0, 5), s.substr(5, 9),
                                           s.substr(14) + " two ", s + " three\n"};
  auto up = start_scripted([&pieces, s](const std::string&) {
    return std::vector<std::string>{
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
        "Trailer: X-Digest\r\n\r\n" +
        chunked(pieces, "X-Digest: " + s + "\r\nX-Count: 4\r\n")};
  });
  start_scrubbing(key_rule("echo", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto r = get(*tunnel, up->port(), "/chunked");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->head;
  EXPECT_EQ(r->header("transfer-encoding"), "chunked") << r->head;
  std::string body;
  for (const auto& p : pieces) {
    body += p;
  }
  EXPECT_EQ(r->body, masked(body, key_only));
  EXPECT_EQ(r->trailers, "");
  EXPECT_EQ(leaked(r->head + r->body + r->trailers, scrub_secret), "");
  // The connection goes on: the framing the agent got was whole.
  const auto again = get(*tunnel, up->port(), "/again");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, masked(body, key_only));
}

TEST_F(scrub_test, LargeBodiesAreMaskedExactlyWithContentLengthOrChunked) {
  const std::string body = text_with_secrets(512 * 1024, 18);
  const auto pieces = cut(body, 9000, 7);
  auto up = start_scripted([&](const std::string& request) {
    if (request_target(request) == "/sized") {
      return std::vector<std::string>{sized_response(body)};
    }
    return std::vector<std::string>{
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
        chunked(pieces)};
  });
  start_scrubbing(key_rule("echo", up->port()));
  const std::string expected = masked(body, key_only);
  ASSERT_NE(expected, body);

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  for (const std::string path : {"/sized", "/chunked"}) {
    SCOPED_TRACE(path);
    const auto r = get(*tunnel, up->port(), path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->head;
    if (path == "/sized") {
      EXPECT_EQ(r->header("content-length"), std::to_string(body.size())) << r->head;
    }
    EXPECT_EQ(r->body.size(), body.size());
    EXPECT_TRUE(r->body == expected) << "first difference at " << [&] {
      std::size_t i = 0;
      while (i < r->body.size() && i < expected.size() && r->body[i] == expected[i]) {
        ++i;
      }
      return i;
    }();
    EXPECT_EQ(leaked(r->body, scrub_secret), "");
  }
}

// No Content-Length, no chunking: the body ends when the upstream closes. Masked to its end,
// the bytes held back at the close included.
TEST_F(scrub_test, CloseDelimitedBodyIsMaskedToItsEnd) {
  const std::string s = scrub_secret;
  const std::string body = "start " + s + " middle " + s.substr(0, 10);
  auto up = start_scripted(
      [&](const std::string&) {
        return std::vector<std::string>{
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nstart " +
                s.substr(0, 7),
            s.substr(7) + " middle ", s.substr(0, 10)};
      },
      20ms, true);
  start_scrubbing(key_rule("echo", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto r = get(*tunnel, up->port(), "/close");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->head;
  EXPECT_EQ(r->body, masked(body, key_only));
  EXPECT_NE(r->body.find(" middle " + s.substr(0, 10)), std::string::npos)
      << "a cut-short key is not a key; it goes out at the end: " << r->body;
}

// Nothing to mask, nothing changed: random bytes, and text full of prefixes of the key's
// spellings (each held back until the next byte rules it out), byte for byte.
TEST_F(scrub_test, BodiesWithoutTheSecretPassByteForByte) {
  std::mt19937_64 rng(42);
  std::string binary(3 * 1024 * 1024, '\0');
  for (auto& c : binary) {
    c = static_cast<char>(rng());
  }
  std::string near_misses;
  const auto spellings = spellings_of(scrub_secret);
  while (near_misses.size() < 512 * 1024) {
    const std::string& s = spellings[rng() % spellings.size()];
    // A prefix of one spelling can be another whole (base64's stable middle): those are not
    // near misses.
    std::string piece = s.substr(0, 1 + rng() % (s.size() - 1)) + "#";
    piece += static_cast<char>('a' + rng() % 26);
    if (masked(piece, key_only) == piece) {
      near_misses += piece;
    }
  }
  ASSERT_EQ(leaked(binary, scrub_secret), "");
  ASSERT_EQ(leaked(near_misses, scrub_secret), "");
  ASSERT_EQ(masked(near_misses, key_only), near_misses);
  const auto pieces = cut(near_misses, 3000, 3);
  auto up = start_scripted([&](const std::string& request) {
    if (request_target(request) == "/binary") {
      return std::vector<std::string>{sized_response(binary, "")};
    }
    return std::vector<std::string>{
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
        chunked(pieces)};
  });
  start_scrubbing(key_rule("echo", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto b = get(*tunnel, up->port(), "/binary");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->header("content-length"), std::to_string(binary.size()));
  EXPECT_TRUE(b->body == binary) << "binary body changed (" << b->body.size() << " bytes)";
  const auto t = get(*tunnel, up->port(), "/text");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->body == near_misses) << "text body changed (" << t->body.size() << " bytes)";
  EXPECT_EQ(scrubbed_total("echo"), 0);
}

// Each replacement is counted per rule, and the access log line of the response says how
// many it had; the secret is in neither, nor anywhere else airlock writes, at trace.
TEST_F(scrub_test, ReplacementsAreCountedAndLoggedButTheSecretNeverIs) {
  const std::string s = scrub_secret;
  const std::string body = "raw " + s + " base64 " + proxy::testing::base64_encode(s, false, true) +
                           " hex " + proxy::testing::hex_encode(s, false) + " end\n";
  std::size_t expected_count = 0;
  const std::string expected = masked(body, key_only, &expected_count);
  ASSERT_EQ(expected_count, 3u);
  auto up = start_fixed(sized_response(body));
  airlock_settings settings;
  settings.log_level = "trace";
  settings.log_format = "json";
  start_scrubbing(key_rule("counted", up->port()), settings);
  const double before = scrubbed_total("counted");

  const auto r = fetch({https_url(*up, "/counted")});
  ASSERT_EQ(r.status, 200) << r.err;
  EXPECT_EQ(r.body, expected);
  EXPECT_EQ(scrubbed_total("counted") - before, 3);
  const auto metrics = run_curl(
      tmp_.path(), {"http://127.0.0.1:" + std::to_string(airlock().metrics_port()) + "/metrics"});
  EXPECT_EQ(leaked(metrics.out, scrub_secret), "");

  airlock().terminate();
  ASSERT_EQ(airlock().wait_exit(10s), 0);
  const std::string log = airlock_output();
  std::string access;
  for (std::size_t at = log.find("\"type\":\"access\""); at != std::string::npos;
       at = log.find("\"type\":\"access\"", at + 1)) {
    const auto start = log.rfind('\n', at);
    const auto line = log.substr(start == std::string::npos ? 0 : start + 1,
                                 log.find('\n', at) - (start == std::string::npos ? 0 : start + 1));
    if (line.find("/counted") != std::string::npos) {
      access = line;
    }
  }
  // The JSON writer puts no space after the colon. (No std::regex: g++ 12's ASan build
  // warns inside it, and warnings are errors.)
  EXPECT_NE(access.find("\"scrubbed\":3"), std::string::npos)
      << "no scrubbed count of 3 in the access line: " << access;
  EXPECT_EQ(leaked(log, scrub_secret), "") << log;
}

}  // namespace
}  // namespace airlock::test

// The body of a response airlock reads for itself: every framing, and the bounds that keep
// a peer that never stops sending (or sends framing it should not) from costing memory.

#include "proxy/flow/http_client_body.hpp"

#include <gtest/gtest.h>

namespace airlock::proxy {
namespace {

using state = body_collector::state;
using http::body_kind;

TEST(body_collector, no_body_is_done_at_once) {
  EXPECT_EQ(body_collector(body_kind::none, 0, 10).current(), state::done);
  EXPECT_EQ(body_collector(body_kind::length, 0, 10).current(), state::done);
}

TEST(body_collector, content_length_takes_exactly_that_many_bytes) {
  body_collector b(body_kind::length, 5, 64);
  EXPECT_EQ(b.feed("he"), state::more);
  EXPECT_EQ(b.feed("lloEXTRA"), state::done);  // what follows is not this body's
  EXPECT_EQ(b.body(), "hello");
  EXPECT_EQ(b.feed("more"), state::done);
  EXPECT_EQ(b.body(), "hello");
}

TEST(body_collector, a_length_over_the_cap_is_refused_before_a_byte_is_read) {
  body_collector b(body_kind::length, 65, 64);
  EXPECT_EQ(b.current(), state::too_large);
  EXPECT_EQ(b.feed("x"), state::too_large);
  EXPECT_EQ(b.body(), "");
}

TEST(body_collector, a_body_cut_short_is_malformed) {
  body_collector b(body_kind::length, 5, 64);
  b.feed("abc");
  EXPECT_EQ(b.at_eof(), state::malformed);
  body_collector c(body_kind::chunked, 0, 64);
  c.feed("5\r\nab");
  EXPECT_EQ(c.at_eof(), state::malformed);
}

TEST(body_collector, chunked_framing_is_removed) {
  body_collector b(body_kind::chunked, 0, 1024);
  EXPECT_EQ(b.feed("5;ext=\"q\"\r\nhello\r\n"), state::more);
  EXPECT_EQ(b.feed("1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nNEXT"), state::done);
  EXPECT_EQ(b.body(), "hello 0123456789");
}

TEST(body_collector, chunked_arrives_a_byte_at_a_time) {
  const std::string framed = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  body_collector b(body_kind::chunked, 0, 1024);
  for (std::size_t i = 0; i + 1 < framed.size(); ++i) {
    EXPECT_EQ(b.feed(framed.substr(i, 1)), state::more) << i;
  }
  EXPECT_EQ(b.feed(framed.substr(framed.size() - 1)), state::done);
  EXPECT_EQ(b.body(), "abcde");
}

TEST(body_collector, chunked_framing_the_scanner_refuses_is_malformed) {
  for (const char* bad : {"-1\r\n", "0x5\r\nhello\r\n", "5\nhello\r\n", "5\r\nhelloXY"}) {
    body_collector b(body_kind::chunked, 0, 1024);
    EXPECT_EQ(b.feed(bad), state::malformed) << bad;
  }
}

TEST(body_collector, a_chunked_body_over_the_cap_is_too_large_framing_counted) {
  body_collector b(body_kind::chunked, 0, 16);
  EXPECT_EQ(b.feed("8\r\n12345678\r\n"), state::more);  // 13 bytes as framed
  EXPECT_EQ(b.feed("8\r\n12345678\r\n"), state::too_large);
  // Endless tiny chunks cannot grow it either.
  body_collector c(body_kind::chunked, 0, 16);
  state s = state::more;
  for (int i = 0; i < 100 && s == state::more; ++i) {
    s = c.feed("1\r\nx\r\n");
  }
  EXPECT_EQ(s, state::too_large);
}

TEST(body_collector, until_close_ends_at_eof_and_is_capped) {
  body_collector b(body_kind::until_close, 0, 8);
  EXPECT_EQ(b.feed("1234"), state::more);
  EXPECT_EQ(b.at_eof(), state::done);
  EXPECT_EQ(b.body(), "1234");
  body_collector c(body_kind::until_close, 0, 8);
  EXPECT_EQ(c.feed("12345678"), state::more);
  EXPECT_EQ(c.feed("9"), state::too_large);
}

TEST(append_dechunked, appends_the_data_of_accepted_framing) {
  std::string out = ">";
  append_dechunked("a\r\n0123456789\r\n1;x=y\r\n!\r\n0\r\n\r\n", out);
  EXPECT_EQ(out, ">0123456789!");
  out.clear();
  append_dechunked("0\r\n\r\n", out);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace airlock::proxy

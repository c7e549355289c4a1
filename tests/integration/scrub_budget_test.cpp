// Memory for decoding compressed answers from scrubbed hosts (proxy.max_decoding_bytes):
// airlock asks such hosts for identity, but an upstream that compresses anyway makes a
// connection hold 128 KiB while its answer is decoded. The budget bounds that for all
// connections together: an answer that finds it spent gets 503 with a reason, nothing of
// its body, and the budget is whole again once the answers holding it end. Answers that
// need no decoding never ask it.

#include <gtest/gtest.h>

#include "tests/integration/scrub_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;
using namespace std::chrono_literals;

std::string body_text() {
  std::string t = "{\"key\":\"" + std::string(scrub_secret) + "\",\"pad\":\"";
  return t + std::string(4000, 'x') + "\"}\n";
}

// A gzip answer whose second half comes a while after the first: the connection holds its
// share of the budget all that time.
strings slow_gzip_parts() {
  const std::string gz = compress(body_text(), zformat::gzip);
  return {"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" +
              chunk(gz.substr(0, gz.size() / 2)),
          chunk(gz.substr(gz.size() / 2)) + "0\r\n\r\n"};
}

TEST_F(scrub_test, AttackerManyCompressedAnswersAtOnceGet503OnceTheDecodingBudgetIsSpent) {
  auto up = start_scripted([](const std::string&) { return slow_gzip_parts(); }, 1500ms);
  airlock_settings settings;
  settings.proxy_yaml = "  max_decoding_bytes: 128KiB\n";  // one answer's share
  start_scrubbing(key_rule("coded", up->port()), settings);

  auto first = open_tunnel(up->port());
  ASSERT_TRUE(first);
  ASSERT_TRUE(
      first->send("GET /a HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) + "\r\n\r\n"));
  ASSERT_TRUE(first->read_until("\r\n\r\n", 5s)) << first->buffered();  // decoding now

  auto second = open_tunnel(up->port());
  ASSERT_TRUE(second);
  const auto refused = get(*second, up->port(), "/b");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503) << refused->head;
  EXPECT_EQ(refused->header("x-airlock-reason"), "decode_budget_exhausted") << refused->head;
  EXPECT_NE(refused->body.find("proxy.max_decoding_bytes"), std::string::npos) << refused->body;
  EXPECT_EQ(leaked(refused->body, scrub_secret), "");

  // The first answer is whole and masked; then the budget serves the next one.
  const auto whole = first->read_response(5s);
  ASSERT_TRUE(whole) << first->buffered();
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, masked(body_text(), {scrub_secret}));
  auto third = open_tunnel(up->port());
  ASSERT_TRUE(third);
  const auto later = get(*third, up->port(), "/c");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 200) << later->head;
  EXPECT_EQ(later->body, masked(body_text(), {scrub_secret}));
}

TEST_F(scrub_test, WithNoDecodingBudgetOnlyCompressedAnswersAreRefused) {
  const std::string gz = compress(body_text(), zformat::gzip);
  auto up = start_scripted([&](const std::string& request) {
    if (request_target(request) == "/plain") {
      return strings{sized_response(body_text())};
    }
    return strings{"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
                   std::to_string(gz.size()) + "\r\n\r\n" + gz};
  });
  airlock_settings settings;
  settings.proxy_yaml = "  max_decoding_bytes: 0\n";
  start_scrubbing(key_rule("coded", up->port()), settings);

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto plain = get(*tunnel, up->port(), "/plain");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  EXPECT_EQ(plain->body, masked(body_text(), {scrub_secret}));
  const auto coded = get(*tunnel, up->port(), "/gzip");
  ASSERT_TRUE(coded);
  EXPECT_EQ(coded->status, 503) << coded->head;
  EXPECT_EQ(coded->header("x-airlock-reason"), "decode_budget_exhausted");
}

}  // namespace
}  // namespace airlock::test

// Connection reuse on both sides of airlock: the client's connection carries several
// requests, the upstream pool serves several client connections, and a pooled
// connection the upstream has given up on costs a retry, not an error.

#include <gtest/gtest.h>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/nginx_upstream.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

using keep_alive_test = proxy_test;

TEST_F(keep_alive_test, ClientConnectionCarriesSeveralRequests) {
  nginx_upstream nginx(scratch("nginx"));
  write_file(nginx.www() / "a", "a");
  write_file(nginx.www() / "b", "b");
  start_airlock();

  const auto r = curl({"-w", " %{http_code} %{num_connects}\n", nginx.url("/a"), nginx.url("/b")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The second transfer opened no new connection to the proxy.
  EXPECT_EQ(r.out, "a 200 1\nb 200 0\n");
}

TEST_F(keep_alive_test, UpstreamConnectionIsPooled) {
  recording_server upstream;
  start_airlock();

  const auto first =
      curl({"-w", " %{http_code}\n", upstream.url("/1"), upstream.url("/2"), upstream.url("/3")});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "ok 200\nok 200\nok 200\n");
  // A second client connection gets the pooled upstream connection (one worker).
  const auto second = curl({"-w", " %{http_code}\n", upstream.url("/4")});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, "ok 200\n");

  EXPECT_EQ(upstream.requests().size(), 4u);
  EXPECT_EQ(upstream.connections(), 1u);
}

TEST_F(keep_alive_test, UpstreamClosingAfterEachResponseIsNotAnError) {
  recording_server upstream({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                             keep_alive_mode::close_after_response, 0ms});
  start_airlock();

  // Back to back in one curl run: the pooled connection may or may not have seen the
  // upstream's FIN when the next request comes; either way it must not be an error.
  const auto r =
      curl({"-w", " %{http_code}\n", upstream.url("/1"), upstream.url("/2"), upstream.url("/3")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok 200\nok 200\nok 200\n");
  const auto again = curl({"-w", " %{http_code}\n", upstream.url("/4")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "ok 200\n");
  EXPECT_EQ(upstream.connections(), 4u);
}

TEST_F(keep_alive_test, StalePooledConnectionIsRetriedOnce) {
  // The upstream reads a second request on a kept-alive connection and closes it
  // unanswered: the race every pooling proxy meets when a keep-alive timer fires.
  recording_server upstream(
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", keep_alive_mode::drop_reused, 0ms});
  start_airlock();

  const auto first = curl({"-w", " %{http_code}\n", upstream.url("/1")});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto second = curl({"-w", " %{http_code}\n", upstream.url("/2")});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(first.out, "ok 200\n");
  EXPECT_EQ(second.out, "ok 200\n");

  // /2 went up twice: on the pooled connection (dropped), then on a fresh one.
  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].substr(0, 7), "GET /2 ");
  EXPECT_EQ(requests[2].substr(0, 7), "GET /2 ");
  EXPECT_EQ(upstream.connections(), 2u);
}

// RFC 9110 9.2.2: "A proxy MUST NOT automatically retry non-idempotent requests."
// The upstream read the whole POST before the connection died: it may have acted on
// it (for an agent, an API call made and billed), so replaying it may do it twice.
// The client must get an error and decide itself.
TEST_F(keep_alive_test, NonIdempotentRequestIsNotReplayed) {
  recording_server upstream(
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", keep_alive_mode::drop_reused, 0ms});
  start_airlock();

  const auto first = curl({"-w", " %{http_code}\n", upstream.url("/1")});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto post = curl({"-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "charge-once",
                          upstream.url("/charge")});
  ASSERT_EQ(post.exit_code, 0) << post.err;

  std::size_t posts = 0;
  for (const auto& request : upstream.requests()) {
    posts += request.rfind("POST /charge ", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(posts, 1u) << "the POST reached the upstream " << posts << " times";
  EXPECT_EQ(post.out, "502");
}

}  // namespace
}  // namespace airlock::test

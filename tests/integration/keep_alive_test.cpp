// Connection reuse on both sides of airlock: the client's connection carries several
// requests, the upstream pool serves several client connections, and a pooled
// connection the upstream has given up on costs a retry, not an error.

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/nginx_upstream.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

class keep_alive_test : public proxy_test {
 protected:
  // One GET answered 200 "ok": after it, the upstream connection sits in airlock's pool.
  void pool_a_connection(const recording_server& upstream) {
    const auto r = curl({"-w", " %{http_code}", upstream.url("/1")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "ok 200");
  }

  // curl through airlock with args: the status, and the head of the response.
  std::pair<std::string, std::string> status_and_head(std::vector<std::string> args) {
    args.insert(args.begin(),
                {"-D", scratch("head").string(), "-o", "/dev/null", "-w", "%{http_code}"});
    const auto r = curl(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return {r.out, read_file(scratch("head"))};
  }
};

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
  recording_server upstream({ok, keep_alive_mode::close_after_response, 0ms});
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

// The two ways a server ends a kept-alive connection just as the next request arrives:
// it reads the request and closes (FIN), or resets.
struct dropping {
  keep_alive_mode mode;
  const char* name;
};
const dropping dropping_modes[] = {{keep_alive_mode::drop_reused, "close"},
                                   {keep_alive_mode::reset_reused, "reset"}};

// How many requests in upstream's log start with `line_start` ("POST /charge ").
std::size_t count_requests(const recording_server& upstream, std::string_view line_start) {
  std::size_t n = 0;
  for (const auto& request : upstream.requests()) {
    n += request.rfind(line_start, 0) == 0 ? 1 : 0;
  }
  return n;
}

TEST_F(keep_alive_test, StalePooledConnectionIsRetriedOnce) {
  start_airlock();
  for (const auto& drop : dropping_modes) {
    SCOPED_TRACE(drop.name);
    // The race every pooling proxy meets when a keep-alive timer fires.
    recording_server upstream({ok, drop.mode, 0ms});
    pool_a_connection(upstream);

    const auto second = curl({"-w", " %{http_code}\n", upstream.url("/2")});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(second.out, "ok 200\n");
    // /2 went up twice: on the pooled connection (dropped), then on a fresh one.
    const auto requests = upstream.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[1].substr(0, 7), "GET /2 ");
    EXPECT_EQ(requests[2].substr(0, 7), "GET /2 ");
    EXPECT_EQ(upstream.connections(), 2u);
  }
}

// The retry is one: when the fresh connection fails too, the client gets the error
// instead of a loop of attempts.
TEST_F(keep_alive_test, RetryIsMadeOnlyOnce) {
  recording_server upstream({ok, keep_alive_mode::answer_first_only, 0ms});
  start_airlock();
  pool_a_connection(upstream);

  const auto [status, head] = status_and_head({upstream.url("/2")});
  EXPECT_EQ(status, "502");
  EXPECT_NE(head.find("error=connection_terminated"), std::string::npos) << head;
  EXPECT_EQ(count_requests(upstream, "GET /2 "), 2u);
  EXPECT_EQ(upstream.connections(), 2u);
}

// RFC 9110 9.2.2: "A proxy MUST NOT automatically retry non-idempotent requests."
// The upstream read the whole POST before the connection died: it may have acted on
// it (for an agent, an API call made and billed), so replaying it may do it twice.
// The client must get an error, with the reason, and decide itself.
TEST_F(keep_alive_test, NonIdempotentRequestIsNotReplayed) {
  start_airlock();
  for (const auto& drop : dropping_modes) {
    SCOPED_TRACE(drop.name);
    recording_server upstream({ok, drop.mode, 0ms});
    pool_a_connection(upstream);

    const auto [status, head] =
        status_and_head({"--data-binary", "charge-once", upstream.url("/charge")});
    const std::size_t posts = count_requests(upstream, "POST /charge ");
    EXPECT_EQ(posts, 1u) << "the POST reached the upstream " << posts << " times";
    EXPECT_EQ(status, "502");
    EXPECT_NE(head.find("Proxy-Status: airlock; error=connection_terminated; details=\"upstream "
                        "closed the connection before responding\""),
              std::string::npos)
        << head;
    EXPECT_EQ(upstream.connections(), 1u);
  }
}

// A pooled connection the upstream closed while it sat idle is seen to be dead before
// anything is written on it: then even a POST goes (once) on a fresh connection.
TEST_F(keep_alive_test, NonIdempotentRequestAvoidsAConnectionClosedWhileIdle) {
  recording_server upstream({ok, keep_alive_mode::close_after_response, 0ms});
  start_airlock();
  pool_a_connection(upstream);

  std::this_thread::sleep_for(200ms);  // the upstream's FIN has arrived
  const auto post =
      curl({"-w", " %{http_code}", "--data-binary", "charge-once", upstream.url("/charge")});
  ASSERT_EQ(post.exit_code, 0) << post.err;
  EXPECT_EQ(post.out, "ok 200");
  EXPECT_EQ(count_requests(upstream, "POST /charge "), 1u);
  EXPECT_EQ(upstream.connections(), 2u);
}

}  // namespace
}  // namespace airlock::test

// Which connections persist (RFC 9112 section 9): the client's Connection: close,
// HTTP/1.0 clients and upstreams, an upstream's Connection: close, and pipelined
// requests answered in order. Raw bytes, so each field is exactly what is tested.

#include <gtest/gtest.h>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/nginx_upstream.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

using persistence_test = proxy_test;

std::string get(const recording_server& upstream, const std::string& path,
                const std::string& version = "HTTP/1.1", const std::string& fields = "") {
  return "GET " + upstream.url(path) + " " + version + "\r\nHost: " + upstream.authority() +
         "\r\n" + fields + "\r\n";
}

TEST_F(persistence_test, ClientConnectionCloseIsHonoured) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream, "/", "HTTP/1.1", "Connection: close\r\n")));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Connection").value_or(""), "close") << r->head;
  EXPECT_TRUE(client->wait_closed(2s));
}

TEST_F(persistence_test, PipelinedRequestsAreAnsweredInOrder) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  const std::string post = "POST " + upstream.url("/2") +
                           " HTTP/1.1\r\nHost: " + upstream.authority() +
                           "\r\nContent-Length: 5\r\n\r\nhello";
  ASSERT_TRUE(client->send(get(upstream, "/1") + post + get(upstream, "/3")));
  for (int i = 0; i < 3; ++i) {
    const auto r = client->read_response(5s);
    ASSERT_TRUE(r) << "response " << i;
    EXPECT_EQ(r->status, 200);
  }
  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].substr(0, 7), "GET /1 ");
  EXPECT_EQ(requests[1].substr(0, 8), "POST /2 ");
  EXPECT_EQ(requests[1].substr(requests[1].size() - 5), "hello");
  EXPECT_EQ(requests[2].substr(0, 7), "GET /3 ");
  EXPECT_EQ(upstream.connections(), 1u);
}

TEST_F(persistence_test, UpstreamConnectionCloseIsNotPooled) {
  recording_server upstream({"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                             keep_alive_mode::keep, 0ms});
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream, "/1")));
  const auto first = client->read_response(5s);
  ASSERT_TRUE(first);
  // The upstream's Connection is hop-by-hop: the client's connection stays open.
  EXPECT_FALSE(first->header("Connection").has_value()) << first->head;
  ASSERT_TRUE(client->send(get(upstream, "/2")));
  const auto second = client->read_response(5s);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  // The upstream said it would close: its connection is not used again.
  EXPECT_EQ(upstream.connections(), 2u);
}

TEST_F(persistence_test, Http10UpstreamIsNotPooled) {
  recording_server upstream(
      {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", keep_alive_mode::keep, 0ms});
  start_airlock();

  auto client = connect();
  for (const char* path : {"/1", "/2"}) {
    ASSERT_TRUE(client->send(get(upstream, path)));
    const auto r = client->read_response(5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
  }
  EXPECT_EQ(upstream.connections(), 2u);
}

TEST_F(persistence_test, Http10ClientWithoutKeepAliveIsClosed) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream, "/", "HTTP/1.0")));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_TRUE(client->wait_closed(2s));
  // Upstream, airlock speaks for itself: a keep-alive HTTP/1.0 request.
  ASSERT_EQ(upstream.requests().size(), 1u);
  EXPECT_NE(upstream.requests()[0].find(" HTTP/1.0\r\n"), std::string::npos);
}

// RFC 9112 9.3 and 7230 A.1.2: an HTTP/1.0 connection persists only when the
// response says "Connection: keep-alive"; a 1.0 client that is not told so expects the
// server to close after the response. airlock must either announce keep-alive or close.
TEST_F(persistence_test, Http10KeepAliveIsAnnouncedOrClosed) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream, "/", "HTTP/1.0", "Connection: keep-alive\r\n")));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const std::string connection = r->header("Connection").value_or("");
  if (connection != "keep-alive") {
    EXPECT_TRUE(client->wait_closed(2s))
        << "response to an HTTP/1.0 keep-alive request has Connection: \"" << connection
        << "\" yet airlock keeps the connection open:\n"
        << r->head;
  }
}

TEST_F(persistence_test, BodilessResponsesKeepTheConnectionInStep) {
  nginx_upstream nginx(scratch("nginx"));
  write_file(nginx.www() / "page", "page body\n");
  start_airlock();

  auto client = connect();
  const std::string target = nginx.url("/page") + " HTTP/1.1\r\nHost: " + nginx.authority();
  // HEAD and 304 announce a length without a body; a proxy that waited for one, or
  // took the next response for it, would answer the GET wrongly.
  ASSERT_TRUE(client->send("HEAD " + target + "\r\n\r\n"));
  const auto head = client->read_response(5s, true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length").value_or(""), "10") << head->head;
  const auto etag = head->header("ETag");
  ASSERT_TRUE(etag) << head->head;

  ASSERT_TRUE(client->send("GET " + target + "\r\nIf-None-Match: " + *etag + "\r\n\r\n"));
  const auto not_modified = client->read_response(5s);
  ASSERT_TRUE(not_modified);
  EXPECT_EQ(not_modified->status, 304);

  ASSERT_TRUE(client->send("GET " + target + "\r\n\r\n"));
  const auto full = client->read_response(5s);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->body, "page body\n");
  EXPECT_EQ(client->buffered(), "");
}

TEST_F(persistence_test, ClientLeavingMidBodyDoesNotPoisonThePool) {
  // Far more than socket buffers hold, so the body is still in flight when the client goes.
  const std::string big(8 * 1024 * 1024, 'x');
  recording_server upstream(
      {"HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big,
       keep_alive_mode::keep, 0ms});
  start_airlock();
  {
    auto leaving = connect();
    ASSERT_TRUE(leaving->send(get(upstream, "/big")));
    ASSERT_TRUE(leaving->read_until("\r\n\r\n", 5s));
  }
  // The upstream connection still has most of that body to deliver: reusing it would
  // hand the next client the leftovers as its response.
  auto next = connect();
  ASSERT_TRUE(next->send(get(upstream, "/again")));
  const auto r = next->read_response(10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), big.size());
  EXPECT_EQ(upstream.connections(), 2u);
}

TEST_F(persistence_test, HalfClosedClientStillGetsItsResponse) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream, "/")));
  client->shutdown_send();
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << "closed=" << client->closed();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_TRUE(client->wait_closed(2s));
}

TEST_F(persistence_test, IdleClientConnectionIsClosedAfterIdleTimeout) {
  recording_server upstream;
  airlock_settings settings;
  settings.idle_timeout = "1s";
  start_airlock(settings);

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream, "/")));
  ASSERT_TRUE(client->read_response(5s));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client->wait_closed(3s));
  const double took = seconds_since(start);
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 2.0);
  // An idle connection gets no 408: no request had started.
  EXPECT_EQ(client->buffered(), "");
}

}  // namespace
}  // namespace airlock::test

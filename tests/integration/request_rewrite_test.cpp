// What goes upstream for a request airlock accepts: origin-form built from the
// absolute URI, Host from the URI's authority, hop-by-hop fields (including
// Proxy-Authorization and whatever Connection names) removed, everything else kept, and
// airlock's Via entry added.

#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

class request_rewrite_test : public proxy_test {
 protected:
  // Sends one request through airlock and returns the request the upstream received.
  std::string forwarded(const std::string& request) {
    auto client = connect();
    EXPECT_TRUE(client->send(with_authority(request)));
    const auto r = client->read_response(5s);
    EXPECT_TRUE(r) << client->buffered();
    if (!r) {
      return {};
    }
    EXPECT_EQ(r->status, 200) << r->head << r->body;
    const auto requests = upstream_.requests();
    EXPECT_EQ(requests.size(), 1u);
    return requests.empty() ? std::string() : requests.back();
  }

  std::string with_authority(std::string text) const {
    const std::string authority = upstream_.authority();
    for (auto at = text.find("{A}"); at != std::string::npos; at = text.find("{A}")) {
      text.replace(at, 3, authority);
    }
    return text;
  }

  void SetUp() override { start_airlock(); }

  recording_server upstream_;
};

TEST_F(request_rewrite_test, AbsoluteFormBecomesOriginForm) {
  EXPECT_EQ(forwarded("GET http://{A}/a/b?c=d HTTP/1.1\r\nHost: {A}\r\n\r\n"),
            with_authority("GET /a/b?c=d HTTP/1.1\r\nHost: {A}\r\nVia: 1.1 airlock\r\n\r\n"));
}

TEST_F(request_rewrite_test, EmptyPathBecomesSlash) {
  EXPECT_EQ(forwarded("GET http://{A} HTTP/1.1\r\nHost: {A}\r\n\r\n").substr(0, 15),
            "GET / HTTP/1.1\r");
}

TEST_F(request_rewrite_test, QueryWithoutPathGetsSlash) {
  EXPECT_EQ(forwarded("GET http://{A}?q=1 HTTP/1.1\r\nHost: {A}\r\n\r\n").substr(0, 19),
            "GET /?q=1 HTTP/1.1\r");
}

TEST_F(request_rewrite_test, SchemeAndHostAreCaseInsensitive) {
  const std::string got = forwarded("GET HTTP://{A}/x HTTP/1.1\r\nHost: {A}\r\n\r\n");
  EXPECT_EQ(got.substr(0, 16), "GET /x HTTP/1.1\r");
}

TEST_F(request_rewrite_test, HostIsAddedForHttp10) {
  EXPECT_EQ(
      forwarded("GET http://{A}/ HTTP/1.0\r\n\r\n"),
      with_authority(
          "GET / HTTP/1.0\r\nHost: {A}\r\nVia: 1.0 airlock\r\nConnection: keep-alive\r\n\r\n"));
}

TEST_F(request_rewrite_test, HopByHopFieldsAreNotForwarded) {
  const std::string got = forwarded(
      "GET http://{A}/ HTTP/1.1\r\nHost: {A}\r\nConnection: keep-alive, X-Private\r\n"
      "X-Private: hop\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
      "Proxy-Authorization: Basic YWdlbnQ6c2VjcmV0\r\nTE: trailers\r\nX-Kept: end\r\n\r\n");
  EXPECT_EQ(got, with_authority(
                     "GET / HTTP/1.1\r\nHost: {A}\r\nX-Kept: end\r\nVia: 1.1 airlock\r\n\r\n"));
}

TEST_F(request_rewrite_test, ConnectionCannotStripFraming) {
  // Naming Content-Length in Connection must not make airlock drop it (and forward
  // a body the upstream would then read as the next request).
  const std::string got = forwarded(
      "POST http://{A}/ HTTP/1.1\r\nHost: {A}\r\nConnection: content-length, host\r\n"
      "Content-Length: 5\r\n\r\nhello");
  EXPECT_EQ(got, with_authority("POST / HTTP/1.1\r\nHost: {A}\r\nContent-Length: 5\r\n"
                                "Via: 1.1 airlock\r\n\r\nhello"));
}

TEST_F(request_rewrite_test, EndToEndFieldsKeepOrderAndValue) {
  const std::string got = forwarded(
      "GET http://{A}/ HTTP/1.1\r\nHost: {A}\r\nAccept: */*\r\nX-Dup: 1\r\nX-Dup: 2\r\n"
      "Authorization: Bearer agent-token\r\nX-Spaces:   padded value  \r\n\r\n");
  EXPECT_EQ(got, with_authority("GET / HTTP/1.1\r\nHost: {A}\r\nAccept: */*\r\nX-Dup: 1\r\n"
                                "X-Dup: 2\r\nAuthorization: Bearer agent-token\r\n"
                                "X-Spaces: padded value\r\nVia: 1.1 airlock\r\n\r\n"));
}

TEST_F(request_rewrite_test, ChunkedBodyIsForwardedByteForByte) {
  const std::string body = "5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n";
  auto client = connect();
  // The recording server frames by Content-Length only: read what arrived instead.
  ASSERT_TRUE(client->send(with_authority("POST http://{A}/ HTTP/1.1\r\nHost: {A}\r\n"
                                          "Transfer-Encoding: chunked\r\n\r\n") +
                           body));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (upstream_.received().find("X-Trailer: t\r\n\r\n") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(upstream_.received(), with_authority("POST / HTTP/1.1\r\nHost: {A}\r\n"
                                                 "Via: 1.1 airlock\r\n"
                                                 "Transfer-Encoding: chunked\r\n\r\n") +
                                      body);
}

}  // namespace
}  // namespace airlock::test

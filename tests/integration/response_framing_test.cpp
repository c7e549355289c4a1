// What airlock accepts from upstreams and how it re-frames it for the client:
// invalid or oversize response heads are a 502, conflicting framing is resolved
// the one safe way, and protocol upgrades become a tunnel.

#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

using response_framing_test = proxy_test;

recording_options answering(std::string response) {
  return recording_options{std::move(response), keep_alive_mode::keep, 0ms};
}

std::string get(const recording_server& upstream, const std::string& extra = "") {
  return "GET " + upstream.url("/") + " HTTP/1.1\r\nHost: " + upstream.authority() + "\r\n" +
         extra + "\r\n";
}

struct bad_response {
  const char* name;
  std::string response;
};

void PrintTo(const bad_response& r, std::ostream* os) {
  *os << r.name;
}

const bad_response bad_responses[] = {
    {"NotHttp", "SSH-2.0-OpenSSH_9.2\r\n\r\n"},
    {"ConflictingContentLength",
     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"},
    {"NegativeContentLength", "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok"},
    {"ObsFoldInResponse", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 2\r\n\r\nok"},
    {"BareLfInResponse", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"},
    {"ChunkedNotLast",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
    {"OversizeHead", "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70 * 1024, 'b') +
                         "\r\nContent-Length: 2\r\n\r\nok"},
    {"UnaskedSwitchingProtocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"},
};

class bad_response_test : public proxy_test, public ::testing::WithParamInterface<bad_response> {};

TEST_P(bad_response_test, Is502) {
  recording_server upstream(answering(GetParam().response));
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream)));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << client->buffered();
  EXPECT_EQ(r->status, 502) << r->head << r->body;
  EXPECT_TRUE(r->header("Proxy-Status").has_value()) << r->head;
}

INSTANTIATE_TEST_SUITE_P(Responses, bad_response_test, ::testing::ValuesIn(bad_responses),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(response_framing_test, ChunkedWinsOverContentLength) {
  recording_server upstream(
      answering("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\nhello\r\n0\r\n\r\n"));
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream)));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello");
  // Never both: a client that trusted the length would take "hel" and misread the rest.
  EXPECT_FALSE(r->header("Content-Length").has_value()) << r->head;
}

TEST_F(response_framing_test, CloseDelimitedBodyIsRelayedThenClosed) {
  recording_server upstream({"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
                             keep_alive_mode::close_after_response, 0ms});
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream)));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "until the end");
  // Only the close can end such a body, so the client connection cannot be kept.
  EXPECT_EQ(r->header("Connection").value_or(""), "close") << r->head;
  EXPECT_TRUE(client->closed());
  EXPECT_FALSE(client->reset());
}

TEST_F(response_framing_test, ContentLengthOnHeadResponseIsKept) {
  recording_server upstream(answering("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"));
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("HEAD " + upstream.url("/") +
                           " HTTP/1.1\r\nHost: " + upstream.authority() + "\r\n\r\n"));
  const auto r = client->read_response(5s, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Content-Length").value_or(""), "1234") << r->head;
  // No body follows: the next request on the connection is answered normally.
  ASSERT_TRUE(client->send(get(upstream)));
  const auto next = client->read_response(5s, true);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(client->buffered(), "");
}

// Transfer codings describe the bytes on the wire. airlock relays the bytes unchanged,
// so it must keep the codings it does not decode in the field (or refuse the response):
// a client told only "chunked" would take gzip bytes for the content.
TEST_F(response_framing_test, TransferCodingsBeforeChunkedAreKept) {
  recording_server upstream(
      answering("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nGZ\r\n0\r\n\r\n"));
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream)));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << client->buffered();
  if (r->status == 200) {
    EXPECT_EQ(r->header("Transfer-Encoding").value_or(""), "gzip, chunked")
        << "gzip-coded body relayed as plain content:\n"
        << r->head;
    EXPECT_EQ(r->body, "GZ");
  } else {
    EXPECT_EQ(r->status, 502);
  }
}

TEST_F(response_framing_test, TransferCodingWithoutChunkedIsKeptAndRunsToClose) {
  recording_server upstream({"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nGZIPPED",
                             keep_alive_mode::close_after_response, 0ms});
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream)));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << client->buffered();
  if (r->status == 200) {
    EXPECT_EQ(r->header("Transfer-Encoding").value_or(""), "gzip") << r->head;
    EXPECT_EQ(r->body, "GZIPPED");
    EXPECT_EQ(r->header("Connection").value_or(""), "close") << r->head;
  } else {
    EXPECT_EQ(r->status, 502);
  }
}

TEST_F(response_framing_test, UpgradeBecomesATunnel) {
  recording_server upstream(answering(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(get(upstream, "Connection: Upgrade\r\nUpgrade: websocket\r\n")));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 101);
  EXPECT_EQ(r->header("Upgrade").value_or(""), "websocket") << r->head;
  // From here on, bytes go through unparsed.
  ASSERT_TRUE(client->send("\x81\x05hello"));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (upstream.received().find("\x81\x05hello") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  const std::string received = upstream.received();
  EXPECT_NE(received.find("\x81\x05hello"), std::string::npos);
  EXPECT_NE(received.find("Upgrade: websocket\r\n"), std::string::npos) << received;
}

// aiohttp's WebSocket client through a proxy writes the target as ws://host/path (issue 19,
// failure 5): the same upgrade as http://, not a malformed target.
TEST_F(response_framing_test, WsSchemeInAbsoluteFormIsAnUpgradeLikeHttp) {
  recording_server upstream(answering(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("GET ws://" + upstream.authority() +
                           "/socket?x=1 HTTP/1.1\r\nHost: " + upstream.authority() +
                           "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                           "Sec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << client->buffered();
  EXPECT_EQ(r->status, 101) << r->head;
  const std::string received = upstream.received();
  EXPECT_EQ(received.rfind("GET /socket?x=1 HTTP/1.1\r\n", 0), 0U) << received;

  // wss:// is TLS to the upstream, which airlock opens only for a host it intercepts
  // (absolute_https_test.cpp): for this one, CONNECT, and not a byte goes up.
  const std::size_t before = upstream.received().size();
  auto other = connect();
  ASSERT_TRUE(other->send("GET wss://" + upstream.authority() +
                          "/ HTTP/1.1\r\nHost: " + upstream.authority() + "\r\n\r\n"));
  const auto refused = other->read_response(5s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << refused->head;
  EXPECT_NE(refused->body.find("through CONNECT"), std::string::npos) << refused->body;
  EXPECT_EQ(upstream.received().size(), before);
}

}  // namespace
}  // namespace airlock::test

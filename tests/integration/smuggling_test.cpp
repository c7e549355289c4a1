// Strict parsing at the edge (security invariant 6): every ambiguous or malformed
// request is refused with 400/431, the connection is closed, and not one byte of
// it reaches the upstream. Sent as raw bytes, since no well-behaved client makes them.

#include <gtest/gtest.h>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/recording_server.hpp"
#include "tests/support/sink_server.hpp"

namespace airlock::test {
namespace {

using namespace std::string_literals;

struct bad_request {
  const char* name;
  std::string request;  // "{A}" stands for the upstream's host:port
  int status;
};

// Names the case in test output instead of dumping the struct's bytes.
void PrintTo(const bad_request& r, std::ostream* os) {
  *os << r.name;
}

std::string with_authority(std::string text, const std::string& authority) {
  for (auto at = text.find("{A}"); at != std::string::npos; at = text.find("{A}")) {
    text.replace(at, 3, authority);
  }
  return text;
}

const std::string get = "GET http://{A}/ HTTP/1.1\r\nHost: {A}\r\n";
const std::string post = "POST http://{A}/ HTTP/1.1\r\nHost: {A}\r\n";

const bad_request cases[] = {
    {"ContentLengthAndTransferEncoding",
     post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
    {"TransferEncodingAndContentLength",
     post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
    {"DuplicateContentLengthSame", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
     400},
    {"DuplicateContentLengthDifferent",
     post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
    {"ContentLengthList", post + "Content-Length: 5, 5\r\n\r\nhello", 400},
    {"ContentLengthSigned", post + "Content-Length: +5\r\n\r\nhello", 400},
    {"ContentLengthOverflow", post + "Content-Length: 99999999999999999999\r\n\r\nhello", 400},
    {"ContentLengthHex", post + "Content-Length: 0x5\r\n\r\nhello", 400},
    {"TransferEncodingChunkedIdentity",
     post + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400},
    {"TransferEncodingIdentityChunked",
     post + "Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", 400},
    {"TransferEncodingXchunked", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400},
    {"TransferEncodingSpaceBeforeColon", post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
     400},
    {"TransferEncodingTwice",
     post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
    {"TransferEncodingVerticalTab", post + "Transfer-Encoding:\vchunked\r\n\r\n0\r\n\r\n", 400},
    {"TransferEncodingOnHttp10",
     "POST http://{A}/ HTTP/1.0\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
    {"BareLfLineEndings", "GET http://{A}/ HTTP/1.1\nHost: {A}\n\n", 400},
    {"BareLfInOneField", get + "X-A: 1\nX-B: 2\r\n\r\n", 400},
    {"BareCrInField", get + "X-A: 1\rX-B: 2\r\n\r\n", 400},
    {"BareCrBeforeCrlf", get + "X-A: 1\r\r\n\r\n", 400},
    {"ObsFold", get + "X-A: 1\r\n 2\r\n\r\n", 400},
    {"ObsFoldWithTab", get + "X-A: 1\r\n\t2\r\n\r\n", 400},
    {"NulInFieldValue", get + "X-A: 1\0002\r\n\r\n"s, 400},
    {"NulInFieldName", get + "X-\0A: 1\r\n\r\n"s, 400},
    {"HostDisagreesWithUri", "GET http://{A}/ HTTP/1.1\r\nHost: api.example.com\r\n\r\n", 400},
    {"HostPortDisagreesWithUri", "GET http://{A}/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", 400},
    {"DuplicateHost", get + "Host: {A}\r\n\r\n", 400},
    {"MissingHost", "GET http://{A}/ HTTP/1.1\r\nAccept: */*\r\n\r\n", 400},
    {"OriginForm", "GET / HTTP/1.1\r\nHost: {A}\r\n\r\n", 400},
    {"InvalidHostInUri", "GET http://bad!host/ HTTP/1.1\r\nHost: bad!host\r\n\r\n", 400},
    {"FragmentInUri", "GET http://{A}/#frag HTTP/1.1\r\nHost: {A}\r\n\r\n", 400},
    {"AsteriskForm", "OPTIONS * HTTP/1.1\r\nHost: {A}\r\n\r\n", 400},
    {"UserinfoInUri", "GET http://user@{A}/ HTTP/1.1\r\nHost: {A}\r\n\r\n", 400},
    {"SpaceInTarget", "GET http://{A}/a b HTTP/1.1\r\nHost: {A}\r\n\r\n", 400},
    {"HttpsUriWithoutConnect", "GET https://{A}/ HTTP/1.1\r\nHost: {A}\r\n\r\n", 400},
    {"UnsupportedExpect", get + "Expect: something\r\n\r\n", 417},
    {"Http2Version", "GET http://{A}/ HTTP/2.0\r\nHost: {A}\r\n\r\n", 505},
};

class smuggling_test : public proxy_test, public ::testing::WithParamInterface<bad_request> {};

TEST_P(smuggling_test, RefusedClosedAndNeverForwarded) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send(with_authority(GetParam().request, upstream.authority())));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << "no response; got: " << client->buffered();
  EXPECT_EQ(r->status, GetParam().status) << r->head << r->body;
  EXPECT_EQ(r->header("Connection").value_or(""), "close") << r->head;
  EXPECT_TRUE(client->wait_closed(2s)) << "airlock kept the connection open after the error";
  EXPECT_EQ(upstream.connections(), 0u);
  EXPECT_EQ(upstream.received(), "");
}

INSTANTIATE_TEST_SUITE_P(Requests, smuggling_test, ::testing::ValuesIn(cases),
                         [](const auto& info) { return std::string(info.param.name); });

class strictness_test : public proxy_test {};

TEST_F(strictness_test, OriginFormIsExplained) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("GET /path HTTP/1.1\r\nHost: " + upstream.authority() + "\r\n\r\n"));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("absolute-form"), std::string::npos) << r->body;
  EXPECT_TRUE(client->wait_closed(2s));
}

TEST_F(strictness_test, OversizeHeadIs431) {
  recording_server upstream;
  airlock_settings settings;
  settings.max_header_bytes = "4KiB";
  start_airlock(settings);

  auto client = connect();
  const std::string request = "GET " + upstream.url("/") +
                              " HTTP/1.1\r\nHost: " + upstream.authority() +
                              "\r\nX-Big: " + std::string(6000, 'b') + "\r\n\r\n";
  ASSERT_TRUE(client->send(request));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << client->buffered();
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(client->wait_closed(2s));
  EXPECT_EQ(upstream.connections(), 0u);
}

TEST_F(strictness_test, HeadJustUnderTheLimitIsServed) {
  recording_server upstream;
  airlock_settings settings;
  settings.max_header_bytes = "4KiB";
  start_airlock(settings);

  auto client = connect();
  std::string request =
      "GET " + upstream.url("/") + " HTTP/1.1\r\nHost: " + upstream.authority() + "\r\nX-Big: ";
  request += std::string(4096 - request.size() - 4, 'b') + "\r\n\r\n";
  ASSERT_EQ(request.size(), 4096u);
  ASSERT_TRUE(client->send(request));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << client->buffered();
  EXPECT_EQ(r->status, 200);
}

TEST_F(strictness_test, PipelinedValidThenMalformed) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  const std::string a = upstream.authority();
  ASSERT_TRUE(client->send("GET http://" + a + "/first HTTP/1.1\r\nHost: " + a + "\r\n\r\n" +
                           "POST http://" + a + "/second HTTP/1.1\r\nHost: " + a +
                           "\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy"));
  const auto first = client->read_response(5s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "ok");
  const auto second = client->read_response(5s);
  ASSERT_TRUE(second) << client->buffered();
  EXPECT_EQ(second->status, 400);
  EXPECT_TRUE(client->wait_closed(2s));

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].substr(0, 11), "GET /first ");
  EXPECT_EQ(upstream.received().find("second"), std::string::npos) << upstream.received();
}

TEST_F(strictness_test, MalformedChunkedBodyIs400AndNotForwarded) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("POST " + upstream.url("/") +
                           " HTTP/1.1\r\nHost: " + upstream.authority() +
                           "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nsmuggled\r\n0\r\n\r\n"));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r) << client->buffered();
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(client->wait_closed(2s));
  // The head may have gone up before the body was seen; the bad bytes must not have.
  EXPECT_EQ(upstream.received().find("smuggled"), std::string::npos) << upstream.received();
}

TEST_F(strictness_test, ChunkedWithSurroundingWhitespaceOrOtherCaseIsAccepted) {
  sink_server sink;
  start_airlock();

  // Whitespace around a field value is not part of it (RFC 9110 5.5); token case never matters.
  for (const char* value : {"chunked\t", "chunked\t ", " \tchunked", "Chunked", "CHUNKED "}) {
    auto client = connect();
    ASSERT_TRUE(client->send("POST " + sink.url("/") +
                             " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(sink.port()) +
                             "\r\nTransfer-Encoding:" + value + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    const auto r = client->read_response(5s);
    ASSERT_TRUE(r) << "\"" << value << "\": " << client->buffered();
    EXPECT_EQ(r->status, 200) << "\"" << value << "\"";
    EXPECT_EQ(r->body.substr(0, 8), "bytes=5 ") << "\"" << value << "\"";
    EXPECT_NE(r->body.find("chunked=1"), std::string::npos) << r->body;
  }
}

}  // namespace
}  // namespace airlock::test

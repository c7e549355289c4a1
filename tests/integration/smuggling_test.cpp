// Strict parsing at the edge (security invariant 6): every ambiguous or malformed
// request is refused with 400/431, the connection is closed, and not one byte of
// it reaches the upstream. Sent as raw bytes, since no well-behaved client makes them:
// once in one write, and once split in two at every byte offset, so that no way of
// cutting a request into segments gets a different answer.

#include <gtest/gtest.h>

#include <optional>
#include <string_view>
#include <thread>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/recording_server.hpp"
#include "tests/support/sink_server.hpp"

namespace airlock::test {
namespace {

using namespace std::string_literals;

struct bad_request {
  const char* name;
  // "{A}" stands for the upstream's host:port. "{!}" (removed before sending) marks
  // the first byte of a body that airlock must refuse: when the head has gone up
  // before that part of the body arrived, nothing from there on may follow it. Without
  // the mark, the head itself is refused and the upstream is never contacted.
  std::string request;
  int status;
};

// Names the case in test output instead of dumping the struct's bytes.
void PrintTo(const bad_request& r, std::ostream* os) {
  *os << r.name;
}

// A case's bytes as sent, and what parts of them an upstream may see.
struct wire_request {
  std::string bytes;
  std::size_t body_start = 0;             // just after the head's CRLFCRLF
  std::optional<std::size_t> refused_at;  // where "{!}" stood
};

wire_request render(const bad_request& c, const std::string& authority) {
  wire_request out;
  out.bytes = c.request;
  for (auto at = out.bytes.find("{A}"); at != std::string::npos; at = out.bytes.find("{A}")) {
    out.bytes.replace(at, 3, authority);
  }
  if (const auto mark = out.bytes.find("{!}"); mark != std::string::npos) {
    out.bytes.erase(mark, 3);
    out.refused_at = mark;
  }
  out.body_start = out.bytes.find("\r\n\r\n") + 4;
  return out;
}

// Bytes as C-escaped text, for failure messages about requests full of CR, LF and NUL.
std::string escaped(std::string_view bytes) {
  std::string out;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

// Why what one upstream connection received is more than a refused request may leave
// there; empty when it is not. At most: the request head (as airlock rewrote it), then
// body bytes from before the refused part.
std::string overreach(const wire_request& req, std::string_view got) {
  if (!req.refused_at) {
    return "the head should have been refused, yet the upstream got: " + escaped(got);
  }
  const auto head_end = got.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    return "the upstream got part of a head: " + escaped(got);
  }
  const std::string_view body = got.substr(head_end + 4);
  const std::string_view allowed =
      std::string_view(req.bytes).substr(req.body_start, *req.refused_at - req.body_start);
  if (body.size() > allowed.size() || allowed.substr(0, body.size()) != body) {
    return "the upstream got body bytes from the refused part on: " + escaped(body);
  }
  return {};
}

const std::string get = "GET http://{A}/ HTTP/1.1\r\nHost: {A}\r\n";
const std::string post = "POST http://{A}/ HTTP/1.1\r\nHost: {A}\r\n";
const std::string chunked_post = post + "Transfer-Encoding: chunked\r\n\r\n";
// A valid request after a refused one on the same connection: it must never be served.
const std::string pipelined = "GET http://{A}/pipelined HTTP/1.1\r\nHost: {A}\r\n\r\n";

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
    {"UserinfoInHttpsUri", "GET https://user@{A}/ HTTP/1.1\r\nHost: {A}\r\n\r\n", 400},
    {"HttpsUriHostWithoutPortIs443", "GET https://{A}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400},
    {"UnsupportedExpect", get + "Expect: something\r\n\r\n", 417},
    {"Http2Version", "GET http://{A}/ HTTP/2.0\r\nHost: {A}\r\n\r\n", 505},
    // More ways to disagree on framing.
    {"ContentLengthEmpty", post + "Content-Length: \r\n\r\nhello", 400},
    {"ContentLengthInnerSpace", post + "Content-Length: 1 5\r\n\r\nhello", 400},
    {"TransferEncodingChunkedTwiceInOneField",
     post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
    {"TransferEncodingGzipChunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
     400},
    {"TransferEncodingQuoted", post + "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400},
    {"TransferEncodingEmpty", post + "Transfer-Encoding: \r\n\r\n0\r\n\r\n", 400},
    {"GetWithTransferEncodingOnHttp10",
     "GET http://{A}/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
    // Control bytes other than NUL, CR and LF in the request line and the fields.
    {"ControlByteInFieldValue", get + "X-A: 1\x01 2\r\n\r\n", 400},
    {"DelInFieldValue", get + "X-A: 1\x7f 2\r\n\r\n", 400},
    {"FormFeedInFieldValue", get + "X-A: 1\f2\r\n\r\n", 400},
    {"EscapeInFieldName", get + "X\x1b-A: 1\r\n\r\n", 400},
    {"TabInFieldName", get + "X-\tA: 1\r\n\r\n", 400},
    {"ControlByteInTarget", "GET http://{A}/\x01 HTTP/1.1\r\nHost: {A}\r\n\r\n", 400},
    {"ControlByteInMethod", "GE\x01T http://{A}/ HTTP/1.1\r\nHost: {A}\r\n\r\n", 400},
    // Chunked bodies: sizes, extensions and line ends a lenient parser would read some
    // other way. The head is fine, so it may go up before the body is seen.
    {"ChunkSizeNotHex", chunked_post + "{!}zz\r\nsmuggled\r\n0\r\n\r\n", 400},
    {"ChunkSizeOverflow", chunked_post + "fffffffffffffff{!}fff\r\nx\r\n0\r\n\r\n", 400},
    {"ChunkSizeHexPrefix", chunked_post + "0{!}x5\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkSizeEmpty", chunked_post + "{!}\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkSizeBareLf", chunked_post + "5{!}\nhello\r\n0\r\n\r\n", 400},
    {"ChunkSizeBareCr", chunked_post + "5\r{!}hello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionBareLf", chunked_post + "5;ext{!}\nhello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionBareCr", chunked_post + "5;a\r{!}b\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionControlByte", chunked_post + "5;ext={!}\x01\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionNul", chunked_post + "5;ext={!}\0\r\nhello\r\n0\r\n\r\n"s, 400},
    {"ChunkDataOverrun", chunked_post + "5\r\nhello{!}X\r\n0\r\n\r\n", 400},
    {"ChunkDataBareLf", chunked_post + "5\r\nhello{!}\n0\r\n\r\n", 400},
    {"LastChunkBareLf", chunked_post + "5\r\nhello\r\n0\r\n{!}\n", 400},
    {"ObsFoldInTrailer", chunked_post + "0\r\nX-T: 1\r\n{!} 2\r\n\r\n", 400},
    // Chunk extensions and trailers outside RFC 9112 7.1: relayed verbatim, the next
    // parser could end the chunk (or the message) somewhere else.
    {"ChunkExtensionBareSemicolon", chunked_post + "5;{!}\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionEmptyName", chunked_post + "5;{!}=v\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionEmptyValue", chunked_post + "5;a={!}\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionUnterminatedQuote",
     chunked_post + "5;a=\"abc{!}\r\nhello\r\n0\r\n\r\n\"\r\n0\r\n\r\n", 400},
    {"ChunkExtensionLfInQuote", chunked_post + "5;a=\"x{!}\ny\"\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionSpaceInValue", chunked_post + "5;a=b {!}c\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionTrailingSpace", chunked_post + "5;a {!}\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionSeparatorInName", chunked_post + "5;a{!}/b\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkExtensionJunkAfterQuote", chunked_post + "5;a=\"b\"{!}c\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkSizeLeadingSpace", chunked_post + "{!} 5\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkSizeTrailingSpace", chunked_post + "5 {!}\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkSizePlus", chunked_post + "{!}+5\r\nhello\r\n0\r\n\r\n", 400},
    {"ChunkSizeMinus", chunked_post + "{!}-5\r\nhello\r\n0\r\n\r\n", 400},
    {"TrailerWithoutColon", chunked_post + "0\r\nX-T{!}\r\n\r\n", 400},
    {"TrailerSpaceBeforeColon", chunked_post + "0\r\nX-T{!} : v\r\n\r\n", 400},
    {"TrailerEmptyName", chunked_post + "0\r\n{!}: v\r\n\r\n", 400},
    // A valid request behind a refused one is never served: the connection is over.
    {"PipelinedAfterDuplicateContentLength",
     post + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy" + pipelined, 400},
    {"PipelinedAfterObsFold", get + "X-A: 1\r\n 2\r\n\r\n" + pipelined, 400},
    {"PipelinedAfterHostMismatch",
     "GET http://{A}/ HTTP/1.1\r\nHost: api.example.com\r\n\r\n" + pipelined, 400},
    {"PipelinedAfterBadChunk", chunked_post + "{!}zz\r\n\r\n" + pipelined, 400},
    {"PipelinedAfterBadLastChunk", chunked_post + "0\r\n{!}\n\r\n" + pipelined, 400},
    {"PipelinedAfterBadExtension", chunked_post + "5;{!}\r\nhello\r\n0\r\n\r\n" + pipelined, 400},
};

class smuggling_test : public proxy_test, public ::testing::WithParamInterface<bad_request> {
 protected:
  // Sends req in two writes, the first `split` bytes and then the rest (split == 0: one
  // write), on a new connection. Returns what went wrong, or an empty string when the
  // answer was the case's status with "Connection: close" and the connection ended.
  std::string refused(const wire_request& req, std::size_t split) {
    auto client = connect();
    if (split == 0) {
      client->send(req.bytes);
    } else {
      client->send(std::string_view(req.bytes).substr(0, split));
      // TCP_NODELAY is on: the pause makes the two writes two segments, read apart.
      std::this_thread::sleep_for(1ms);
      // May fail: airlock can have refused the first part and closed already.
      client->send(std::string_view(req.bytes).substr(split));
    }
    const auto r = client->read_response(5s);
    if (!r) {
      return "no response; got: " + escaped(client->buffered());
    }
    if (r->status != GetParam().status) {
      return "status " + std::to_string(r->status) + ": " + r->head + r->body;
    }
    if (r->header("Connection").value_or("") != "close") {
      return "no \"Connection: close\": " + r->head;
    }
    if (!client->wait_closed(2s)) {
      return "airlock kept the connection open after the error";
    }
    return {};
  }
};

TEST_P(smuggling_test, RefusedClosedAndNeverForwarded) {
  recording_server upstream;
  start_airlock();

  // In one write the whole body is there with the head: even a body fault is found
  // before the upstream is dialled.
  EXPECT_EQ(refused(render(GetParam(), upstream.authority()), 0), "");
  EXPECT_EQ(upstream.connections(), 0u);
  EXPECT_EQ(upstream.received(), "");
}

TEST_P(smuggling_test, RefusedTheSameWhenSplitAtAnyByte) {
  recording_server upstream;
  start_airlock();
  const wire_request req = render(GetParam(), upstream.authority());

  std::size_t checked = 0;  // upstream connections looked at so far
  const auto check_upstream = [&](const std::string& when) {
    const auto connections = upstream.ended_connections();
    for (; checked < connections.size(); ++checked) {
      const std::string problem = overreach(req, connections[checked]);
      if (!problem.empty()) {
        ADD_FAILURE() << when << ": " << problem;
        return false;
      }
    }
    return true;
  };
  for (std::size_t split = 1; split < req.bytes.size(); ++split) {
    const std::string failure = refused(req, split);
    if (!failure.empty()) {
      ADD_FAILURE() << "split after byte " << split << " of " << req.bytes.size() << " (\""
                    << escaped(req.bytes.substr(0, split)) << "\" then the rest): " << failure;
      break;
    }
    // A connection airlock opened for this split may be accepted only later: each is
    // checked on its own whenever it has ended.
    if (!check_upstream("split after byte " + std::to_string(split))) {
      break;
    }
  }
  EXPECT_TRUE(upstream.wait_connections_ended(2s)) << "an upstream connection was left open";
  check_upstream("after the last split");
  if (!req.refused_at) {
    EXPECT_EQ(upstream.connections(), 0u);
  }
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

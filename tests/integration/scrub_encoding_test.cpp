// Response scrubbing and content codings (issue 18): airlock asks a scrubbed host for
// identity, but an upstream may compress anyway. gzip, x-gzip and deflate (zlib or raw) are
// decoded, masked and relayed without Content-Encoding (chunked, or to the close for an
// HTTP/1.0 client); any other coding is answered 502 scrub_unreadable naming the rule, unless
// every rule naming the host opts out with on_unreadable: pass. No trick with codings gets
// the key to the agent in a form it could decode.

#include <gtest/gtest.h>

#include "tests/integration/scrub_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

const std::vector<std::string> key_only = {scrub_secret};

std::string plain_text() {
  std::string t = "{\"headers\":{\"x-api-key\":\"" + std::string(scrub_secret) + "\"},\"log\":[";
  for (int i = 0; i < 200; ++i) {
    t += "\"line " + std::to_string(i) + (i % 50 == 7 ? std::string(" ") + scrub_secret : "") +
         "\",";
  }
  return t + "\"end\"]}\n";
}

std::string coded_response(const std::string& coding, const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: " + coding +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct coded {
  std::string coding;
  zformat format;
};
const std::vector<coded> readable = {{"gzip", zformat::gzip},
                                     {"x-gzip", zformat::gzip},
                                     {"deflate", zformat::zlib},
                                     {"deflate", zformat::raw}};

TEST_F(scrub_test, GzipAndDeflateAreDecodedMaskedAndRelayedWithoutTheirCoding) {
  const std::string plain = plain_text();
  const std::string gz = compress(plain, zformat::gzip);
  auto up = start_scripted(
      [&](const std::string& request) {
        const std::string target = request_target(request);
        if (target == "/chunked") {  // the coded bytes chunked, and cut across writes
          return strings{
              "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
              "Transfer-Encoding: chunked\r\n\r\n" +
                  chunk(gz.substr(0, gz.size() / 2)),
              chunk(gz.substr(gz.size() / 2)) + "0\r\n\r\n"};
        }
        const coded& c = readable.at(std::stoul(target.substr(1)));
        return strings{coded_response(c.coding, compress(plain, c.format))};
      },
      20ms);
  start_scrubbing(key_rule("coded", up->port()));
  const std::string expected = masked(plain, key_only);

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  for (std::size_t i = 0; i <= readable.size(); ++i) {
    const std::string path = i < readable.size() ? numbered("/", i) : "/chunked";
    SCOPED_TRACE(path + (i < readable.size() ? " " + readable[i].coding : ""));
    const auto r = get(*tunnel, up->port(), path, "Accept-Encoding: gzip, deflate\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->head;
    EXPECT_FALSE(r->header("content-encoding")) << r->head;
    EXPECT_FALSE(r->header("content-length")) << r->head;
    EXPECT_EQ(r->header("transfer-encoding"), "chunked") << r->head;
    EXPECT_EQ(r->body, expected);
    EXPECT_EQ(leaked(r->body, scrub_secret), "");
  }
  for (const auto& req : up->requests()) {
    EXPECT_EQ(field_values(req, "accept-encoding"), strings{"identity"}) << req;
  }
}

// HTTP/1.0 has no chunked: the decoded body's end is the connection's.
TEST_F(scrub_test, DecodedBodyToAnHttp10ClientEndsWithTheConnection) {
  const std::string plain = plain_text();
  auto up = start_fixed(coded_response("gzip", compress(plain, zformat::gzip)));
  start_scrubbing(key_rule("coded", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /old HTTP/1.0\r\nHost: localhost:" + std::to_string(up->port()) +
                           "\r\n\r\n"));
  const auto r = tunnel->read_response(10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->head;
  EXPECT_FALSE(r->header("content-encoding")) << r->head;
  EXPECT_FALSE(r->header("transfer-encoding")) << r->head;
  EXPECT_EQ(r->body, masked(plain, key_only));
  EXPECT_TRUE(tunnel->wait_closed(2s));
}

// Codings airlock cannot read, each wrapping bytes that hold the key in the clear.
const strings unreadable = {"br", "zstd", "compress", "gzip, br", "br, gzip"};

TEST_F(scrub_test, AttackerUnreadableCodingIs502NamingTheRuleAndNothingLeaks) {
  const std::string body = std::string("\x1b\x03opaque ") + scrub_secret;
  auto up = start_scripted([&](const std::string& request) {
    const std::string target = request_target(request);
    return strings{coded_response(unreadable.at(std::stoul(target.substr(1))), body)};
  });
  start_scrubbing(key_rule("strict", up->port()));

  for (std::size_t i = 0; i < unreadable.size(); ++i) {
    SCOPED_TRACE(unreadable[i]);
    auto tunnel = open_tunnel(up->port());
    ASSERT_TRUE(tunnel);
    const auto r = get(*tunnel, up->port(), numbered("/", i), "Accept-Encoding: br\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 502) << r->head;
    EXPECT_EQ(r->header("x-airlock-reason"), "scrub_unreadable rule=strict") << r->head;
    EXPECT_NE(r->header("proxy-status").value_or("").find("error=http_response_content_coding"),
              std::string::npos)
        << r->head;
    EXPECT_EQ(leaked(r->head + r->body, scrub_secret), "") << r->head << r->body;
  }
  EXPECT_EQ(up->requests().size(), unreadable.size());
}

// on_unreadable: pass, on every rule naming the host, lets such a body through as it came,
// unscanned (the documented risk); header values are still masked, and readable codings
// still decoded.
TEST_F(scrub_test, OnUnreadablePassRelaysUnreadableBodiesAsTheyAre) {
  const std::string body = std::string("\x1b\x03opaque ") + scrub_secret;
  const std::string plain = plain_text();
  auto up = start_scripted([&](const std::string& request) {
    if (request_target(request) == "/gzip") {
      return strings{coded_response("gzip", compress(plain, zformat::gzip))};
    }
    return strings{"HTTP/1.1 200 OK\r\nX-Echo: " + std::string(scrub_secret) +
                   "\r\nContent-Encoding: br\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\n\r\n" + body};
  });
  start_scrubbing(key_rule("lenient", up->port(), ", scrub: { on_unreadable: pass }"));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto r = get(*tunnel, up->port(), "/br");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->head;
  EXPECT_EQ(r->header("content-encoding"), "br") << r->head;
  EXPECT_EQ(r->body, body);
  EXPECT_EQ(r->header("x-echo"), std::string(std::string_view(scrub_secret).size(), '*'));
  const auto g = get(*tunnel, up->port(), "/gzip");
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->header("content-encoding")) << g->head;
  EXPECT_EQ(g->body, masked(plain, key_only));
}

// One rule on the host that has not opted out is enough to refuse.
TEST_F(scrub_test, AttackerUnreadableBodyIsRefusedIfAnyRuleOnTheHostScrubs) {
  const std::string body = std::string("opaque ") + other_secret;
  auto up = start_fixed(coded_response("br", body));
  const std::string port = std::to_string(up->port());
  start_scrubbing(key_rule("lenient", up->port(), ", paths: [/a], scrub: { on_unreadable: pass }") +
                  "  - { name: strict, host: localhost, port: " + port +
                  ", paths: [/b], headers: { x-other: \"{{other}}\" },"
                  " scrub: { on_unreadable: refuse } }\n");

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto r = get(*tunnel, up->port(), "/a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502) << r->head;
  EXPECT_EQ(r->header("x-airlock-reason"), "scrub_unreadable rule=strict") << r->head;
  EXPECT_EQ(leaked(r->head + r->body, other_secret), "");
}

// Everything a client could make of a response: its bytes, and what any zlib framing at
// any place in its body decodes to (chunk framing taken off first, when it has it).
std::string visible(const std::string& head, const std::string& body) {
  std::string out = head + body;
  for (const std::string& b : {body, dechunk(body)}) {
    for (std::size_t at = 0; at < b.size(); ++at) {
      const auto c0 = static_cast<std::uint8_t>(b[at]);
      const auto c1 = at + 1 < b.size() ? static_cast<std::uint8_t>(b[at + 1]) : 0;
      if (at == 0 || (c0 == 0x1f && c1 == 0x8b) || (c0 == 0x78 && (c0 * 256 + c1) % 31 == 0)) {
        for (const std::string& d : decodings(std::string_view(b).substr(at))) {
          out += "\n" + d;
        }
      }
    }
  }
  return out;
}

// Codings spelled and stacked to confuse a decoder, and coded bodies that are not what they
// say: each response is either refused or decoded and masked; never the key, however hidden.
TEST_F(scrub_test, AttackerCodingTricksNeverGetTheKeyToTheAgent) {
  const std::string plain = std::string("key=") + scrub_secret + "\n";
  const std::string gz = compress(plain, zformat::gzip);
  const std::string twice = compress(gz, zformat::gzip);
  const auto fields = [](const std::string& f, const std::string& body) {
    return "HTTP/1.1 200 OK\r\n" + f + "Content-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  };
  const std::vector<std::pair<std::string, std::string>> tricks = {
      {"upper case", coded_response("GZIP", gz)},
      {"stacked in a list", coded_response("gzip, gzip", twice)},
      {"stacked in two fields",
       fields("Content-Encoding: gzip\r\nContent-Encoding: gzip\r\n", twice)},
      {"identity then gzip", coded_response("identity, gzip", gz)},
      {"gzip label on plain text", coded_response("gzip", plain)},
      {"deflate label on gzip", coded_response("deflate", gz)},
      {"plain text after the gzip stream", coded_response("gzip", gz + plain)},
      {"a second gzip member", coded_response("gzip", compress("ok\n", zformat::gzip) + gz)},
      {"gzip as a transfer coding",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked({gz})},
  };
  auto up = start_scripted([&](const std::string& request) {
    const std::string target = request_target(request);
    return strings{tricks.at(std::stoul(target.substr(1))).second};
  });
  start_scrubbing(key_rule("strict", up->port()));

  for (std::size_t i = 0; i < tricks.size(); ++i) {
    SCOPED_TRACE(tricks[i].first);
    auto tunnel = open_tunnel(up->port());
    ASSERT_TRUE(tunnel);
    ASSERT_TRUE(tunnel->send("GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: localhost:" +
                             std::to_string(up->port()) + "\r\n\r\n"));
    const auto r = tunnel->read_response(5s);
    tunnel->wait_closed(300ms);  // whatever else comes, until the connection rests
    const std::string rest = tunnel->take_buffered();
    std::string head = r ? r->head : rest.substr(0, rest.find("\r\n\r\n") + 4);
    std::string body = r ? r->body + rest : rest.substr(head.size());
    if (r) {
      EXPECT_TRUE(r->status == 502 || r->status == 200) << r->head;
      if (r->status == 200) {
        EXPECT_FALSE(r->header("content-encoding")) << "relayed still coded: " << r->head;
      }
    }
    EXPECT_EQ(leaked(visible(head, body), scrub_secret), "") << head << body;
  }
}

}  // namespace
}  // namespace airlock::test

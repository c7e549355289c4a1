// Response scrubbing (issue 18): an upstream that hands the injected key back, in any form,
// in its body or its header values, gives the agent '*' in its place; which responses are
// scrubbed (every one from a host a scrubbing rule names, however it was reached), what the
// request asks of such a host, and where nothing is touched (scrub: false, other hosts).

#include <gtest/gtest.h>

#include "tests/integration/scrub_fixture.hpp"
#include "tests/support/recording_server.hpp"
#include "tests/support/scrub_reference.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

const std::vector<std::string> key_only = {scrub_secret};

// A body carrying every spelling of the secret, one a line, in JSON-ish text.
std::string every_spelling_body() {
  std::string body = "{\"echo\":[\n";
  for (const std::string& s : spellings_of(scrub_secret)) {
    body += "  \"" + s + "\",\n";
  }
  return body + "  \"end\"]}\n";
}

TEST_F(scrub_test, EveryFormOfTheKeyInTheBodyIsMaskedAndTheLengthKept) {
  const std::string body = every_spelling_body();
  auto up = start_fixed(sized_response(body, "Content-Type: application/json\r\n"));
  start_scrubbing(key_rule("echo", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto r = get(*tunnel, up->port(), "/v1/echo", "x-api-key: placeholder\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->head;
  EXPECT_EQ(r->header("content-length"), std::to_string(body.size())) << r->head;
  EXPECT_EQ(r->body, masked(body, key_only));
  EXPECT_EQ(leaked(r->body, scrub_secret), "");
  // The key did go up: the mask is on the way back only.
  EXPECT_EQ(field_values(newest_request(*up), "x-api-key"), strings{scrub_secret});
}

// The plainest leak: an upstream that echoes the request head it got, injected field and all.
TEST_F(scrub_test, AttackerEchoUpstreamGetsTheKeyButTheAgentDoesNot) {
  auto up = start_upstream();
  start_scrubbing(key_rule("echo", up->port()));

  const auto r = fetch({"-H", "x-api-key: placeholder", https_url(*up, "/v1/x")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  const std::string got = newest_request(*up);
  EXPECT_EQ(field_values(got, "x-api-key"), strings{scrub_secret});
  EXPECT_EQ(r.body, masked(got, key_only));
  EXPECT_EQ(field_values(r.body, "x-api-key"),
            strings{std::string(std::string_view(scrub_secret).size(), '*')});
  EXPECT_EQ(leaked(r.body + r.err, scrub_secret), "");
}

// basic_auth sends base64("user:password"): that string, the pair and the password are each
// masked wherever they come back.
std::string basic_echo_body(const std::string& request) {
  return request.substr(0, request.find("\r\n\r\n") + 4) + "pair=user-x:" + scrub_secret +
         "\npassword=" + scrub_secret + "\n";
}

TEST_F(scrub_test, BasicAuthPairItsBase64AndThePasswordAreMasked) {
  const std::string pair = std::string("user-x:") + scrub_secret;
  auto up = start_scripted([](const std::string& request) {
    return std::vector<std::string>{sized_response(basic_echo_body(request))};
  });
  start_scrubbing("  - { name: basic, host: localhost, port: " + std::to_string(up->port()) +
                  ", basic_auth: { username: user-x, password: \"{{key}}\" } }\n");

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto r = get(*tunnel, up->port(), "/repo.git/info/refs");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->head;
  const std::string got = newest_request(*up);
  const std::string sent_b64 = proxy::testing::base64_encode(pair, false, true);
  EXPECT_EQ(field_values(got, "authorization"), strings{"Basic " + sent_b64});
  EXPECT_EQ(r->body, masked(basic_echo_body(got), {scrub_secret, pair}));
  EXPECT_EQ(r->body.find(sent_b64), std::string::npos) << r->body;
  EXPECT_EQ(leaked(r->body, pair), "");
  EXPECT_EQ(leaked(r->body, scrub_secret), "");
}

// The finding in the issue: with a query-parameter rule, nginx's directory redirect answers
// Location: https://host/dir/?page=1&key=<key>, and its error page prints the URI. Header
// values are masked like the body, length for length.
std::string redirect_location(const std::string& request) {
  std::string target = request_target(request);
  target.insert(target.find('?'), 1, '/');
  std::string location = "https://";
  location += field_values(request, "host").at(0);
  return location + target;
}

std::string redirect_page(const std::string& request) {
  const std::string location = redirect_location(request);
  return "<html><body>301 Moved: " + location.substr(location.find("/dir")) + "</body></html>\n";
}

TEST_F(scrub_test, AttackerRedirectCarryingTheQueryKeyIsMaskedInLocation) {
  auto up = start_scripted([](const std::string& request) {
    const std::string page = redirect_page(request);
    return std::vector<std::string>{
        "HTTP/1.1 301 Moved Permanently\r\nLocation: " + redirect_location(request) +
        "\r\nSet-Cookie: last=" + scrub_secret +
        "; Path=/\r\nContent-Type: text/html\r\nContent-Length: " + std::to_string(page.size()) +
        "\r\n\r\n" + page};
  });
  start_scrubbing("  - { name: maps, host: localhost, port: " + std::to_string(up->port()) +
                  ", query: { key: \"{{key}}\" } }\n");

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto r = get(*tunnel, up->port(), "/dir?page=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 301) << r->head;
  // The key went up percent-encoded in the query, and came back in Location, masked.
  const std::string got = newest_request(*up);
  EXPECT_NE(request_line(got).find("key=sk-SCRUB%2F4e9%2Ba1%3Dc%26"), std::string::npos)
      << request_line(got);
  const std::string location = redirect_location(got);
  ASSERT_TRUE(r->header("location"));
  EXPECT_EQ(*r->header("location"), masked(location, key_only));
  EXPECT_EQ(r->header("location")->size(), location.size());
  EXPECT_EQ(r->header("set-cookie"),
            masked(std::string("last=") + scrub_secret + "; Path=/", key_only));
  EXPECT_EQ(r->body, masked(redirect_page(got), key_only));
  EXPECT_EQ(leaked(r->head + r->body, scrub_secret), "") << r->head << r->body;
}

// The agent cannot ask for the response in a form airlock does not read, nor for a slice of
// it that would cut a spelling of the key in two.
TEST_F(scrub_test, AttackerAcceptEncodingAndRangeAreReplacedForAScrubbedHost) {
  auto up = start_upstream();
  start_scrubbing(key_rule("echo", up->port()));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(get(*tunnel, up->port(), "/a",
                  "Accept-Encoding: gzip, deflate, br, zstd\r\nRange: bytes=3-9\r\n"
                  "If-Range: \"etag-1\"\r\n"));
  ASSERT_TRUE(get(*tunnel, up->port(), "/b"));
  const auto requests = up->requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const auto& req : requests) {
    EXPECT_EQ(field_values(req, "accept-encoding"), strings{"identity"}) << req;
    EXPECT_EQ(field_values(req, "range"), strings{}) << req;
    EXPECT_EQ(field_values(req, "if-range"), strings{}) << req;
    EXPECT_EQ(field_values(req, "x-api-key"), strings{scrub_secret}) << req;
  }

  // Beside it, a host no rule names gets the agent's fields as they were.
  recording_server plain;
  const auto forwarded = curl({"-s", "-o", "/dev/null", "-H", "Accept-Encoding: gzip", "-H",
                               "Range: bytes=3-9", plain.url("/f")});
  ASSERT_EQ(forwarded.exit_code, 0) << forwarded.err;
  ASSERT_EQ(plain.requests().size(), 1u);
  EXPECT_EQ(field_values(plain.requests()[0], "accept-encoding"), strings{"gzip"});
  EXPECT_EQ(field_values(plain.requests()[0], "range"), strings{"bytes=3-9"});
}

// A host is scrubbed because a rule names it, not because this request got the key: a path
// or method outside the rule's scope is answered by the same server, which may have kept it.
TEST_F(scrub_test, AttackerPathOutsideTheRulesScopeIsScrubbedToo) {
  const std::string body = std::string("cached: ") + scrub_secret + "\n";
  auto up = start_fixed(sized_response(body));
  start_scrubbing(key_rule("scoped", up->port(), ", paths: [/v1], methods: [POST]"));

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto r = get(*tunnel, up->port(), "/other");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(field_values(newest_request(*up), "x-api-key"), strings{});  // not injected
  EXPECT_EQ(r->body, masked(body, key_only));
  EXPECT_EQ(leaked(r->body, scrub_secret), "");
}

// Plain http:// to the credential host (upgraded to TLS upstream) and a reverse route to it
// are answered by the same server: scrubbed the same.
TEST_F(scrub_test, PlainHttpAndReverseRouteResponsesAreScrubbed) {
  const std::string body = std::string("key=") + scrub_secret + "\n";
  auto up = start_fixed(sized_response(body));
  const std::string authority = "localhost:" + std::to_string(up->port());
  airlock_settings settings;
  settings.extra_yaml =
      tls_yaml() + "routes:\n  - { prefix: /r, upstream: \"https://" + authority + "\" }\n";
  start_scrubbing(key_rule("echo", up->port()), settings);

  auto plain = connect();
  ASSERT_TRUE(
      plain->send("GET http://" + authority + "/p HTTP/1.1\r\nHost: " + authority + "\r\n\r\n"));
  const auto p = plain->read_response(10s);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200) << p->head;
  EXPECT_EQ(p->body, masked(body, key_only));

  auto routed = connect();
  ASSERT_TRUE(routed->send(
      "GET /r/q HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(airlock().port()) + "\r\n\r\n"));
  const auto q = routed->read_response(10s);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->status, 200) << q->head;
  EXPECT_EQ(q->body, masked(body, key_only));

  const auto requests = up->requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const auto& req : requests) {
    EXPECT_EQ(field_values(req, "x-api-key"), strings{scrub_secret}) << req;
  }
}

// scrub: false is the documented risk: an upstream that echoes the key gives it to the
// agent. Another rule on the same host that does scrub still masks its own secret.
TEST_F(scrub_test, ScrubFalseLetsTheKeyBackToTheAgent) {
  const std::string body = std::string("a=") + scrub_secret + "\nb=" + other_secret + "\n";
  auto up = start_fixed(sized_response(body));
  const std::string port = std::to_string(up->port());
  start_scrubbing(key_rule("open", up->port(), ", paths: [/open], scrub: false") +
                  "  - { name: closed, host: localhost, port: " + port +
                  ", paths: [/closed], headers: { x-other: \"{{other}}\" }, scrub: true }\n");

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  const auto r = get(*tunnel, up->port(), "/open");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(field_values(newest_request(*up), "x-api-key"), strings{scrub_secret});
  EXPECT_EQ(r->body, masked(body, {other_secret}));
  EXPECT_NE(r->body.find(scrub_secret), std::string::npos) << r->body;
  EXPECT_EQ(leaked(r->body, other_secret), "");
}

// airlock only scrubs where it sends a key: a host no rule names gets its bytes through
// unchanged, forwarded or through a blind tunnel, whatever they contain.
TEST_F(scrub_test, HostsWithoutACredentialRuleAreNotTouched) {
  const std::string body = std::string("key=") + scrub_secret + "\n";
  auto ruled = start_fixed(sized_response(body));
  auto unruled = start_fixed(sized_response(body));
  recording_server plain(recording_options{sized_response(body)});
  start_scrubbing(key_rule("ruled", ruled->port()));

  const auto blind = curl({"--cacert", pki_.ca_cert.string(), https_url(*unruled, "/x")});
  ASSERT_EQ(blind.exit_code, 0) << blind.err;
  EXPECT_EQ(blind.out, body);
  const auto forwarded = curl({plain.url("/x")});
  ASSERT_EQ(forwarded.exit_code, 0) << forwarded.err;
  EXPECT_EQ(forwarded.out, body);
  // The ruled host beside them.
  const auto scrubbed = fetch({https_url(*ruled, "/x")});
  EXPECT_EQ(scrubbed.body, masked(body, key_only));
}

}  // namespace
}  // namespace airlock::test

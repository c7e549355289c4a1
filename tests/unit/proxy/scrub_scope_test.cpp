// Which answers are scrubbed, with which secrets, and whether their body can be read
// (issue 18). The scope is the host: an answer from any path of a host a rule names may
// carry the key sent to another path, so a rule's paths never narrow it; hosts no rule
// names never got a key and are left alone.

#include <gtest/gtest.h>

#include <map>

#include "proxy/policy/rewrite.hpp"
#include "proxy/policy/scrub_scope.hpp"

namespace airlock::proxy {
namespace {

config::value_template secret_ref(std::string prefix, std::string name) {
  config::value_template t;
  if (!prefix.empty()) {
    t.parts.push_back({false, std::move(prefix)});
  }
  t.parts.push_back({true, std::move(name)});
  return t;
}

config::credential_rule rule(std::string host, std::uint16_t port = 0) {
  config::credential_rule r;
  r.name = host;
  r.match.host = std::move(host);
  r.match.port = port;
  return r;
}

TEST(scrub_scope, every_rule_naming_the_host_whatever_its_paths) {
  std::vector<config::credential_rule> rules{rule("api.example.com"), rule("*.example.com"),
                                             rule("other.example.org"),
                                             rule("api.example.com", 8443)};
  rules[0].match.path_prefixes = {"/v1"};
  const auto s = scrub_scope_for(rules, "api.example.com", 443);
  EXPECT_EQ(s.rules, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_FALSE(s.pass_unreadable);
  EXPECT_EQ(scrub_scope_for(rules, "api.example.com", 8443).rules, (std::vector<std::uint32_t>{3}));
  // The attacker's host (no rule) and the bare suffix a wildcard does not name: untouched.
  EXPECT_TRUE(scrub_scope_for(rules, "evil.test", 443).empty());
  EXPECT_TRUE(scrub_scope_for(rules, "example.com", 443).empty());
  EXPECT_TRUE(scrub_scope_for(rules, "api.example.com", 80).empty());
}

TEST(scrub_scope, off_rules_are_left_out_and_one_refusing_rule_keeps_refusing) {
  std::vector<config::credential_rule> rules{rule("a.test"), rule("a.test"), rule("a.test")};
  rules[0].scrub.enabled = false;
  rules[1].scrub.pass_unreadable = true;
  auto s = scrub_scope_for(rules, "a.test", 443);
  EXPECT_EQ(s.rules, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_FALSE(s.pass_unreadable);
  rules[2].scrub.pass_unreadable = true;
  EXPECT_TRUE(scrub_scope_for(rules, "a.test", 443).pass_unreadable);
  rules[1].scrub.enabled = rules[2].scrub.enabled = false;
  s = scrub_scope_for(rules, "a.test", 443);
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.pass_unreadable);
}

TEST(scrub_scope, values_are_each_secret_once_and_the_basic_auth_pair) {
  std::vector<config::credential_rule> rules{rule("a.test"), rule("a.test")};
  rules[0].headers = {{"X-Key", secret_ref("Bearer ", "k")}, {"X-Org", secret_ref("", "org")}};
  rules[0].query = {{"key", secret_ref("", "k")}};
  rules[1].basic_auth = config::basic_auth_action{"x-access-token", secret_ref("", "gh")};
  const std::map<std::string, std::string, std::less<>> store{{"k", "sk-0123456789abcdef"},
                                                              {"gh", "ghp_abcdefghijklmnop"}};
  const secret_lookup lookup = [&](std::string_view name) -> std::optional<std::string_view> {
    const auto it = store.find(name);
    return it == store.end() ? std::nullopt : std::optional<std::string_view>(it->second);
  };
  const auto values = scrub_values(rules, scrub_scope_for(rules, "a.test", 443), lookup);
  std::vector<std::string> got(values.begin(), values.end());
  std::sort(got.begin(), got.end());
  // "org" is missing from the store: left out (its rule refuses to inject without it).
  EXPECT_EQ(got, (std::vector<std::string>{"ghp_abcdefghijklmnop", "sk-0123456789abcdef",
                                           "x-access-token:ghp_abcdefghijklmnop"}));
}

http::response_head head_with(std::vector<http::header> fields) {
  http::response_head h;
  h.status = 200;
  h.headers = std::move(fields);
  return h;
}

TEST(body_coding, what_airlock_can_read) {
  using k = body_coding::kind;
  EXPECT_EQ(coding_of(head_with({})).what, k::identity);
  EXPECT_EQ(coding_of(head_with({{"Content-Encoding", "identity"}})).what, k::identity);
  EXPECT_EQ(coding_of(head_with({{"content-encoding", "GZIP"}})).what, k::gzip);
  EXPECT_EQ(coding_of(head_with({{"Content-Encoding", "x-gzip"}})).what, k::gzip);
  EXPECT_EQ(coding_of(head_with({{"Content-Encoding", "deflate"}})).what, k::deflate);
  EXPECT_EQ(coding_of(head_with({{"Transfer-Encoding", "gzip, chunked"}})).what, k::gzip);
  EXPECT_EQ(coding_of(head_with({{"Transfer-Encoding", "chunked"}})).what, k::identity);
}

TEST(body_coding, what_it_cannot_is_named) {
  using k = body_coding::kind;
  auto c = coding_of(head_with({{"Content-Encoding", "br"}}));
  EXPECT_EQ(c.what, k::unreadable);
  EXPECT_EQ(c.name, "br");
  EXPECT_EQ(coding_of(head_with({{"Content-Encoding", "zstd"}})).name, "zstd");
  // Stacked, in one field or two, or split between content and transfer codings.
  EXPECT_EQ(coding_of(head_with({{"Content-Encoding", "gzip, gzip"}})).what, k::unreadable);
  EXPECT_EQ(
      coding_of(head_with({{"Content-Encoding", "gzip"}, {"Content-Encoding", "deflate"}})).what,
      k::unreadable);
  EXPECT_EQ(
      coding_of(head_with({{"Content-Encoding", "gzip"}, {"Transfer-Encoding", "gzip, chunked"}}))
          .what,
      k::unreadable);
}

TEST(body_coding, a_websocket_extension_the_upstream_insists_on) {
  EXPECT_EQ(upgrade_extension(head_with({})), "");
  EXPECT_EQ(upgrade_extension(head_with(
                {{"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"}})),
            "permessage-deflate");
}

TEST(scrubbed_request, asks_for_what_can_be_read_and_never_a_slice) {
  http::request_head head;
  head.method = "GET";
  head.target = "/x";
  head.headers = {{"Host", "a.test"},
                  {"Accept-Encoding", "gzip, br"},
                  {"Range", "bytes=10-20"},
                  {"If-Range", "\"etag\""},
                  {"Sec-WebSocket-Extensions", "permessage-deflate"},
                  {"Accept", "*/*"}};
  http::request_info info;
  const absolute_target target{{"a.test", 443, false}, "a.test", "/x"};
  std::string out;
  ASSERT_FALSE(
      http::write_upstream_request(out, head, info, target, nullptr, nullptr, false, true));
  EXPECT_EQ(out,
            "GET /x HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\nAccept-Encoding: identity\r\n\r\n");
  // Not a scrubbed host: the client's fields go up as they were.
  ASSERT_FALSE(http::write_upstream_request(out, head, info, target));
  EXPECT_NE(out.find("Accept-Encoding: gzip, br\r\n"), std::string::npos);
  EXPECT_NE(out.find("Range: bytes=10-20\r\n"), std::string::npos);
}

TEST(scrubbed_response, decoded_bodies_lose_their_coding_and_length) {
  http::response_head head = head_with(
      {{"Content-Encoding", "gzip"}, {"Content-Length", "123"}, {"Content-Type", "text/plain"}});
  http::response_info info;
  info.body = http::body_kind::length;
  info.content_length = 123;
  std::string out;
  http::write_client_response(out, head, info, http::version::http11, true, false,
                              http::client_framing::chunked);
  EXPECT_EQ(out, "HTTP/1.1 200 \r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
  http::write_client_response(out, head, info, http::version::http10, false, false,
                              http::client_framing::until_close);
  EXPECT_EQ(out, "HTTP/1.1 200 \r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
}

}  // namespace
}  // namespace airlock::proxy

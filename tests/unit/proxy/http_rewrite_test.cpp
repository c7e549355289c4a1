#include "proxy/policy/rewrite.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace airlock::proxy::http {
namespace {

using namespace std::string_view_literals;

// Parses what was written back into fields, so tests can ask about names, not substrings.
std::vector<header> fields_of(std::string_view written, std::string_view* start_line = nullptr) {
  const auto scan = scan_head(written, 0, {});
  EXPECT_EQ(scan.st, head_scan::state::complete) << written;
  EXPECT_EQ(scan.length, written.size()) << "nothing may follow the head";
  std::vector<header> out;
  const auto first_end = written.find("\r\n");
  if (start_line != nullptr) {
    *start_line = written.substr(0, first_end);
  }
  std::string_view rest = written.substr(first_end + 2);
  while (!rest.empty() && !rest.starts_with("\r\n")) {
    const auto end = rest.find("\r\n");
    const auto line = rest.substr(0, end);
    const auto colon = line.find(':');
    EXPECT_NE(colon, std::string_view::npos) << line;
    EXPECT_TRUE(line.substr(colon).starts_with(": ")) << line;
    out.push_back(header{line.substr(0, colon), line.substr(colon + 2)});
    rest.remove_prefix(end + 2);
  }
  return out;
}

std::size_t count(const std::vector<header>& fields, std::string_view name) {
  std::size_t n = 0;
  for (const auto& f : fields) {
    n += iequals(f.name, name) ? 1 : 0;
  }
  return n;
}

std::optional<std::string_view> value_of(const std::vector<header>& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (iequals(f.name, name)) {
      return f.value;
    }
  }
  return std::nullopt;
}

// Runs the real parse -> analyze -> target -> write path over a textual request head.
struct upstream_request {
  std::string text;
  request_head head;
  request_info info;
  std::optional<absolute_target> target;
  std::string out;

  explicit upstream_request(std::string t) : text(std::move(t)) {
    const auto perr = parse_request(text, {}, head);
    EXPECT_FALSE(perr) << perr.reason;
    const auto aerr = analyze_request(head, info);
    EXPECT_FALSE(aerr) << aerr.reason;
    target = parse_absolute_form(head.target);
    EXPECT_TRUE(target.has_value()) << head.target;
    if (target) {
      write_upstream_request(out, head, info, *target);
    }
  }
};

// ---------------------------------------------------------------------------------------------
// write_upstream_request

TEST(write_upstream_request, exact_bytes_for_a_simple_request) {
  upstream_request r(
      "GET http://Example.COM:8080/p/a?q=1&r HTTP/1.1\r\n"
      "Host: example.com:8080\r\n"
      "User-Agent: agent/1.0\r\n"
      "Accept: */*\r\n"
      "\r\n");
  EXPECT_EQ(r.out,
            "GET /p/a?q=1&r HTTP/1.1\r\n"
            "Host: Example.COM:8080\r\n"
            "User-Agent: agent/1.0\r\n"
            "Accept: */*\r\n"
            "\r\n");
}

TEST(write_upstream_request, origin_form_targets) {
  struct row {
    std::string_view target;
    std::string_view start_line;
    std::string_view host;
  };
  for (const auto& row : std::vector<row>{
           {"http://h", "GET / HTTP/1.1", "h"},
           {"http://h/", "GET / HTTP/1.1", "h"},
           {"http://h?q", "GET /?q HTTP/1.1", "h"},
           {"http://h:81?a=b/c", "GET /?a=b/c HTTP/1.1", "h:81"},
           {"http://h//double", "GET //double HTTP/1.1", "h"},
           {"http://[::1]:8080/x", "GET /x HTTP/1.1", "[::1]:8080"},
           {"http://h:/", "GET / HTTP/1.1", "h:"},
       }) {
    upstream_request r("GET " + std::string(row.target) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string_view start;
    const auto fields = fields_of(r.out, &start);
    EXPECT_EQ(start, row.start_line) << row.target;
    EXPECT_EQ(count(fields, "host"), 1u) << row.target;
    EXPECT_EQ(value_of(fields, "host"), row.host) << row.target;
  }
}

TEST(write_upstream_request, host_comes_from_the_uri_not_the_client) {
  upstream_request r(
      "GET http://api.example.com/ HTTP/1.1\r\n"
      "X-Before: 1\r\n"
      "HOST: evil.example\r\n"
      "X-After: 2\r\n"
      "\r\n");
  std::string_view start;
  const auto fields = fields_of(r.out, &start);
  EXPECT_EQ(count(fields, "host"), 1u);
  EXPECT_EQ(value_of(fields, "host"), "api.example.com");
  EXPECT_EQ(r.out.find("evil"), std::string::npos);
  // Host goes first, then the other fields in their original order.
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].name, "Host");
  EXPECT_EQ(fields[1].name, "X-Before");
  EXPECT_EQ(fields[2].name, "X-After");
}

TEST(write_upstream_request, every_hop_by_hop_field_is_removed) {
  upstream_request r(
      "POST http://h/ HTTP/1.1\r\n"
      "Host: h\r\n"
      "Proxy-Authorization: Basic c2VjcmV0\r\n"
      "proxy-authorization: Bearer second\r\n"
      "Proxy-Authenticate: Basic\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "Connection: keep-alive, X-Named\r\n"
      "Keep-Alive: timeout=5\r\n"
      "TE: trailers\r\n"
      "Upgrade: websocket\r\n"
      "X-Named: drop me\r\n"
      "Transfer-Encoding: chunked\r\n"
      "Authorization: Bearer end-to-end\r\n"
      "\r\n");
  const auto fields = fields_of(r.out);
  for (std::string_view name :
       {"proxy-authorization"sv, "proxy-authenticate"sv, "proxy-connection"sv, "keep-alive"sv,
        "te"sv, "upgrade"sv, "x-named"sv, "connection"sv}) {
    EXPECT_EQ(count(fields, name), 0u) << name;
  }
  EXPECT_EQ(r.out.find("c2VjcmV0"), std::string::npos);
  EXPECT_EQ(r.out.find("second"), std::string::npos);
  EXPECT_EQ(r.out.find("drop me"), std::string::npos);
  // Framing is restated by airlock, exactly once.
  EXPECT_EQ(count(fields, "transfer-encoding"), 1u);
  EXPECT_EQ(value_of(fields, "transfer-encoding"), "chunked");
  EXPECT_EQ(value_of(fields, "authorization"), "Bearer end-to-end");
  EXPECT_EQ(count(fields, "host"), 1u);
}

TEST(write_upstream_request, fields_named_in_connection_are_removed) {
  upstream_request r(
      "GET http://h/ HTTP/1.1\r\n"
      "Host: h\r\n"
      "Connection: X-Secret, x-other\r\n"
      "Proxy-Connection: X-Third\r\n"
      "x-secret: 1\r\n"
      "X-OTHER: 2\r\n"
      "X-Third: 3\r\n"
      "X-Keep: 4\r\n"
      "\r\n");
  const auto fields = fields_of(r.out);
  EXPECT_EQ(count(fields, "x-secret"), 0u);
  EXPECT_EQ(count(fields, "x-other"), 0u);
  EXPECT_EQ(count(fields, "x-third"), 0u);
  EXPECT_EQ(value_of(fields, "x-keep"), "4");
}

TEST(write_upstream_request, connection_cannot_remove_host_or_content_length) {
  upstream_request r(
      "POST http://h/ HTTP/1.1\r\n"
      "Host: h\r\n"
      "Connection: Host, Content-Length\r\n"
      "Content-Length: 5\r\n"
      "\r\n");
  const auto fields = fields_of(r.out);
  EXPECT_EQ(count(fields, "host"), 1u);
  EXPECT_EQ(value_of(fields, "host"), "h");
  EXPECT_EQ(count(fields, "content-length"), 1u);
  EXPECT_EQ(value_of(fields, "content-length"), "5");
  EXPECT_EQ(count(fields, "transfer-encoding"), 0u);
  EXPECT_EQ(count(fields, "connection"), 0u);
}

TEST(write_upstream_request, chunked_request_states_chunked_once) {
  upstream_request r("POST http://h/ HTTP/1.1\r\nHost: h\r\ntransfer-encoding: CHUNKED\r\n\r\n");
  const auto fields = fields_of(r.out);
  EXPECT_EQ(count(fields, "transfer-encoding"), 1u);
  EXPECT_EQ(value_of(fields, "transfer-encoding"), "chunked");
  EXPECT_EQ(count(fields, "content-length"), 0u);
}

TEST(write_upstream_request, http10_client_asks_for_keep_alive) {
  upstream_request r("GET http://h/x HTTP/1.0\r\nConnection: close\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(r.out,
            "GET /x HTTP/1.0\r\n"
            "Host: h\r\n"
            "Accept: */*\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(write_upstream_request, http11_keeps_persistence_implicit) {
  upstream_request r("GET http://h/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.out, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
}

TEST(write_upstream_request, upgrade_is_passed_on_explicitly) {
  upstream_request r(
      "GET http://h/ws HTTP/1.1\r\n"
      "Host: h\r\n"
      "Connection: keep-alive, Upgrade\r\n"
      "Upgrade: websocket\r\n"
      "Sec-WebSocket-Key: abc\r\n"
      "\r\n");
  ASSERT_TRUE(r.info.upgrade);
  const auto fields = fields_of(r.out);
  EXPECT_EQ(count(fields, "upgrade"), 1u);
  EXPECT_EQ(value_of(fields, "upgrade"), "websocket");
  EXPECT_EQ(count(fields, "connection"), 1u);
  EXPECT_EQ(value_of(fields, "connection"), "upgrade");
  EXPECT_EQ(value_of(fields, "sec-websocket-key"), "abc");
}

TEST(write_upstream_request, output_is_replaced_not_appended) {
  upstream_request r("GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n");
  const std::string first = r.out;
  write_upstream_request(r.out, r.head, r.info, *r.target);
  EXPECT_EQ(r.out, first);
}

// ---------------------------------------------------------------------------------------------
// write_client_response

struct client_response {
  std::string text;
  response_head head;
  response_info info;
  std::string out;

  client_response(std::string t, version client, bool keep_alive, std::string_view method = "GET")
      : text(std::move(t)) {
    const auto perr = parse_response(text, {}, head);
    EXPECT_FALSE(perr) << perr.reason;
    const auto aerr = analyze_response(head, method, info);
    EXPECT_FALSE(aerr) << aerr.reason;
    write_client_response(out, head, info, client, keep_alive);
  }
};

TEST(write_client_response, exact_bytes_for_a_simple_response) {
  client_response r("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n",
                    version::http11, true);
  EXPECT_EQ(r.out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n");
}

TEST(write_client_response, status_and_reason_are_copied) {
  for (std::string_view line : {"HTTP/1.1 404 Not Found"sv, "HTTP/1.0 302 Found"sv,
                                "HTTP/1.1 599 x"sv, "HTTP/1.1 100 Continue"sv, "HTTP/1.1 200 "sv}) {
    client_response r(std::string(line) + "\r\nContent-Length: 0\r\n\r\n", version::http11, true);
    std::string expected = "HTTP/1.1" + std::string(line.substr(8));
    if (line.size() == 12) {
      expected += ' ';
    }
    EXPECT_TRUE(r.out.starts_with(expected + "\r\n")) << r.out;
  }
  // No reason phrase: the space before the (empty) reason is still there.
  client_response r("HTTP/1.1 204\r\n\r\n", version::http11, true);
  EXPECT_TRUE(r.out.starts_with("HTTP/1.1 204 \r\n")) << r.out;
}

TEST(write_client_response, chunked_response_drops_content_length) {
  client_response r(
      "HTTP/1.1 200 OK\r\n"
      "Content-Length: 100\r\n"
      "Transfer-Encoding: chunked\r\n"
      "content-length: 100\r\n"
      "\r\n",
      version::http11, true);
  const auto fields = fields_of(r.out);
  EXPECT_EQ(count(fields, "content-length"), 0u);
  EXPECT_EQ(count(fields, "transfer-encoding"), 1u);
  EXPECT_EQ(value_of(fields, "transfer-encoding"), "chunked");
}

TEST(write_client_response, hop_by_hop_fields_from_upstream_are_removed) {
  client_response r(
      "HTTP/1.1 200 OK\r\n"
      "Connection: keep-alive, X-Internal\r\n"
      "Keep-Alive: timeout=75\r\n"
      "Proxy-Authenticate: Basic realm=\"up\"\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "X-Internal: secret\r\n"
      "Upgrade: h2c\r\n"
      "TE: trailers\r\n"
      "Content-Length: 2\r\n"
      "X-Public: ok\r\n"
      "\r\n",
      version::http11, true);
  const auto fields = fields_of(r.out);
  for (std::string_view name : {"connection"sv, "keep-alive"sv, "proxy-authenticate"sv,
                                "proxy-connection"sv, "x-internal"sv, "upgrade"sv, "te"sv}) {
    EXPECT_EQ(count(fields, name), 0u) << name;
  }
  EXPECT_EQ(value_of(fields, "content-length"), "2");
  EXPECT_EQ(value_of(fields, "x-public"), "ok");
}

TEST(write_client_response, upstream_connection_cannot_remove_content_length) {
  client_response r("HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\n",
                    version::http11, true);
  const auto fields = fields_of(r.out);
  EXPECT_EQ(value_of(fields, "content-length"), "2");
}

TEST(write_client_response, persistence_is_stated_by_airlock) {
  struct row {
    version client;
    bool keep_alive;
    std::optional<std::string_view> connection;
  };
  for (const auto& row : std::vector<row>{
           {version::http11, true, std::nullopt},
           {version::http11, false, "close"},
           {version::http10, true, "keep-alive"},
           {version::http10, false, "close"},
       }) {
    // The upstream's own Connection field never reaches the client.
    client_response r("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                      row.client, row.keep_alive);
    const auto fields = fields_of(r.out);
    EXPECT_EQ(count(fields, "connection"), row.connection ? 1u : 0u) << r.out;
    EXPECT_EQ(value_of(fields, "connection"), row.connection) << r.out;
  }
}

TEST(write_client_response, switching_protocols_keeps_upgrade) {
  client_response r(
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: xyz\r\n"
      "\r\n",
      version::http11, true);
  const auto fields = fields_of(r.out);
  EXPECT_EQ(value_of(fields, "upgrade"), "websocket");
  EXPECT_EQ(count(fields, "connection"), 1u);
  EXPECT_EQ(value_of(fields, "connection"), "upgrade");
  EXPECT_EQ(value_of(fields, "sec-websocket-accept"), "xyz");
}

TEST(write_client_response, head_and_304_keep_their_representation_fields) {
  client_response head_resp(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n",
      version::http11, true, "HEAD");
  auto fields = fields_of(head_resp.out);
  EXPECT_EQ(count(fields, "transfer-encoding"), 1u);
  EXPECT_EQ(value_of(fields, "transfer-encoding"), "chunked");
  EXPECT_EQ(value_of(fields, "content-length"), "10");

  client_response not_modified(
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"e\"\r\n\r\n", version::http11,
      true);
  fields = fields_of(not_modified.out);
  EXPECT_EQ(value_of(fields, "content-length"), "10");
  EXPECT_EQ(count(fields, "transfer-encoding"), 0u);
  EXPECT_EQ(value_of(fields, "etag"), "\"e\"");
}

TEST(write_client_response, repeated_fields_are_kept_in_order) {
  client_response r(
      "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n",
      version::http11, true);
  const auto fields = fields_of(r.out);
  ASSERT_EQ(count(fields, "set-cookie"), 2u);
  EXPECT_EQ(fields[0].value, "a=1");
  EXPECT_EQ(fields[1].value, "b=2");
}

TEST(write_client_response, until_close_response_is_sent_with_close) {
  client_response r("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n", version::http11, false);
  ASSERT_EQ(r.info.body, body_kind::until_close);
  const auto fields = fields_of(r.out);
  EXPECT_EQ(value_of(fields, "connection"), "close");
  EXPECT_EQ(count(fields, "content-length"), 0u);
  EXPECT_EQ(count(fields, "transfer-encoding"), 0u);
}

// The body is relayed byte for byte, so the transfer codings the client is told about must be
// the ones the bytes carry. With "gzip, chunked" from the upstream, the client is told only
// "chunked" and receives gzip data it does not know to decode.
TEST(write_client_response, other_transfer_codings_are_not_lost) {
  client_response r("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", version::http11,
                    true);
  const auto fields = fields_of(r.out);
  EXPECT_EQ(count(fields, "transfer-encoding"), 1u);
  EXPECT_EQ(value_of(fields, "transfer-encoding"), "gzip, chunked");

  // Same for a close-delimited body: the gzip coding must still be announced.
  client_response until_close("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", version::http11,
                              false);
  ASSERT_EQ(until_close.info.body, body_kind::until_close);
  const auto close_fields = fields_of(until_close.out);
  EXPECT_EQ(value_of(close_fields, "transfer-encoding"), "gzip");
}

TEST(write_client_response, output_is_replaced_not_appended) {
  client_response r("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", version::http11, true);
  const std::string first = r.out;
  write_client_response(r.out, r.head, r.info, version::http11, true);
  EXPECT_EQ(r.out, first);
}

}  // namespace
}  // namespace airlock::proxy::http

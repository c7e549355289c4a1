#pragma once
// What a parsed head means for the proxy: body framing, persistence, hop-by-hop
// fields. Pure functions over http_head values; the refusals here are the
// request-smuggling defences (RFC 9112 6.1-6.3), so they err on the side of 400.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "proxy/http/head.hpp"

namespace airlock::proxy::http {

// Calls fn for each non-empty element of a comma-separated list, trimmed.
template <typename Fn>
inline void for_each_token(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      fn(item);
    }
  }
}

enum class body_kind : std::uint8_t { none, length, chunked, until_close };

struct request_info {
  body_kind body = body_kind::none;
  std::uint64_t content_length = 0;
  bool keep_alive = true;  // the client allows another request on this connection
  bool expect_continue = false;
  // "Connection: upgrade" with Upgrade fields that name only WebSocket; any other
  // protocol (h2c) leaves the request a plain one, its Upgrade dropped as hop-by-hop.
  bool upgrade = false;
  // Max-Forwards of an OPTIONS or TRACE request (saturating); nullopt without one, and
  // for other methods, where it is relayed untouched.
  std::optional<std::uint32_t> max_forwards;
  const header* host = nullptr;                     // the single Host field, if any
  std::vector<std::string_view> connection_tokens;  // lowercase not guaranteed
};

struct response_info {
  body_kind body = body_kind::none;
  std::uint64_t content_length = 0;
  bool keep_alive = true;  // the upstream allows reusing the connection
  std::vector<std::string_view> connection_tokens;
};

// Validates framing and collects what the proxy needs. Refuses: Content-Length with
// Transfer-Encoding, duplicate or malformed Content-Length, any Transfer-Encoding
// other than exactly "chunked" (or on HTTP/1.0), several Host fields, missing Host on
// HTTP/1.1, Expect other than 100-continue (417), a duplicate or malformed
// Max-Forwards on OPTIONS or TRACE.
head_error analyze_request(const request_head& head, request_info& out);

// Framing of an upstream response to a request with `request_method`.
// Errors mean the upstream is not speaking valid HTTP: the client gets 502.
head_error analyze_response(const response_head& head, std::string_view request_method,
                            response_info& out);

// True when `name` must not be forwarded: the fixed hop-by-hop set (Connection,
// Keep-Alive, Proxy-Connection, Proxy-Authorization, Proxy-Authenticate, TE, Upgrade,
// Transfer-Encoding, HTTP2-Settings) or a field named in Connection. Host and Content-Length are
// never hop-by-hop, whatever Connection says, so a client cannot strip framing that way.
bool is_hop_by_hop(std::string_view name, const std::vector<std::string_view>& connection_tokens);

// Parses 1*DIGIT into out; false on empty, non-digit or overflow.
bool parse_content_length(std::string_view text, std::uint64_t& out);

}  // namespace airlock::proxy::http

#include "proxy/http/message.hpp"

#include <algorithm>
#include <array>

#include "proxy/http/intermediary.hpp"

namespace airlock::proxy::http {

namespace {

bool has_token(const std::vector<std::string_view>& tokens, std::string_view token) {
  for (auto t : tokens) {
    if (iequals(t, token)) {
      return true;
    }
  }
  return false;
}

void collect_connection_tokens(const std::vector<header>& headers,
                               std::vector<std::string_view>& out) {
  out.clear();
  for (const auto& h : headers) {
    if (iequals(h.name, "connection") || iequals(h.name, "proxy-connection")) {
      for_each_token(h.value, [&](std::string_view t) { out.push_back(t); });
    }
  }
}

constexpr head_error bad(std::string_view reason) {
  return head_error{400, reason};
}

// 1*DIGIT, saturating: a hop count past 2^32 is as good as unlimited.
std::optional<std::uint32_t> parse_max_forwards(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = std::min<std::uint64_t>(value * 10 + static_cast<std::uint64_t>(c - '0'), UINT32_MAX);
  }
  return static_cast<std::uint32_t>(value);
}

}  // namespace

bool parse_content_length(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 19) {  // 19 digits always fit in 64 bits
    return false;
  }
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = value;
  return true;
}

head_error analyze_request(const request_head& head, request_info& out) {
  out.body = body_kind::none;
  out.content_length = 0;
  out.expect_continue = false;
  out.upgrade = false;
  out.host = nullptr;
  collect_connection_tokens(head.headers, out.connection_tokens);

  out.max_forwards.reset();
  const bool max_forwards_applies = uses_max_forwards(head.method);
  const header* content_length = nullptr;
  const header* transfer_encoding = nullptr;
  bool has_upgrade_field = false;
  bool upgrade_relayed = true;
  for (const auto& h : head.headers) {
    if (iequals(h.name, "content-length")) {
      if (content_length != nullptr) {
        return bad("duplicate Content-Length");
      }
      content_length = &h;
    } else if (iequals(h.name, "transfer-encoding")) {
      if (transfer_encoding != nullptr) {
        return bad("duplicate Transfer-Encoding");
      }
      transfer_encoding = &h;
    } else if (iequals(h.name, "host")) {
      if (out.host != nullptr) {
        return bad("duplicate Host");
      }
      out.host = &h;
    } else if (iequals(h.name, "expect")) {
      if (!iequals(h.value, "100-continue") || out.expect_continue) {
        return head_error{417, "unsupported Expect"};
      }
      out.expect_continue = true;
    } else if (iequals(h.name, "upgrade")) {
      has_upgrade_field = true;
      upgrade_relayed = upgrade_relayed && is_relayed_upgrade(h.value);
    } else if (max_forwards_applies && iequals(h.name, "max-forwards")) {
      if (out.max_forwards) {
        return bad("duplicate Max-Forwards");
      }
      out.max_forwards = parse_max_forwards(h.value);
      if (!out.max_forwards) {
        return bad("malformed Max-Forwards");
      }
    }
  }

  if (content_length != nullptr && transfer_encoding != nullptr) {
    return bad("both Content-Length and Transfer-Encoding");
  }
  if (transfer_encoding != nullptr) {
    if (head.ver == version::http10) {
      return bad("Transfer-Encoding on HTTP/1.0");
    }
    if (!iequals(transfer_encoding->value, "chunked")) {
      return bad("unsupported Transfer-Encoding");
    }
    out.body = body_kind::chunked;
  } else if (content_length != nullptr) {
    if (!parse_content_length(content_length->value, out.content_length)) {
      return bad("malformed Content-Length");
    }
    out.body = out.content_length > 0 ? body_kind::length : body_kind::none;
  }
  if (head.ver == version::http11 && out.host == nullptr) {
    return bad("missing Host");
  }

  const bool close = has_token(out.connection_tokens, "close");
  out.keep_alive = head.ver == version::http11
                       ? !close
                       : (!close && has_token(out.connection_tokens, "keep-alive"));
  out.upgrade = has_upgrade_field && upgrade_relayed && head.ver == version::http11 &&
                has_token(out.connection_tokens, "upgrade");
  if (!out.expect_continue || out.body == body_kind::none) {
    out.expect_continue = false;  // nothing to wait for
  }
  return {};
}

head_error analyze_response(const response_head& head, std::string_view request_method,
                            response_info& out) {
  out.body = body_kind::none;
  out.content_length = 0;
  collect_connection_tokens(head.headers, out.connection_tokens);
  const bool close = has_token(out.connection_tokens, "close");
  const bool keep_alive_token = has_token(out.connection_tokens, "keep-alive");
  const header* transfer_encoding = nullptr;
  bool have_length = false;
  for (const auto& h : head.headers) {
    if (iequals(h.name, "content-length")) {
      // Identical repeats ("5, 5" or two fields) are tolerated from upstreams; conflicts are not.
      bool ok = true;
      bool any = false;
      for_each_token(h.value, [&](std::string_view t) {
        any = true;
        std::uint64_t v = 0;
        ok = ok && parse_content_length(t, v) && (!have_length || v == out.content_length);
        out.content_length = v;
        have_length = true;
      });
      if (!ok || !any) {
        return bad("invalid Content-Length from upstream");
      }
    } else if (iequals(h.name, "transfer-encoding")) {
      if (transfer_encoding != nullptr) {
        return bad("duplicate Transfer-Encoding from upstream");
      }
      transfer_encoding = &h;
    }
  }
  out.keep_alive = head.ver == version::http11 ? !close : keep_alive_token && !close;

  if (iequals(request_method, "HEAD") || (head.status >= 100 && head.status < 200) ||
      head.status == 204 || head.status == 304) {
    out.body = body_kind::none;
    return {};
  }
  if (transfer_encoding != nullptr) {
    // The last coding decides: chunked frames the message, anything else runs to close.
    std::string_view last;
    bool chunked_before_last = false;
    for_each_token(transfer_encoding->value, [&](std::string_view t) {
      chunked_before_last = chunked_before_last || iequals(last, "chunked");
      last = t;
    });
    if (last.empty() || chunked_before_last) {
      return bad("invalid Transfer-Encoding from upstream");
    }
    if (head.ver == version::http10) {
      // RFC 9112 6.1: Transfer-Encoding on 1.0 means the framing cannot be trusted.
      out.keep_alive = false;
    }
    if (iequals(last, "chunked")) {
      out.body = body_kind::chunked;
    } else {
      out.body = body_kind::until_close;
      out.keep_alive = false;
    }
    return {};
  }
  if (have_length) {
    out.body = out.content_length > 0 ? body_kind::length : body_kind::none;
    return {};
  }
  out.body = body_kind::until_close;
  out.keep_alive = false;
  return {};
}

bool is_hop_by_hop(std::string_view name, const std::vector<std::string_view>& connection_tokens) {
  // HTTP2-Settings belongs to an h2c upgrade, which is never relayed (RFC 9113 3.1).
  static constexpr std::array<std::string_view, 9> fixed = {
      "connection", "keep-alive", "proxy-connection",  "proxy-authorization", "proxy-authenticate",
      "te",         "upgrade",    "transfer-encoding", "http2-settings"};
  for (auto f : fixed) {
    if (iequals(name, f)) {
      return true;
    }
  }
  if (iequals(name, "host") || iequals(name, "content-length")) {
    return false;
  }
  return has_token(connection_tokens, name);
}

}  // namespace airlock::proxy::http

#include "proxy/policy/rewrite.hpp"

#include <charconv>

#include "proxy/http/intermediary.hpp"

namespace airlock::proxy::http {

namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// Fields a scrubbed answer must not depend on (see write_upstream_request).
bool unscannable_ask(std::string_view name) {
  return iequals(name, "accept-encoding") || iequals(name, "sec-websocket-extensions") ||
         iequals(name, "range") || iequals(name, "if-range");
}

// Copies every end-to-end field; `skip_host` drops Host so the writer can set its own,
// and with a credential rule every client credential carrier it strips is dropped, so
// only airlock's value goes up.
void append_end_to_end(std::string& out, const std::vector<header>& headers,
                       const std::vector<std::string_view>& connection_tokens, bool skip_host,
                       const config::credential_rule* rule = nullptr,
                       bool skip_max_forwards = false, bool scrubbed = false) {
  for (const auto& h : headers) {
    if (skip_max_forwards && iequals(h.name, "max-forwards")) {
      continue;  // restated one less
    }
    if (scrubbed && unscannable_ask(h.name)) {
      continue;
    }
    if (is_hop_by_hop(h.name, connection_tokens) || (skip_host && iequals(h.name, "host")) ||
        (rule != nullptr && rule_strips_field(*rule, h.name))) {
      continue;
    }
    append_field(out, h.name, h.value);
  }
}

}  // namespace

std::optional<std::string> write_upstream_request(std::string& out, const request_head& head,
                                                  const request_info& info,
                                                  const absolute_target& target,
                                                  const config::credential_rule* rule,
                                                  const secret_lookup* lookup, bool via,
                                                  bool scrubbed) {
  out.clear();
  if (rule != nullptr && lookup != nullptr) {
    // Room for the whole head before any secret goes in: an append that moved the string
    // would leave a copy of the secret in freed memory, beyond the wipe's reach.
    std::size_t room = head.method.size() + target.origin_form.size() +
                       target.authority_text.size() + 512 + injected_size_bound(*rule, *lookup);
    for (const auto& h : head.headers) {
      room += h.name.size() + h.value.size() + 4;
    }
    out.reserve(room);
  }
  out.append(head.method);
  out.push_back(' ');
  if (rule != nullptr && lookup != nullptr &&
      (!rule->query.empty() || !rule->strip.query.empty())) {
    if (auto missing = append_target_with_query(out, target.origin_form, *rule, *lookup)) {
      out.clear();
      return missing;
    }
  } else {
    if (target.origin_form.front() == '?') {
      out.push_back('/');
    }
    out.append(target.origin_form);
  }
  out.append(head.ver == version::http11 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
  append_field(out, "Host", target.authority_text);
  append_end_to_end(out, head.headers, info.connection_tokens, true, rule,
                    info.max_forwards.has_value(), scrubbed);
  if (scrubbed) {
    append_field(out, "Accept-Encoding", "identity");
  }
  // Before any secret: what follows it must fit the room reserved for it.
  if (info.max_forwards) {
    char digits[10];
    const std::uint32_t hops = *info.max_forwards > 0 ? *info.max_forwards - 1 : 0;
    const auto end = std::to_chars(digits, digits + sizeof(digits), hops).ptr;
    append_field(out, "Max-Forwards", std::string_view(digits, end - digits));
  }
  if (via) {
    out.append(via_field(head.ver));
  }
  if (rule != nullptr && lookup != nullptr) {
    if (auto missing = append_injected_fields(out, *rule, *lookup)) {
      out.clear();
      return missing;
    }
  }
  if (info.body == body_kind::chunked) {
    append_field(out, "Transfer-Encoding", "chunked");
  }
  if (info.upgrade) {
    // analyze_request set upgrade only for a list of nothing but WebSocket.
    append_field(out, "Upgrade", "websocket");
    append_field(out, "Connection", "upgrade");
  } else if (head.ver == version::http10) {
    append_field(out, "Connection", "keep-alive");
  }
  out.append("\r\n");
  return std::nullopt;
}

void write_client_response(std::string& out, const response_head& head, const response_info& info,
                           version client, bool keep_alive, bool via, client_framing framing) {
  const bool decoded = framing != client_framing::as_upstream;
  out.clear();
  out.append("HTTP/1.1 ");
  const int status = head.status;
  const char code[3] = {static_cast<char>('0' + status / 100),
                        static_cast<char>('0' + status / 10 % 10),
                        static_cast<char>('0' + status % 10)};
  out.append(code, 3);
  out.push_back(' ');
  out.append(head.reason);
  out.append("\r\n");

  for (const auto& h : head.headers) {
    // Decoded: the codings, length and framing the upstream stated are airlock's to restate.
    if (decoded && (iequals(h.name, "transfer-encoding") || iequals(h.name, "content-length") ||
                    iequals(h.name, "content-encoding"))) {
      continue;
    }
    // The body is relayed byte for byte, so its codings (say "gzip, chunked") stay as
    // the upstream wrote them; on a body-less response (HEAD, 304) they describe the
    // representation and frame nothing.
    if (iequals(h.name, "transfer-encoding")) {
      append_field(out, h.name, h.value);
      continue;
    }
    if (is_hop_by_hop(h.name, info.connection_tokens) && !iequals(h.name, "upgrade")) {
      continue;
    }
    if (iequals(h.name, "upgrade") && status != 101) {
      continue;
    }
    // Transfer-Encoding wins over Content-Length (RFC 9112 6.3); never send both.
    if (info.body == body_kind::chunked && iequals(h.name, "content-length")) {
      continue;
    }
    append_field(out, h.name, h.value);
  }
  if (via) {
    out.append(via_field(head.ver));
  }
  if (framing == client_framing::chunked) {
    append_field(out, "Transfer-Encoding", "chunked");
  }
  if (status == 101) {
    append_field(out, "Connection", "upgrade");
  } else if (!keep_alive) {
    append_field(out, "Connection", "close");
  } else if (client == version::http10) {
    append_field(out, "Connection", "keep-alive");
  }
  out.append("\r\n");
}

}  // namespace airlock::proxy::http

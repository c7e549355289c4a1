#pragma once
// Serialises the heads airlock sends on: hop-by-hop fields removed, framing and
// persistence stated by airlock itself. Pure functions appending to a string that
// the session reuses, so the hot path does not allocate once it has warmed up.

#include <optional>
#include <string>
#include <string_view>

#include "proxy/http/authority.hpp"
#include "proxy/http/head.hpp"
#include "proxy/http/message.hpp"
#include "proxy/policy/inject.hpp"

namespace airlock::proxy::http {

// The head for the upstream of an absolute-form request: origin-form target, Host set
// to the URI's authority, hop-by-hop fields (Proxy-Authorization among them) dropped.
// HTTP/1.0 clients are forwarded as HTTP/1.0 with keep-alive asked for, so the
// upstream never answers them with chunked framing.
//
// With a credential rule, every field the rule sets and every credential carrier it
// strips (rule_strips_field, rule_strips_param) is dropped from the client's head and
// target, and the rule's fields are added from lookup (strip, then set: one credential
// goes up, airlock's).
// Returns the name of a missing secret instead, leaving out empty.
//
// An OPTIONS or TRACE's Max-Forwards goes up one less (the caller answers 0 itself);
// `via` adds airlock's Via entry after any the client sent; Upgrade goes up only as
// "websocket" (see request_info::upgrade).
//
// `scrubbed`: the answer will be scrubbed (issue 18), so airlock must be able to read it
// and no answer may be a slice of one: Accept-Encoding goes up as identity,
// Sec-WebSocket-Extensions (permessage-deflate) not at all, and neither do Range and
// If-Range (a secret fetched a few bytes at a time would never be whole in one answer).
std::optional<std::string> write_upstream_request(std::string& out, const request_head& head,
                                                  const request_info& info,
                                                  const absolute_target& target,
                                                  const config::credential_rule* rule = nullptr,
                                                  const secret_lookup* lookup = nullptr,
                                                  bool via = false, bool scrubbed = false);

// How a body airlock rewrites reaches the client: with the upstream's framing (the
// scrubber keeps lengths), or, once decoded from gzip or deflate, without its coding and
// length, chunked (HTTP/1.1) or delimited by close (HTTP/1.0).
enum class client_framing { as_upstream, chunked, until_close };

// The head for the client. `keep_alive` is whether airlock keeps the client connection
// after this response; `client` is the client's HTTP version; `via` adds airlock's Via
// entry after the upstream's.
void write_client_response(std::string& out, const response_head& head, const response_info& info,
                           version client, bool keep_alive, bool via = false,
                           client_framing framing = client_framing::as_upstream);

}  // namespace airlock::proxy::http

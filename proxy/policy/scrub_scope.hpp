#pragma once
// Which responses are scrubbed, with which secrets, and whether their body can be read
// (issue 18). Pure: plain values in, plain values out.
//
// Scope is the host, not the request: every response from a host:port that a scrubbing
// rule names is scrubbed, whatever the rule's paths and methods, with the secrets of every
// such rule. A key sent to one path of a host can come back from another (a request bin
// stores what it got and shows it on a path no rule covers, on a connection that never
// carried the key), so a narrower scope would leave exactly that open. Hosts no rule names
// never received a key from airlock, and are not touched.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "proxy/http/head.hpp"
#include "proxy/policy/value_template.hpp"
#include "secrets/wiping_allocator.hpp"

namespace airlock::proxy {

struct scrub_scope {
  std::vector<std::uint32_t> rules;  // indices into the credential rules, ascending
  // Only when every one of them opted out: one rule that refuses keeps its key safe.
  bool pass_unreadable = false;

  bool empty() const { return rules.empty(); }
};

// The scrubbing rules that name host:port (a rule without a port names 443), as the
// dialled upstream: for plain http upgraded to TLS, port 443.
scrub_scope scrub_scope_for(const std::vector<config::credential_rule>& rules,
                            std::string_view host, std::uint16_t port);

using scrub_text = std::basic_string<char, std::char_traits<char>, secrets::wiping_allocator<char>>;

// The values the scope's responses must not carry: every secret its rules' templates name
// (once each), and for basic_auth the "user:password" pair that goes up base64-encoded. A
// secret not present now is left out (its rule refuses to inject anyway).
std::vector<scrub_text> scrub_values(const std::vector<config::credential_rule>& rules,
                                     const scrub_scope& scope, const secret_lookup& lookup);

// What the body of a response is coded with, read from Content-Encoding and the codings
// of Transfer-Encoding before its final chunked.
struct body_coding {
  enum class kind { identity, gzip, deflate, unreadable };
  kind what = kind::identity;
  std::string_view name;  // the coding airlock cannot read (for the refusal), else empty
};
body_coding coding_of(const http::response_head& head);

// A 101 whose upstream agreed to a WebSocket extension: airlock asked for none, and frames
// it compressed could not be scanned. The extension's name, or empty.
std::string_view upgrade_extension(const http::response_head& head);

}  // namespace airlock::proxy

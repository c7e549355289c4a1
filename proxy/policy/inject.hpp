#pragma once
// Credential injection decisions: which rule applies to a request, which client
// fields it replaces, and the fields it adds. Pure functions over plain values; the
// secret values come through a lookup the caller provides, and the caller wipes the
// output buffer once it is sent.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "proxy/policy/value_template.hpp"

namespace airlock::proxy {

// Lowercase host against a rule pattern: exact, or "*.suffix" for any subdomain of
// suffix (not suffix itself). Both sides lowercase, without a trailing dot.
bool host_matches(std::string_view pattern, std::string_view host);

// True when some rule names this host and port: the CONNECT must be intercepted so
// the rule can see the requests. Paths and methods are not known yet at CONNECT time.
// A rule without `port:` names 443 only.
bool has_rule_for(const std::vector<config::credential_rule>& rules, std::string_view host,
                  std::uint16_t port);

// Whether a plain http:// request to host:port goes upstream over TLS because a rule
// would see it: a rule names host:port, or the port is 80 and a rule names host:443
// (the caller then dials 443).
bool upgrades_plain_http(const std::vector<config::credential_rule>& rules, std::string_view host,
                         std::uint16_t port);

// The first rule, in file order, that matches host, port (443 for a rule without one),
// method and the path of origin-form target (query ignored). A path that some
// mainstream server reads as another path (config::path_doubt: "..;", "//", "%2e",
// "%00", ...) never matches a rule with path prefixes, so it goes without that rule's
// credential; other paths are compared in their RFC 3986 normal form.
const config::credential_rule* find_rule(const std::vector<config::credential_rule>& rules,
                                         std::string_view host, std::uint16_t port,
                                         std::string_view method, std::string_view target);

// Whether the rule sets this field, compared case-insensitively with "_" read as "-" (CGI
// and WSGI upstreams merge x_api_key into x-api-key).
bool rule_sets_field(const config::credential_rule& rule, std::string_view field);

// Whether a client field is removed from a request the rule injects into: one the rule
// sets, or a credential carrier of its strip list (Authorization, x-api-key, ... by
// default), in the same spellings as rule_sets_field.
bool rule_strips_field(const config::credential_rule& rule, std::string_view field);

// Whether a client query parameter (its name percent-decoded) is removed: one the rule
// sets or one of its strip list, in any case (some servers read KEY as key).
bool rule_strips_param(const config::credential_rule& rule, std::string_view decoded_name);

// How many parameters of origin-form target rule_strips_param removes, for the metric.
std::size_t stripped_param_count(std::string_view target, const config::credential_rule& rule);

// Appends "Name: value\r\n" for each field the rule sets (basic_auth as Authorization:
// Basic base64(user:password)). On a missing secret appends nothing and returns its name.
std::optional<std::string> append_injected_fields(std::string& out,
                                                  const config::credential_rule& rule,
                                                  const secret_lookup& lookup);

// Appends origin-form target with the rule's query parameters set: client parameters
// rule_strips_param names (compared after percent-decoding, so "api%5Fkey" is "api_key")
// are dropped, then name=value is added, percent-encoded. Returns a missing secret's name.
std::optional<std::string> append_target_with_query(std::string& out, std::string_view target,
                                                    const config::credential_rule& rule,
                                                    const secret_lookup& lookup);

// At least the bytes the rule's fields and query parameters add, with the secrets' current
// sizes (base64 and percent-encoding included): reserved before a head is written, so no
// append moves a string holding a secret and leaves a copy in freed memory.
std::size_t injected_size_bound(const config::credential_rule& rule, const secret_lookup& lookup);

}  // namespace airlock::proxy

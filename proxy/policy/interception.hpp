#pragma once
// Which CONNECTs airlock intercepts (answers with its own TLS, a leaf from the workspace CA)
// instead of relaying blind, and so which names that CA may vouch for. Pure.
//
// A host is intercepted when a credential rule names it (the rule injects inside), when a
// telemetry entry in force names a path on it (policy interception: the path is only seen
// inside the TLS; nothing is injected and nothing is scrubbed, as no key goes there), or
// when it is the doctor's check host (answered by airlock itself). Every other host is a
// blind tunnel. (Egress entries name hosts only: they are judged at the CONNECT.)

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "proxy/policy/policy.hpp"

namespace airlock::proxy {

enum class interception { none, credential, policy, check };

// Why a CONNECT to host:port (canonical host) is intercepted; none: a blind tunnel.
interception interception_for(const config::config& cfg, const policy& p, std::string_view host,
                              std::uint16_t port);

// The host patterns of every name interception_for can intercept, for the ephemeral CA's
// name constraints: each credential rule's host, each telemetry entry in force with a path,
// and the check host (lowercase, "*.suffix" as written; scope_for_hosts sorts them and drops
// duplicates). Ports play no part: a name constraint has none.
std::vector<std::string> interception_names(const config::config& cfg, const policy& p);

}  // namespace airlock::proxy

#pragma once
// Name constraints (RFC 5280 4.2.1.10) for the ephemeral workspace CA: it can vouch only for
// the hosts airlock intercepts, so its key, if it ever leaked, could not impersonate any other
// site to the agent (or to anyone else who trusts the exported bundle).

#include <span>
#include <string>
#include <vector>

#include "proxy/tls/openssl_ptr.hpp"

namespace airlock::proxy::intercept {

// What the CA may sign for.
struct ca_scope {
  // "api.example.com": that name (and, as RFC 5280 reads a dNSName constraint, names under
  // it); ".example.com": names under example.com only (the leading-dot form OpenSSL, Go, NSS
  // and mozilla::pkix accept, which "*.example.com" rules need).
  std::vector<std::string> dns;
  // Single addresses, 4 or 16 bytes each.
  std::vector<std::vector<unsigned char>> ips;
  bool operator==(const ca_scope&) const = default;
};

// The scope for credential-rule host patterns (lowercase, as the config loader leaves them):
// "*.suffix" becomes ".suffix", an IPv4 or IPv6 literal an address, anything else the name.
// Sorted, without duplicates.
ca_scope scope_for_hosts(std::span<const std::string> hosts);

struct ip_subtree {
  std::vector<unsigned char> address;  // 4 or 16 bytes
  std::vector<unsigned char> mask;     // as long as address
  bool operator==(const ip_subtree&) const = default;
};

// The subtrees the extension carries for scope:
// - permitted dNSName: scope.dns, or "invalid" (RFC 6761: never resolves) when it is empty,
//   because no dNSName subtree at all would leave DNS names unconstrained;
// - permitted iPAddress: each address of scope.ips with an all-ones mask;
// - excluded iPAddress: 0.0.0.0/0 when no IPv4 address is permitted, ::/0 when no IPv6 one
//   is (the form the CA/Browser Forum requires of constrained CAs without IP names), so a
//   leaf for any other address fails even where a client treats the families apart.
struct constraint_lists {
  std::vector<std::string> permitted_dns;
  std::vector<ip_subtree> permitted_ip;
  std::vector<ip_subtree> excluded_ip;
};
constraint_lists constraints_for(const ca_scope& scope);

// The critical nameConstraints extension for scope; nullptr when OpenSSL fails (out of
// memory), with the reason left in its error queue.
x509_ext_ptr make_name_constraints_ext(const ca_scope& scope);

// True when cert carries a nameConstraints extension with at least one subtree.
bool has_name_constraints(X509* cert);

}  // namespace airlock::proxy::intercept

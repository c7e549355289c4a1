#pragma once
// The one canonical spelling of a host: what a request authority, a policy rule, a
// credential rule and a pool key are compared in. Two spellings of one destination give
// one text, so no rule can be passed by writing the destination differently, and
// anything ambiguous is refused rather than guessed. Pure functions.
//
// IPv6 literals that are only another way of writing an IPv4 address, the IPv4-mapped
// ones (::ffff:0:0/96), come back as that IPv4 address: connect(2) to "::ffff:a.b.c.d"
// reaches a.b.c.d, so "[::ffff:169.254.169.254]" and "[::ffff:a9fe:a9fe]" are
// 169.254.169.254 to every rule. The other IPv6 forms that carry an IPv4 address
// (IPv4-compatible ::/96, SIIT ::ffff:0:0:0/96, NAT64, 6to4, Teredo) are different
// destinations, reached through a translator or a tunnel if at all: they stay IPv6, and
// the private-address check judges them by the address inside when they are dialled.

#include <optional>
#include <string>
#include <string_view>

namespace airlock::net {

// ASCII letters to lower case; other bytes as they are (no locale).
std::string lowercase(std::string_view text);

// The dotted quad for any spelling the C library's inet_aton reads as an IPv4 address:
// "2130706433", "0x7f.1", "0177.0.0.1", "127.1". nullopt for anything else (names,
// parts out of range, five parts, empty parts).
std::optional<std::string> canonical_ipv4(std::string_view text);

// The canonical text of an IPv6 literal without brackets (lower case, longest zero run
// compressed, as inet_ntop writes it), or the dotted quad of an IPv4-mapped one.
// nullopt for anything else, zone ids ("fe80::1%eth0") and embedded NULs included.
std::optional<std::string> canonical_ipv6(std::string_view text);

// A host name as the resolver reads it: lower case, one trailing dot dropped
// ("Example.COM." is "example.com"). nullopt when empty, for an empty label (".a",
// "a..b", "a.."), and for bytes other than letters, digits, '-', '_' and '.'.
std::optional<std::string> canonical_name(std::string_view text);

enum class host_kind { name, ipv4, ipv6 };

struct host {
  std::string text;  // canonical; IPv6 without brackets
  host_kind kind = host_kind::name;
  bool operator==(const host&) const = default;
};

// The host part of an authority, "[v6]" or a name or IPv4 literal in any spelling, in
// its canonical form. An IPv6 literal must be in brackets and a bracketed one must be
// IPv6; a mapped one comes back as ipv4.
std::optional<host> canonical_host(std::string_view text);

// An address literal in any spelling (IPv6 without brackets, or IPv4) as canonical text;
// nullopt for a name. For comparing a host that may not have been through
// canonical_host (patterns, policy inputs).
std::optional<std::string> canonical_address(std::string_view text);

}  // namespace airlock::net

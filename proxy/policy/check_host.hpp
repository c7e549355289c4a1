#pragma once
// The check host: a name airlock answers itself, so `airlock doctor` can prove, for each
// runtime in the agent's container, that its request went through airlock (the answer
// carries check_marker) and that it trusts airlock's CA (the name is intercepted like a
// credential host, with a leaf from the workspace CA).
//
// The name is under .invalid (RFC 6761): no resolver anywhere answers it, so a runtime that
// bypasses the proxy fails at name resolution instead of reaching some other server, and a
// leaf for it, should the CA's key ever leak, impersonates nothing. It is answered before
// credential rules and the egress policy: no credential is ever injected for it, nothing is
// dialled, and a deny-by-default workspace still answers it (nothing leaves airlock). The
// answers are constant: no request byte is reflected, nothing about the configuration,
// secrets or phase is said, and there is no CORS field, so a web page cannot read them.

#include <string>
#include <string_view>

namespace airlock::proxy {

inline constexpr std::string_view check_host_name = "doctor.airlock.invalid";
// In every answer body: a probe that prints it went through airlock.
inline constexpr std::string_view check_marker = "airlock-doctor-ok";

// host as authority parsing leaves it (lowercase, no trailing dot).
bool is_check_host(std::string_view host);

struct check_answer {
  int status = 200;
  std::string_view content_type;
  std::string body;
};

// What airlock answers to method and target (origin-form) on the check host; tls: the
// request came through an intercepted tunnel. Shapes the runtimes' own probes need:
// - GET PREFIX/info/refs?service=git-upload-pack: a smart-HTTP advertisement of one ref,
//   refs/heads/<marker>, so `git ls-remote` prints the marker;
// - GET /simple/...: a PEP 503 page listing <marker>-1.0, so `pip index versions` does;
// - GET /-/ping...: JSON naming the marker, for `npm ping --json`;
// - any other GET: one text line with the marker and airlock's version.
// HEAD gets GET's answer (the caller sends its head only); any other method 405, which the
// caller sends with Allow: GET, HEAD. Pure.
check_answer answer_check(std::string_view method, std::string_view target,
                          std::string_view version, bool tls);

}  // namespace airlock::proxy

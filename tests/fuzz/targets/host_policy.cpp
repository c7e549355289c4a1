// Fuzz target: host and path normalisation and the egress decision. An IPv4 spelling the
// policy canonicalises must round-trip; a host a deny pattern covers must be denied
// however it is spelled in the authority; a path's normal form is a fixed point.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/load.hpp"
#include "config/parse_values.hpp"
#include "config/request_path.hpp"
#include "net/host.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/policy/inject.hpp"
#include "proxy/policy/policy.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

const airlock::config::config& cfg() {
  static const airlock::config::config c = airlock::config::load_string(
      "egress:\n"
      "  default: allow\n"
      "  deny: [169.254.169.254, \"[fd00:ec2::254]\", \"*.evil.test\", \"evil.test:8443\"]\n",
      "fuzz.yaml");
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace airlock;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const proxy::policy policy(cfg());

  if (const auto v4 = net::canonical_ipv4(input)) {
    check(net::canonical_ipv4(*v4) == v4);  // canonical text is a fixed point
  }
  if (const auto v6 = net::canonical_ipv6(input)) {
    // IPv4-mapped addresses come back as the dotted quad, anything else as IPv6 text.
    check(net::canonical_ipv6(*v6) == v6 || net::canonical_ipv4(*v6) == v6);
  }
  if (const auto h = net::canonical_host(input)) {
    const std::string again = h->kind == net::host_kind::ipv6 ? "[" + h->text + "]" : h->text;
    check(net::canonical_host(again) == h);
  }
  if (const auto auth = proxy::parse_authority_form(input)) {
    const auto v = policy.decide(auth->host, auth->port, std::nullopt);
    // Authority hosts are canonical already: policy and rules see that one text.
    if (const auto address = net::canonical_address(auth->host)) {
      check(*address == auth->host);
    }
    // The metadata address is denied in every spelling authority parsing accepts.
    const bool metadata = net::canonical_address(auth->host) == std::string("169.254.169.254");
    if (metadata) {
      check(v.what == proxy::verdict::kind::denied);
    }
    if (proxy::host_matches("*.evil.test", auth->host)) {
      check(v.what == proxy::verdict::kind::denied);
    }
    (void)policy.decide(auth->host, auth->port, input);
  }
  const auto pattern = config::parse_host_pattern(input);
  if (pattern.index() == 0) {
    const auto& p = std::get<0>(pattern);
    check(!p.host.empty());
    check(p.host.find_first_of("\r\n ") == std::string::npos);
  }
  (void)config::parse_cidr(input);

  // Request paths: a path every server reads as written has a normal form that is its
  // own normal form and raises no doubt either; the widest reading starts at "/" and has
  // no empty segment.
  if (!input.empty() && input.front() == '/') {
    using config::path_decoding;
    if (config::path_doubt(input).empty()) {
      const std::string normal = config::normalize_path(input, path_decoding::unreserved);
      check(config::normalize_path(normal, path_decoding::unreserved) == normal);
      check(config::path_doubt(normal).empty());
    }
    const std::string widest = config::normalize_path(input, path_decoding::all);
    check(!widest.empty() && widest.front() == '/');
    check(widest.find("//") == std::string::npos);
  }
  return 0;
}

#include "proxy/policy/policy.hpp"

#include <algorithm>

#include "config/request_path.hpp"
#include "config/telemetry_defaults.hpp"
#include "net/host.hpp"
#include "proxy/http/head.hpp"
#include "proxy/policy/inject.hpp"

namespace airlock::proxy {

namespace {

// The host as patterns hold it (net/host.hpp): authorities arrive canonical already, a
// caller's raw literal is brought to the same text.
std::string canonical_host(std::string_view host) {
  if (auto address = net::canonical_address(host)) {
    return *address;
  }
  return std::string(host);
}

// Telemetry entries block the widest reading of the path: every escape decoded, ";"
// parameters cut, dot segments removed, "//" merged, "\" read as "/", case ignored
// (IIS). A false match only blocks more.
bool path_has_prefix(std::string_view normal, std::string_view prefix) {
  return normal.size() >= prefix.size() && http::iequals(normal.substr(0, prefix.size()), prefix);
}

}  // namespace

bool pattern_matches(const config::host_pattern& pattern, std::string_view host,
                     std::uint16_t port) {
  return (pattern.port == 0 || pattern.port == port) && host_matches(pattern.host, host);
}

policy::policy(const config::config& cfg)
    : egress_(cfg.egress), answer_(cfg.telemetry.answer_status) {
  if (cfg.telemetry.block_vendor_defaults) {
    for (const auto& e : config::vendor_telemetry_defaults()) {
      const auto& off = cfg.telemetry.unblock;
      if (std::find(off.begin(), off.end(), e.name) == off.end()) {
        entries_.push_back(e);
      }
    }
  }
  entries_.insert(entries_.end(), cfg.telemetry.block.begin(), cfg.telemetry.block.end());
  counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(entries_.size() + 1);
}

bool policy::judges_paths(std::string_view host_in, std::uint16_t port) const {
  const std::string host = canonical_host(host_in);
  return std::any_of(entries_.begin(), entries_.end(), [&](const config::telemetry_entry& e) {
    return !e.path_prefix.empty() && pattern_matches(e.host, host, port);
  });
}

verdict policy::decide(std::string_view host_in, std::uint16_t port,
                       std::optional<std::string_view> path) const {
  const std::string host = canonical_host(host_in);
  const std::string_view path_only = path ? path->substr(0, path->find('?')) : std::string_view();
  std::optional<std::string> normal;  // made once, for the first path entry on this host
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    if (!pattern_matches(e.host, host, port)) {
      continue;
    }
    // A path entry only applies where the path is seen; the host also serves the API.
    if (!e.path_prefix.empty() && path && !normal) {
      normal = config::normalize_path(path_only, config::path_decoding::all);
    }
    if (e.path_prefix.empty() || (path && path_has_prefix(*normal, e.path_prefix))) {
      return verdict{verdict::kind::telemetry, e.name, i, false};
    }
  }
  verdict out;
  for (const auto& p : egress_.deny) {
    if (pattern_matches(p, host, port)) {
      out = verdict{verdict::kind::denied, p.text, 0, false};
      break;
    }
  }
  if (out.what == verdict::kind::allow && !egress_.default_allow) {
    const bool allowed = std::any_of(egress_.allow.begin(), egress_.allow.end(),
                                     [&](const auto& p) { return pattern_matches(p, host, port); });
    if (!allowed) {
      out = verdict{verdict::kind::denied, "default-deny", 0, false};
    }
  }
  if (out.what == verdict::kind::denied && egress_.report_only) {
    out.what = verdict::kind::allow;
    out.report_only = true;
  }
  return out;
}

}  // namespace airlock::proxy

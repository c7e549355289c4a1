#include "proxy/policy/interception.hpp"

#include "proxy/policy/check_host.hpp"
#include "proxy/policy/inject.hpp"

namespace airlock::proxy {

interception interception_for(const config::config& cfg, const policy& p, std::string_view host,
                              std::uint16_t port) {
  if (is_check_host(host)) {
    return interception::check;
  }
  if (has_rule_for(cfg.credentials, host, port)) {
    return interception::credential;
  }
  if (p.judges_paths(host, port)) {
    return interception::policy;
  }
  return interception::none;
}

std::vector<std::string> interception_names(const config::config& cfg, const policy& p) {
  std::vector<std::string> out;
  for (const auto& rule : cfg.credentials) {
    out.push_back(rule.match.host);
  }
  for (const auto& entry : p.telemetry()) {
    if (!entry.path_prefix.empty()) {
      out.push_back(entry.host.host);
    }
  }
  out.emplace_back(check_host_name);
  return out;
}

}  // namespace airlock::proxy

#include "proxy/policy/endpoint_filter.hpp"

#include "proxy/policy/private_address.hpp"

namespace airlock::proxy {

dial_plan plan_dial(const authority& target,
                    const std::map<std::string, config::endpoint>& resolve) {
  dial_plan plan{target.host, target.port, false, std::nullopt};
  if (auto it = resolve.find(target.to_string()); it != resolve.end()) {
    plan.host = it->second.host;
    plan.port = it->second.port;
    plan.overridden = true;
  }
  error_code ec;
  const auto literal = asio::ip::make_address(plan.host, ec);
  if (!ec) {
    plan.literal = literal;
  }
  return plan;
}

bool is_self(const tcp::endpoint& ep, std::span<const tcp::endpoint> self) {
  // "[::ffff:127.0.0.1]" reaches a listener on 127.0.0.1 as surely as the plain form.
  const asio::ip::address to = dialled_address(ep.address());
  for (const auto& listener : self) {
    if (listener.port() != ep.port()) {
      continue;
    }
    // A wildcard listener is reached through loopback (or any local address, which the
    // private-address check covers).
    if (listener.address() == to || (listener.address().is_unspecified() && to.is_loopback())) {
      return true;
    }
  }
  return false;
}

endpoint_choice filter_endpoints(const authority& target, std::span<const tcp::endpoint> resolved,
                                 const dial_plan& plan, std::span<const tcp::endpoint> self,
                                 const config::egress_config& egress) {
  endpoint_choice out;
  std::optional<std::string_view> refused_class;
  for (const auto& ep : resolved) {
    std::optional<std::string_view> cls;
    if (is_self(ep, self)) {
      cls = "airlock-itself";
    } else if (!plan.overridden && egress.block_private_addresses) {
      cls = blocked_class(ep.address(), egress.allow_private);
    }
    if (!cls) {
      out.allowed.push_back(ep);
    } else if (!refused_class) {
      refused_class = cls;
    }
  }
  if (!out.allowed.empty()) {
    return out;
  }
  const std::string cls(refused_class.value_or("private"));
  refusal r{refusal_kind::private_address, 403, "destination_ip_prohibited",
            cls == "airlock-itself"
                ? target.to_string() + " is airlock's own listener; a request to it would loop"
                : target.to_string() + " is a " + cls +
                      " address, which agents may not reach through airlock (SSRF "
                      "protection); retrying or bypassing the proxy will not help"};
  r.reason = "private_address";
  r.rule = cls;
  out.refused = std::move(r);
  return out;
}

}  // namespace airlock::proxy

#include "proxy/policy/route_decision.hpp"

#include <utility>

#include "proxy/http/intermediary.hpp"
#include "proxy/policy/check_host.hpp"
#include "proxy/policy/inject.hpp"
#include "proxy/policy/interception.hpp"
#include "proxy/policy/routes.hpp"

namespace airlock::proxy {

namespace {

refusal bad_request(std::string detail) {
  return refusal{refusal_kind::bad_request, 400, "http_request_error", std::move(detail)};
}

bool is_origin_form(std::string_view target) {
  return !target.empty() && target.front() == '/';
}

// Inside an intercepted tunnel the authority is the CONNECT's; the Host field may only
// repeat it, never redirect the request (and its credential) elsewhere.
std::optional<refusal> in_tunnel(const request_view& req, const authority& tunnel,
                                 destination& to) {
  if (!is_origin_form(req.target)) {
    return bad_request("requests inside a CONNECT tunnel use origin-form");
  }
  // A Host without a port names https's default, 443 (RFC 9110 4.2.2).
  if (!host_agrees(req.host, tunnel, 443)) {
    return host_mismatch("Host header does not match the CONNECT authority " + tunnel.to_string());
  }
  to.auth = tunnel;
  to.tls = true;
  to.host_owned = tunnel.host_text(443);
  to.target_written = req.target;
  return std::nullopt;
}

// An origin-form request on the proxy listener takes a reverse route, or none at all.
std::optional<refusal> routed(const request_view& req, const config::config& cfg, destination& to,
                              traffic_mode& mode) {
  const auto match = match_route(cfg.routes, req.target);
  if (!match) {
    return refusal{refusal_kind::route_not_found, 404, "http_request_error",
                   "no reverse route for this path; routes: " + list_prefixes(cfg.routes)};
  }
  refusal checked =
      check_routed_request(match->rest, req.host.value_or(std::string_view()), req.host.has_value(),
                           req.has_origin, cfg.proxy.route_hosts);
  if (checked.status != 0) {
    return checked;  // kind bad_request, from its 400 or 403
  }
  mode = traffic_mode::route;
  const config::route& rt = *match->route;
  to.auth = authority{rt.host, rt.port, rt.ipv6};
  to.tls = rt.tls;
  to.host_owned = to.auth.host_text(rt.tls ? 443 : 80);
  to.target_owned = route_origin_form(rt, match->rest);
  return std::nullopt;
}

// An absolute-form request: the URI names the authority, and a Host field saying something
// else is an attempt to make two parsers disagree. https:// and wss:// (scripts that
// hand-roll a proxy request with the URL as its target) go up over TLS airlock opens and verifies,
// as a plain http:// request to a credential host does: the same rules, policy and
// scrubbing as inside an intercepted tunnel, and the agent needs no CA for it; only to the
// hosts a CONNECT would intercept (opened_here).
std::optional<refusal> absolute(const request_view& req, const decision_inputs& in,
                                destination& to) {
  auto target = parse_absolute_form(req.target);
  if (!target) {
    if (is_origin_form(req.target)) {
      return bad_request(
          "airlock is a forward proxy: send absolute-form requests (http://host/path) or use "
          "CONNECT");
    }
    return bad_request("malformed request target");
  }
  if (!host_agrees(req.host, target->auth, target->tls ? 443 : 80)) {
    return host_mismatch("Host header disagrees with the request target");
  }
  if (target->tls && !in.can_intercept) {
    return bad_request("this airlock has no TLS state for https:// and wss:// URLs: use CONNECT");
  }
  to.auth = std::move(target->auth);
  to.tls = target->tls;
  to.host_written = target->authority_text;
  to.target_written = target->origin_form;
  if (target->origin_form.front() == '?') {
    // "http://h?q" goes up as "GET /?q": the policy, the rule and the log judge that path,
    // not an empty one no prefix covers ("/" included).
    to.target_owned.assign(1, '/').append(target->origin_form);
  }
  return std::nullopt;
}

// airlock's TLS client talks only to servers the configuration names, the hosts a CONNECT
// would intercept. For any other a CONNECT is a blind tunnel; opening TLS to a URL's host
// would let the agent choose the server, and one of its own can make every upstream
// connection and cached session keep a certificate list of its making (~1 MiB each).
std::optional<refusal> opened_here(const decision_inputs& in, const authority& to) {
  if (interception_for(in.cfg, in.egress, to.host, to.port) != interception::none) {
    return std::nullopt;
  }
  return bad_request(
      "airlock opens TLS only to hosts it intercepts (a credential rule, telemetry paths): "
      "request https:// and wss:// URLs for " +
      to.to_string() + " through CONNECT");
}

// A credential only travels over verified TLS: plain http:// to a credential host goes
// upstream as https (port 80 becomes 443).
void upgrade_plain_http(destination& to, const decision_inputs& in) {
  if (to.tls || !in.can_intercept ||
      !upgrades_plain_http(in.cfg.credentials, to.auth.host, to.auth.port)) {
    return;
  }
  to.tls = true;
  if (to.auth.port == 80) {
    to.auth.port = 443;
    to.host_owned = to.auth.host_text(443);
  }
}

// Requests airlock answers itself instead of relaying (RFC 9110 7.6.2, 9.3.8).
std::optional<route_decision::action_type> local_answer(const request_view& req,
                                                        const destination& to, bool tunnelled,
                                                        traffic_mode mode,
                                                        const decision_inputs& in) {
  // The rule lookup only for the methods it can change anything for. Every intercepted
  // tunnel counts, also one intercepted for its telemetry paths alone: which rules apply
  // inside is not this check's to reason about.
  const bool credential_destination =
      http::reflects_request(req.method) &&
      (tunnelled || mode == traffic_mode::route ||
       has_rule_for(in.cfg.credentials, to.auth.host, to.auth.port));
  const auto answer =
      http::decide_local_answer(req.method, req.max_forwards, credential_destination);
  if (answer == http::local_answer::forward) {
    return std::nullopt;
  }
  if (answer == http::local_answer::options_here) {
    return route_decision::answer_options{};
  }
  refusal out =
      answer == http::local_answer::refuse_reflecting
          ? refusal{refusal_kind::method_refused, 405, "http_request_denied",
                    std::string(req.method) + " is not relayed to " + to.auth.to_string() +
                        ": airlock injects credentials there, and the answer would carry "
                        "them back (RFC 9110 9.3.8)"}
          : refusal{refusal_kind::method_refused, 405, "http_request_denied",
                    "TRACE with Max-Forwards: 0 ends at airlock, which does not reflect "
                    "requests"};
  out.reason = "method_refused";
  out.allow = http::relayed_methods;
  return out;
}

}  // namespace

request_view view_of(const http::request_head& head, const http::request_info& info) {
  request_view v;
  v.method = head.method;
  v.target = head.target;
  if (info.host != nullptr) {
    v.host = info.host->value;
  }
  for (const auto& h : head.headers) {
    v.has_origin = v.has_origin || http::iequals(h.name, "origin");
  }
  v.has_body = info.body != http::body_kind::none;
  v.max_forwards = info.max_forwards;
  return v;
}

bool host_agrees(std::optional<std::string_view> host, const authority& target,
                 std::uint16_t default_port) {
  if (!host) {
    return true;
  }
  const auto parsed = parse_host_header(*host, default_port);
  return parsed && *parsed == target;
}

refusal host_mismatch(std::string detail) {
  refusal out{refusal_kind::host_mismatch, 400, "http_request_error", std::move(detail)};
  out.reason = "host_mismatch";
  return out;
}

std::optional<refusal> policy_refusal(const verdict& v, const authority& target, bool has_path,
                                      int telemetry_answer) {
  if (v.report_only || v.what == verdict::kind::allow) {
    return std::nullopt;
  }
  const std::string where = target.to_string();
  const std::string rule(v.rule);
  refusal out;
  if (v.what == verdict::kind::telemetry) {
    // A CONNECT cannot be answered with "done": 403 ends it at once. A request can, so
    // the configured answer (204 by default) stops clients from retrying.
    out = refusal{refusal_kind::telemetry, has_path ? telemetry_answer : 403, "http_request_denied",
                  "vendor telemetry to " + where + " is blocked by airlock (entry " + rule +
                      "); retrying or bypassing the proxy will not help"};
    out.reason = "telemetry_blocked";
  } else {
    out = refusal{refusal_kind::egress_denied, 403, "destination_ip_prohibited",
                  "egress to " + where + " is not allowed by this workspace's policy (" + rule +
                      "); retrying or bypassing the proxy will not help"};
    out.reason = "egress_denied";
  }
  out.rule = rule;
  return out;
}

route_decision decide_connect(const request_view& req, const decision_inputs& in) {
  route_decision out;
  out.mode = traffic_mode::tunnel;
  auto target = parse_authority_form(req.target);
  if (!target) {
    out.action = bad_request("CONNECT target must be host:port");
    return out;
  }
  // A Host without a port names the CONNECT's own.
  if (!host_agrees(req.host, *target, target->port)) {
    out.action = host_mismatch("Host header disagrees with the CONNECT target");
    return out;
  }
  if (req.has_body) {
    out.action = bad_request("CONNECT request with a body");
    return out;
  }
  const interception why = interception_for(in.cfg, in.egress, target->host, target->port);
  if (why == interception::check) {
    out.to.emplace().auth = std::move(*target);
    if (in.can_intercept) {
      out.action = route_decision::intercept{};
    } else {
      out.action = refusal{refusal_kind::other, 503, "destination_unavailable",
                           "the check host is answered inside airlock's TLS, and this airlock "
                           "has no workspace CA"};
    }
    return out;
  }
  const verdict v = in.egress.decide(target->host, target->port, std::nullopt);
  out.egress = v;
  auto refused = policy_refusal(v, *target, false, in.egress.telemetry_answer());
  const bool intercept = in.can_intercept && why != interception::none;
  out.to.emplace().auth = std::move(*target);
  if (refused) {
    out.action = std::move(*refused);
  } else if (intercept) {
    out.action = route_decision::intercept{};
  } else {
    out.action = route_decision::tunnel{};
  }
  return out;
}

route_decision decide_request(const request_view& req, const authority* tunnel,
                              const decision_inputs& in) {
  route_decision out;
  out.mode = tunnel != nullptr ? traffic_mode::intercept : traffic_mode::forward;
  destination to;
  std::optional<refusal> refused;
  if (tunnel != nullptr) {
    refused = in_tunnel(req, *tunnel, to);
  } else if (is_origin_form(req.target) && !in.cfg.routes.empty()) {
    refused = routed(req, in.cfg, to, out.mode);
  } else {
    refused = absolute(req, in, to);
  }
  if (refused) {
    out.action = std::move(*refused);
    return out;
  }
  // Answered here whatever the rules and the policy say: nothing goes anywhere. Not on a
  // reverse route, whose Host names airlock itself.
  if (out.mode != traffic_mode::route && is_check_host(to.auth.host)) {
    // Its answer says whether the client came through airlock's TLS; an https:// URL
    // in absolute form did not.
    to.tls = tunnel != nullptr;
    out.to = std::move(to);
    out.action = route_decision::answer_check{};
    return out;
  }
  // On the proxy listener, TLS before the upgrade is the URL's: https:// or wss://.
  const bool tls_url = out.mode == traffic_mode::forward && to.tls;
  upgrade_plain_http(to, in);
  const verdict v = in.egress.decide(to.auth.host, to.auth.port, to.origin_form());
  out.egress = v;
  refused = policy_refusal(v, to.auth, true, in.egress.telemetry_answer());
  if (!refused && tls_url) {
    refused = opened_here(in, to.auth);
  }
  std::optional<route_decision::action_type> local;
  if (!refused) {
    // Such a URL is judged as a request in its host's intercepted tunnel.
    local = local_answer(req, to, tunnel != nullptr || tls_url, out.mode, in);
  }
  std::optional<std::size_t> rule;
  if (!refused && !local && to.tls) {
    const auto& rules = in.cfg.credentials;
    if (const auto* r =
            find_rule(rules, to.auth.host, to.auth.port, req.method, to.origin_form())) {
      rule = static_cast<std::size_t>(r - rules.data());
    }
  }
  out.to = std::move(to);
  if (refused) {
    out.action = std::move(*refused);
  } else if (local) {
    out.action = std::move(*local);
  } else {
    out.action = route_decision::forward{rule};
  }
  return out;
}

route_decision decide_route(const request_view& req, const authority* tunnel,
                            const decision_inputs& in) {
  if (tunnel == nullptr && http::iequals(req.method, "CONNECT")) {
    return decide_connect(req, in);
  }
  return decide_request(req, tunnel, in);
}

}  // namespace airlock::proxy

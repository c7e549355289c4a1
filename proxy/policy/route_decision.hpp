#pragma once
// Where a request or CONNECT goes, decided from its head, the connection's intercepted
// tunnel (if any) and the configuration, before any I/O: refused (with the answer the agent
// reads and the metric kind), answered by airlock (OPTIONS with Max-Forwards: 0), a blind
// tunnel, an intercepted tunnel, or forwarded with the credential rule that applies. Pure:
// no I/O, no clock, no counters; the caller counts and logs from the result.
//
// How a connection uses it, per request head:
//   const route_decision d = decide_route(view_of(head, info), tunnel, inputs);
// tunnel: the CONNECT authority of the intercepted tunnel the request came through, else
// nullptr. Then, in this order:
// - d.to set: the access log's authority and path (access_target(d.to->auth,
//   d.to->origin_form())), and where tunnel, intercept and forward go.
// - d.egress set: report_only counts egress_report_only and logs; a refusal of kind
//   telemetry counts policy::count_blocked(d.egress->entry) and telemetry_blocked, one of
//   kind egress_denied counts egress_denied.
// - d.action: refusal → respond_error(answer) and close, counted as answer.kind under d.mode;
//   answer_options → answer_options(); answer_check → answer_check(method, target) of
//   check_host.hpp (d.to->tls: inside an intercepted tunnel); tunnel → dial d.to->auth, 200, relay;
//   intercept → 200 and the client TLS handshake as d.to->auth; forward → pool key ("tls:" when
//   d.to->tls) + d.to->auth, the upstream head from d.to->host_text(), d.to->origin_form()
//   and the rule (&cfg.credentials[*rule]).
// It replaces: the CONNECT-or-request branch in session::run (session.cpp), the checks of
// serve_connect up to the intercept choice (tunnel.cpp), serve_forward up to find_rule
// (forward.cpp), session::policy_refuses (session.cpp) and the decision half of
// session::answer_here (local_answer.cpp). What needs the world stays with the caller: the
// head budget, secrets (missing or revoked), dialling, bodies, responses.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "config/model.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/http/head.hpp"
#include "proxy/http/message.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/observe/labels.hpp"
#include "proxy/policy/policy.hpp"

namespace airlock::proxy {

// What the decision reads of a request head; views into the caller's buffer.
struct request_view {
  std::string_view method;
  std::string_view target;                    // as received: origin-, absolute- or authority-form
  std::optional<std::string_view> host;       // the single Host field's value, if any
  bool has_origin = false;                    // an Origin field (reverse routes refusal it)
  bool has_body = false;                      // the framing announces a body (CONNECT may not)
  std::optional<std::uint32_t> max_forwards;  // of OPTIONS and TRACE, as request_info has it
};

// The view of an HTTP/1.1 head that analyze_request accepted.
request_view view_of(const http::request_head& head, const http::request_info& info);

// The configuration a decision reads; it outlives the call.
struct decision_inputs {
  const config::config& cfg;  // credentials, routes, proxy.route_hosts
  const policy& egress;
  bool can_intercept = false;  // the TLS state exists (worker::tls() != nullptr)
};

// Where the bytes of a request go.
struct destination {
  authority auth;    // after a plain-http upgrade, 443 in place of 80
  bool tls = false;  // over verified TLS: intercepted, an https route, or upgraded

  // The upstream request's Host value and origin-form target (empty for a CONNECT).
  std::string_view host_text() const { return host_owned.empty() ? host_written : host_owned; }
  std::string_view origin_form() const {
    return target_owned.empty() ? target_written : target_owned;
  }

  // Views into the request head where it has them as they go up (valid while the head's
  // bytes are, so the upstream head is written before they are consumed); else made here.
  std::string_view host_written;
  std::string_view target_written;
  std::string host_owned;    // intercepted, routed, or a port moved from 80 to 443
  std::string target_owned;  // a reverse route's upstream target
};

struct route_decision {
  struct answer_options {};  // OPTIONS with Max-Forwards: 0: airlock answers 200 with Allow
  struct answer_check {};    // the doctor's check host: airlock answers (answer_check())
  struct tunnel {};          // CONNECT relayed blind
  // CONNECT answered with airlock's TLS (interception_for): a credential rule may apply
  // inside, a telemetry path entry may refuse, or the check host is answered.
  struct intercept {};
  struct forward {
    std::optional<std::size_t> rule;  // index into cfg.credentials; only over TLS
  };

  using action_type =
      std::variant<refusal, answer_options, answer_check, tunnel, intercept, forward>;

  traffic_mode mode = traffic_mode::forward;  // what the answer is counted and logged as
  action_type action;
  std::optional<destination> to;  // once the target is known
  std::optional<verdict> egress;  // the policy's verdict, once it was asked
};

// The one Host check: a Host field, when present, names exactly target. default_port fills a
// missing port: 80 for http, 443 inside an intercepted tunnel (RFC 9110 4.2.1, 4.2.2), the
// target's own for a CONNECT. A Host that does not parse (userinfo, bare IPv6) never agrees.
bool host_agrees(std::optional<std::string_view> host, const authority& target,
                 std::uint16_t default_port);

// The answer to a Host that disagrees, wherever it is checked: 400 http_request_error, reason
// host_mismatch (X-Airlock-Reason; counted as host_mismatch). 400, not 421: a client MUST
// send the target's authority in Host (RFC 9112 3.2), and 400 is the answer to deceptive
// request routing (RFC 9110 15.5.1); 421 tells a client that another connection would be
// served, which no retry of these bytes would be.
refusal host_mismatch(std::string detail);

// The refusal for a policy verdict (nullopt: allowed, or report-only). has_path: a request
// rather than a CONNECT, which gets policy::telemetry_answer() instead of 403 for telemetry.
std::optional<refusal> policy_refusal(const verdict& v, const authority& target, bool has_path,
                                      int telemetry_answer);

// A CONNECT on a fresh connection: refusal, tunnel or intercept (interception_for: a
// credential rule's host, a host with telemetry path entries, or the check host, which
// comes before the egress policy: nothing is dialled for it).
route_decision decide_connect(const request_view& req, const decision_inputs& in);

// Any other request, or anything sent inside the intercepted tunnel to *tunnel (a CONNECT
// there included): refusal, answer_options, answer_check (an absolute-form request to the
// check host, or any request in a tunnel to it, before the policy and every rule) or
// forward. An https:// or wss:// URL is forwarded only to a host a CONNECT would intercept,
// and judged as a request in that tunnel; any other gets 400 (use CONNECT).
route_decision decide_request(const request_view& req, const authority* tunnel,
                              const decision_inputs& in);

// decide_connect for a CONNECT outside an intercepted tunnel, else decide_request.
route_decision decide_route(const request_view& req, const authority* tunnel,
                            const decision_inputs& in);

}  // namespace airlock::proxy

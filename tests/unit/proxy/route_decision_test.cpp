// Where a request goes, decided before any I/O: every branch the session took inline, each
// attacker's attempt beside the normal case. Old code locations (main at 7747a57):
//  1 session.cpp run(): CONNECT (any case) outside a tunnel → serve_connect; inside one it
//    is just another request (→ 7).
//  2 tunnel.cpp serve_connect: target not authority-form → 400.
//  3 serve_connect: Host disagreeing with the CONNECT target → 400 bad_request (now the
//    unified host_mismatch answer); a Host without port names the target's port.
//  4 serve_connect: a CONNECT with a body → 400.
//  5 serve_connect → session.cpp policy_refuses(path nullopt): telemetry 403 (never the
//    telemetry answer), denied 403, report-only let through.
//  6 serve_connect: TLS state and has_rule_for(host, port) → intercept, else a blind tunnel
//    (now interception_for: also telemetry path entries and the check host).
//  7 forward.cpp serve_forward, intercepted: not origin-form → 400.
//  8 intercepted: Host not the CONNECT authority (no port: 443) → 421 (now host_mismatch).
//  9 intercepted: the CONNECT authority over TLS, Host text host_text(443), routes ignored.
// 10 origin-form with routes: no route → 404 route_not_found listing the prefixes.
// 11 routes.cpp check_routed_request: path doubt 400, Origin 403, Host name 403 (all
//    counted bad_request, mode still forward).
// 12 routed: mode route, the route's authority, TLS and Host text, route_origin_form.
// 13 absolute-form that does not parse: origin-form (no routes), https://, else malformed.
// 14 absolute-form: Host disagreeing → 400 bad_request (now host_mismatch).
// 15 absolute-form: the authority as written, the origin form as sent.
// 16 plain-http upgrade: TLS state and upgrades_plain_http → TLS, 80 becomes 443.
// 17 policy_refuses(origin form): telemetry → telemetry.answer, denied 403, report-only.
// 18 local_answer.cpp answer_here: TRACE/TRACK/DEBUG where a credential goes (intercepted,
//    routed, a rule's host) 405; OPTIONS/TRACE with Max-Forwards: 0; else relayed.
// 19 serve_forward find_rule: a rule only over TLS, first match in file order.
// This file: 1-9 and 13-15; route_decision_forward_test.cpp: 10-12 and 16-19.

#include "proxy/policy/route_decision.hpp"

#include <gtest/gtest.h>

#include "tests/unit/proxy/route_decision_world.hpp"

namespace airlock::proxy {
namespace {

using namespace decision_test;

TEST(route_decision, connect_is_decided_as_connect_only_outside_a_tunnel) {
  const world w(rules_yaml);
  for (std::string_view method : {"CONNECT", "connect"}) {
    const auto d = w.decide(req(method, "example.com:443", "example.com:443"));
    EXPECT_EQ(d.mode, traffic_mode::tunnel);
    EXPECT_TRUE(std::holds_alternative<route_decision::tunnel>(d.action));
    ASSERT_TRUE(d.to);
    EXPECT_EQ(d.to->auth, auth("example.com", 443));
    EXPECT_FALSE(d.to->tls);
  }
  // Inside an intercepted tunnel a CONNECT is a request that is not origin-form.
  const authority tunnel = auth("api.anthropic.com", 443);
  const auto inner = w.decide(req("CONNECT", "evil.test:443", "api.anthropic.com"), &tunnel);
  EXPECT_EQ(inner.mode, traffic_mode::intercept);
  expect_refused(inner, 400, refusal_kind::bad_request);
}

TEST(route_decision, connect_refusals_before_the_policy) {
  const world w(rules_yaml);
  for (std::string_view target : {"example.com", "http://example.com:443/", "/", "example.com:0",
                                  "[::1]", "user@example.com:443"}) {
    const auto d = w.decide(req("CONNECT", target));
    const auto r = expect_refused(d, 400, refusal_kind::bad_request);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->detail, "CONNECT target must be host:port");
    EXPECT_FALSE(d.egress);
  }
  auto with_body = req("CONNECT", "example.com:443", "example.com:443");
  with_body.has_body = true;
  const auto r = expect_refused(w.decide(with_body), 400, refusal_kind::bad_request);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->detail, "CONNECT request with a body");
}

TEST(route_decision, connect_host_must_name_the_target) {
  const world w(rules_yaml);
  // The same authority however it is spelled; a Host without port names the target's port.
  for (std::string_view host : {"example.com:8443", "EXAMPLE.com:8443", "example.com.:8443"}) {
    EXPECT_TRUE(std::holds_alternative<route_decision::tunnel>(
        w.decide(req("CONNECT", "example.com:8443", host)).action))
        << host;
  }
  EXPECT_FALSE(refused(w.decide(req("CONNECT", "example.com:8443", "example.com"))));
  EXPECT_FALSE(refused(w.decide(req("CONNECT", "example.com:8443"))));  // no Host (HTTP/1.0)
  EXPECT_FALSE(refused(w.decide(req("CONNECT", "[::1]:8443", "[0:0::1]:8443"))));
  for (std::string_view host :
       {"api.example.com:443", "example.com:443", "evil.test:8443", "user@example.com:8443",
        "example.com:8443@evil.test", "example.com..:8443", "", "::1"}) {
    SCOPED_TRACE(host);
    EXPECT_EQ(expect_host_mismatch(w.decide(req("CONNECT", "example.com:8443", host))),
              "Host header disagrees with the CONNECT target");
  }
  expect_host_mismatch(w.decide(req("CONNECT", "[::1]:8443", "::1")));
  expect_host_mismatch(w.decide(req("CONNECT", "[::1]:8443", "[::2]:8443")));
}

TEST(route_decision, connect_policy_and_the_intercept_choice) {
  const world w(rules_yaml);
  // A rule names api.anthropic.com (443 only) and svc.test:8080: intercepted; another port,
  // a blind tunnel (api.anthropic.com on any port is intercepted for its telemetry paths:
  // route_decision_intercept_test.cpp).
  EXPECT_TRUE(std::holds_alternative<route_decision::intercept>(
      w.decide(req("CONNECT", "api.anthropic.com:443")).action));
  EXPECT_TRUE(std::holds_alternative<route_decision::intercept>(
      w.decide(req("CONNECT", "svc.test:8080")).action));
  EXPECT_TRUE(std::holds_alternative<route_decision::tunnel>(
      w.decide(req("CONNECT", "svc.test:443")).action));
  // Another spelling of a rule's host is another authority: no rule, a blind tunnel.
  EXPECT_TRUE(std::holds_alternative<route_decision::tunnel>(
      w.decide(req("CONNECT", "x.api.anthropic.com:443")).action));
  // Without TLS state nothing is intercepted.
  const world plain(rules_yaml, false);
  EXPECT_TRUE(std::holds_alternative<route_decision::tunnel>(
      plain.decide(req("CONNECT", "api.anthropic.com:443")).action));

  // Telemetry on a CONNECT is 403 (a tunnel cannot be answered "done"), whatever the answer.
  auto d = w.decide(req("CONNECT", "statsig.anthropic.com:443"));
  auto r = expect_refused(d, 403, refusal_kind::telemetry);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error_type, "http_request_denied");
  EXPECT_EQ(r->reason, "telemetry_blocked");
  EXPECT_EQ(r->rule, "claude-statsig");
  ASSERT_TRUE(d.to && d.egress);  // the access log names it; the caller counts the entry
  EXPECT_EQ(d.egress->what, verdict::kind::telemetry);
  d = w.decide(req("CONNECT", "evil.test:443"));
  r = expect_refused(d, 403, refusal_kind::egress_denied);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error_type, "destination_ip_prohibited");
  EXPECT_EQ(r->rule, "evil.test");
  EXPECT_EQ(r->detail,
            "egress to evil.test:443 is not allowed by this workspace's policy (evil.test); "
            "retrying or bypassing the proxy will not help");
  // A path entry does not apply where the path is unknown.
  EXPECT_FALSE(refused(w.decide(req("CONNECT", "metrics.acme.test:443"))));

  const world report(rules("  report_only: true\n"));
  d = report.decide(req("CONNECT", "evil.test:443"));
  EXPECT_TRUE(std::holds_alternative<route_decision::tunnel>(d.action));
  ASSERT_TRUE(d.egress);
  EXPECT_TRUE(d.egress->report_only);  // logged and counted by the caller
}

TEST(route_decision, inside_a_tunnel_the_connect_authority_decides) {
  const world w(routes_yaml);  // routes are for the proxy listener only
  const authority tunnel = auth("api.anthropic.com", 443);
  for (std::string_view host :
       {"api.anthropic.com", "api.anthropic.com:443", "API.Anthropic.COM.", "api.anthropic.com:"}) {
    const auto d = w.decide(req("POST", "/v1/messages", host), &tunnel);
    const auto f = forwarded(d);
    ASSERT_TRUE(f) << host;
    EXPECT_EQ(d.mode, traffic_mode::intercept);
    EXPECT_EQ(d.to->auth, tunnel);
    EXPECT_TRUE(d.to->tls);
    EXPECT_EQ(d.to->host_text(), "api.anthropic.com");
    EXPECT_EQ(d.to->origin_form(), "/v1/messages");
    EXPECT_EQ(f->rule, 0u);
  }
  EXPECT_TRUE(forwarded(w.decide(req("GET", "/anthropic/x"), &tunnel)));  // no Host: HTTP/1.0
  for (std::string_view target : {"https://api.anthropic.com/v1/x", "http://api.anthropic.com/",
                                  "api.anthropic.com:443", "*", ""}) {
    const auto r = expect_refused(w.decide(req("GET", target, "api.anthropic.com"), &tunnel), 400,
                                  refusal_kind::bad_request);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->detail, "requests inside a CONNECT tunnel use origin-form");
  }
}

TEST(route_decision, inside_a_tunnel_another_host_is_refused) {
  const world w(rules_yaml);
  const authority tunnel = auth("localhost", 8443);
  EXPECT_TRUE(forwarded(w.decide(req("GET", "/v1/x", "localhost:8443"), &tunnel)));
  EXPECT_EQ(w.decide(req("GET", "/v1/x", "localhost:8443"), &tunnel).to->host_text(),
            "localhost:8443");
  for (std::string_view host :
       {"evil.test", "localhost", "localhost:443", "localhost:8444", "127.0.0.1:8443",
        "localhost:8443@evil.test", "user@localhost:8443", "localhost:8443.", "[::1]:8443"}) {
    SCOPED_TRACE(host);
    EXPECT_EQ(expect_host_mismatch(w.decide(req("GET", "/v1/x", host), &tunnel)),
              "Host header does not match the CONNECT authority localhost:8443");
  }
  const authority v6{"::1", 8443, true};
  EXPECT_TRUE(forwarded(w.decide(req("GET", "/", "[0::1]:8443"), &v6)));
  expect_host_mismatch(w.decide(req("GET", "/", "::1:8443"), &v6));
  expect_host_mismatch(w.decide(req("GET", "/", "[::1]"), &v6));
}

TEST(route_decision, absolute_form_host_must_name_the_uri_authority) {
  const world w(rules_yaml);
  for (std::string_view host :
       {"example.com", "EXAMPLE.COM", "example.com.", "example.com:80", "example.com:"}) {
    const auto d = w.decide(req("GET", "http://Example.com./a?b", host));
    ASSERT_TRUE(forwarded(d)) << host;
    EXPECT_EQ(d.mode, traffic_mode::forward);
    EXPECT_EQ(d.to->auth, auth("example.com", 80));
    EXPECT_FALSE(d.to->tls);
    EXPECT_EQ(d.to->host_text(), "Example.com.");  // as written
    EXPECT_EQ(d.to->origin_form(), "/a?b");
  }
  EXPECT_TRUE(forwarded(w.decide(req("GET", "http://127.0.0.1:8080/", "127.1:8080"))));
  EXPECT_TRUE(forwarded(w.decide(req("GET", "http://[::1]:8080/", "[0:0::1]:8080"))));
  EXPECT_TRUE(forwarded(w.decide(req("GET", "http://example.com/"))));  // HTTP/1.0
  for (std::string_view host :
       {"evil.test", "example.com:8080", "example.com:443", "user@example.com",
        "example.com@evil.test", "example.com..", "example.com/", "[example.com]", ""}) {
    SCOPED_TRACE(host);
    EXPECT_EQ(expect_host_mismatch(w.decide(req("GET", "http://example.com/", host))),
              "Host header disagrees with the request target");
  }
  expect_host_mismatch(w.decide(req("GET", "http://[::1]:8080/", "::1:8080")));
  expect_host_mismatch(w.decide(req("GET", "http://[::1]:8080/", "[::1]")));
  expect_host_mismatch(w.decide(req("GET", "http://127.0.0.1:8080/", "127.0.0.2:8080")));
}

TEST(route_decision, absolute_form_that_does_not_parse) {
  const world w(rules_yaml);
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"/v1/x",
       "airlock is a forward proxy: send absolute-form requests (http://host/path) or use "
       "CONNECT"},
      {"wss://user@example.com/", "malformed request target"},
      {"https://example.com/#f", "malformed request target"},
      {"ws://user@example.com/", "malformed request target"},
      {"wsx://example.com/", "malformed request target"},
      {"https://", "malformed request target"},
      {"http://user@example.com/", "malformed request target"},
      {"http://example.com/#f", "malformed request target"},
      {"ftp://example.com/", "malformed request target"},
      {"*", "malformed request target"},
  };
  for (const auto& [target, detail] : cases) {
    const auto r =
        expect_refused(w.decide(req("GET", target, "example.com")), 400, refusal_kind::bad_request);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->detail, detail) << target;
  }
}

TEST(route_decision, view_of_reads_an_http1_head) {
  const std::string head =
      "OPTIONS http://example.com/ HTTP/1.1\r\nHost: example.com\r\nOrigin: x\r\n"
      "Max-Forwards: 0\r\nContent-Length: 1\r\n\r\n";
  http::request_head h;
  http::request_info info;
  ASSERT_FALSE(http::parse_request(head, http::head_limits{}, h));
  ASSERT_FALSE(http::analyze_request(h, info));
  const request_view v = view_of(h, info);
  EXPECT_EQ(v.method, "OPTIONS");
  EXPECT_EQ(v.target, "http://example.com/");
  EXPECT_EQ(v.host, "example.com");
  EXPECT_TRUE(v.has_origin);
  EXPECT_TRUE(v.has_body);
  EXPECT_EQ(v.max_forwards, 0u);
}

}  // namespace
}  // namespace airlock::proxy

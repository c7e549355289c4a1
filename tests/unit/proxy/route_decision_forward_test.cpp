// Where a request on the proxy listener or inside an intercepted tunnel goes once its
// target is known: reverse routes, the plain-http upgrade, the policy with the path, the
// requests airlock answers itself and the credential rule. Branches 10-12 and 16-19 of the
// list at the top of route_decision_test.cpp, with the old code locations.

#include <gtest/gtest.h>

#include "tests/unit/proxy/route_decision_world.hpp"

namespace airlock::proxy {
namespace {

using namespace decision_test;

TEST(route_decision, reverse_routes_serve_origin_form) {
  const world w(routes_yaml);
  auto d = w.decide(req("POST", "/anthropic/v1/messages?x=1", "127.0.0.1:3128"));
  const auto f = forwarded(d);
  ASSERT_TRUE(f);
  EXPECT_EQ(d.mode, traffic_mode::route);
  EXPECT_EQ(d.to->auth, auth("api.anthropic.com", 443));
  EXPECT_TRUE(d.to->tls);
  EXPECT_EQ(d.to->host_text(), "api.anthropic.com");
  EXPECT_EQ(d.to->origin_form(), "/v1/messages?x=1");
  EXPECT_EQ(f->rule, 0u);  // the rule sees the upstream path
  d = w.decide(req("GET", "/plain?q", "airlock.internal"));
  ASSERT_TRUE(forwarded(d));
  EXPECT_EQ(d.to->auth, auth("plain.test", 8080));
  EXPECT_FALSE(d.to->tls);
  EXPECT_EQ(d.to->host_text(), "plain.test:8080");
  EXPECT_EQ(d.to->origin_form(), "/base/?q");

  d = w.decide(req("GET", "/nowhere", "localhost"));
  const auto r = expect_refused(d, 404, refusal_kind::route_not_found);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->detail, "no reverse route for this path; routes: /anthropic, /plain, /svc");
  EXPECT_EQ(d.mode, traffic_mode::forward);
}

TEST(route_decision, reverse_routes_refuse_browsers_rebinding_and_doubtful_paths) {
  const world w(routes_yaml);
  EXPECT_TRUE(forwarded(w.decide(req("GET", "/anthropic/v1", "localhost:3128"))));
  EXPECT_TRUE(forwarded(w.decide(req("GET", "/anthropic/v1", "a.localhost"))));
  EXPECT_TRUE(forwarded(w.decide(req("GET", "/anthropic/v1", "[::1]:3128"))));
  EXPECT_TRUE(forwarded(w.decide(req("GET", "/anthropic/v1"))));
  for (std::string_view host : {"evil.test", "localhost.evil.test", "airlock.internal.evil"}) {
    const auto d = w.decide(req("GET", "/anthropic/v1", host));
    expect_refused(d, 403, refusal_kind::bad_request);
    EXPECT_EQ(d.mode, traffic_mode::forward) << host;
  }
  auto browser = req("GET", "/anthropic/v1", "localhost");
  browser.has_origin = true;
  expect_refused(w.decide(browser), 403, refusal_kind::bad_request);
  for (std::string_view target :
       {"/anthropic/..;/x", "/anthropic//v1", "/anthropic/%2e%2e/x", "/anthropic/v1%00"}) {
    expect_refused(w.decide(req("GET", target, "localhost")), 400, refusal_kind::bad_request);
  }
}

TEST(route_decision, plain_http_to_a_credential_host_goes_up_over_tls) {
  const world w(rules_yaml);
  auto d = w.decide(req("POST", "http://api.anthropic.com/v1/messages", "api.anthropic.com"));
  const auto f = forwarded(d);
  ASSERT_TRUE(f);
  EXPECT_TRUE(d.to->tls);
  EXPECT_EQ(d.to->auth, auth("api.anthropic.com", 443));
  EXPECT_EQ(d.to->host_text(), "api.anthropic.com");
  EXPECT_EQ(f->rule, 0u);
  // A named port stays, and so does the authority as written.
  d = w.decide(req("GET", "http://SVC.test:8080/x", "svc.test:8080"));
  ASSERT_TRUE(forwarded(d));
  EXPECT_TRUE(d.to->tls);
  EXPECT_EQ(d.to->auth, auth("svc.test", 8080));
  EXPECT_EQ(d.to->host_text(), "SVC.test:8080");
  EXPECT_EQ(std::get<route_decision::forward>(d.action).rule, 2u);
  // A plain http route to a rule's host is upgraded too.
  const world routed(routes_yaml);
  d = routed.decide(req("GET", "/svc/x", "localhost"));
  ASSERT_TRUE(forwarded(d));
  EXPECT_TRUE(d.to->tls);
  // Hosts and ports no rule names, and everything without TLS state, stay plain: no rule.
  for (std::string_view target : {"http://api.anthropic.com:8080/v1", "http://example.com/"}) {
    d = w.decide(req("GET", target));
    ASSERT_TRUE(forwarded(d));
    EXPECT_FALSE(d.to->tls) << target;
    EXPECT_FALSE(std::get<route_decision::forward>(d.action).rule);
  }
  const world plain(rules_yaml, false);
  d = plain.decide(req("POST", "http://api.anthropic.com/v1/messages"));
  ASSERT_TRUE(forwarded(d));
  EXPECT_FALSE(d.to->tls);
  EXPECT_EQ(d.to->auth.port, 80);
  EXPECT_FALSE(std::get<route_decision::forward>(d.action).rule);
  // A rule for the very authority, but no TLS to carry it: no credential.
  d = plain.decide(req("GET", "http://svc.test:8080/x"));
  ASSERT_TRUE(forwarded(d));
  EXPECT_FALSE(d.to->tls);
  EXPECT_FALSE(std::get<route_decision::forward>(d.action).rule);
}

// https:// and wss:// in absolute form on the proxy listener: airlock opens the TLS, and the
// request is judged as inside an intercepted tunnel (rule by path, policy with the path).
TEST(route_decision, https_in_absolute_form_goes_up_over_tls_airlock_opens) {
  const world w(rules_yaml);
  for (std::string_view host :
       {"api.anthropic.com", "api.anthropic.com:443", "API.anthropic.com."}) {
    const auto d = w.decide(req("POST", "https://api.anthropic.com/v1/messages", host));
    const auto f = forwarded(d);
    ASSERT_TRUE(f) << host;
    EXPECT_EQ(d.mode, traffic_mode::forward);
    EXPECT_TRUE(d.to->tls);
    EXPECT_EQ(d.to->auth, auth("api.anthropic.com", 443));
    EXPECT_EQ(d.to->host_text(), "api.anthropic.com");
    EXPECT_EQ(d.to->origin_form(), "/v1/messages");
    EXPECT_EQ(f->rule, 0u);
  }
  auto d = w.decide(req("GET", "wss://api.anthropic.com/v1/responses", "api.anthropic.com"));
  ASSERT_TRUE(forwarded(d));
  EXPECT_TRUE(d.to->tls);
  EXPECT_EQ(std::get<route_decision::forward>(d.action).rule, 1u);
  // A host with telemetry paths is intercepted too: no rule, its paths judged.
  d = w.decide(req("GET", "https://metrics.acme.test/v1/other", "metrics.acme.test"));
  ASSERT_TRUE(forwarded(d));
  EXPECT_TRUE(d.to->tls);
  EXPECT_FALSE(std::get<route_decision::forward>(d.action).rule);
  // The Host default is https's: 80 names another authority, as does another host.
  for (std::string_view host : {"api.anthropic.com:80", "evil.test", "api.anthropic.com:8443"}) {
    EXPECT_EQ(expect_host_mismatch(w.decide(req("GET", "https://api.anthropic.com/", host))),
              "Host header disagrees with the request target");
  }
  // The policy sees the path, the TRACE reflection rule holds, and the check host says
  // the client did not come through airlock's TLS.
  expect_refused(w.decide(req("POST", "https://metrics.acme.test/v1/collect")), 204,
                 refusal_kind::telemetry);
  expect_refused(w.decide(req("GET", "https://evil.test/")), 403, refusal_kind::egress_denied);
  expect_refused(w.decide(req("TRACE", "https://api.anthropic.com/")), 405,
                 refusal_kind::method_refused);
  d = w.decide(req("GET", "https://doctor.airlock.invalid/check"));
  ASSERT_TRUE(std::holds_alternative<route_decision::answer_check>(d.action));
  EXPECT_FALSE(d.to->tls);
  // Without TLS state there is nothing to open it with.
  const world plain(rules_yaml, false);
  const auto r = expect_refused(plain.decide(req("GET", "https://api.anthropic.com/")), 400,
                                refusal_kind::bad_request);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->detail, "this airlock has no TLS state for https:// and wss:// URLs: use CONNECT");
}

// airlock opens TLS only to servers its configuration names, the hosts a CONNECT would
// intercept: for any other, CONNECT is a blind tunnel, and an https:// URL would let the
// agent pick the server airlock's TLS client talks to. One of the agent's own can send a
// certificate list that each upstream connection and cached session keeps (about 1 MiB
// each, measured). The policy's answer still comes first.
TEST(route_decision, https_in_absolute_form_only_to_hosts_airlock_intercepts) {
  const world w(rules_yaml);
  for (std::string_view target :
       {"https://example.com:8443/x", "wss://example.com/socket", "https://svc.test:8443/",
        "https://svc.test/", "HTTPS://127.0.0.1/"}) {
    const auto d = w.decide(req("GET", target));
    const auto r = expect_refused(d, 400, refusal_kind::bad_request);
    ASSERT_TRUE(r) << target;
    EXPECT_NE(r->detail.find("airlock opens TLS only to hosts it intercepts"), std::string::npos)
        << r->detail;
    EXPECT_NE(r->detail.find("through CONNECT"), std::string::npos) << r->detail;
    ASSERT_TRUE(d.to) << target;  // the access log names what was refused
    ASSERT_TRUE(d.egress) << target;
  }
  expect_refused(w.decide(req("GET", "https://evil.test/")), 403, refusal_kind::egress_denied);
  expect_refused(w.decide(req("GET", "https://statsig.anthropic.com/x")), 204,
                 refusal_kind::telemetry);
  // Where it is served, it is judged as in that host's tunnel: every intercepted host
  // refuses a reflecting method, as its tunnel does, rule or not.
  EXPECT_TRUE(forwarded(w.decide(req("GET", "https://svc.test:8080/x"))));
  const authority acme = auth("metrics.acme.test", 443);
  expect_refused(w.decide(req("TRACE", "/x", "metrics.acme.test"), &acme), 405,
                 refusal_kind::method_refused);
  expect_refused(w.decide(req("TRACE", "https://metrics.acme.test/x")), 405,
                 refusal_kind::method_refused);
}

TEST(route_decision, request_policy_sees_the_path_and_the_upgraded_port) {
  const world w(rules_yaml);
  auto d = w.decide(req("POST", "http://api.anthropic.com/api/event_logging/batch"));
  auto r = expect_refused(d, 204, refusal_kind::telemetry);  // telemetry.answer
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rule, "claude-event-logging");
  EXPECT_EQ(d.to->auth.port, 443);
  ASSERT_TRUE(d.egress);
  EXPECT_EQ(d.egress->what, verdict::kind::telemetry);
  r = expect_refused(w.decide(req("GET", "http://metrics.acme.test/v1//collect/x")), 204,
                     refusal_kind::telemetry);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rule, "acme");
  EXPECT_TRUE(forwarded(w.decide(req("GET", "http://metrics.acme.test/v1/other"))));
  const world answer403(rules("", "  answer: 403\n"));
  expect_refused(answer403.decide(req("GET", "http://statsig.anthropic.com/x")), 403,
                 refusal_kind::telemetry);
  const authority tunnel = auth("api.anthropic.com", 443);
  expect_refused(w.decide(req("POST", "/api/event_logging/batch"), &tunnel), 204,
                 refusal_kind::telemetry);
  d = w.decide(req("GET", "http://evil.test/x"));
  expect_refused(d, 403, refusal_kind::egress_denied);
  EXPECT_EQ(d.to->origin_form(), "/x");  // the access log names what was refused
  const world deny(rules("  default: deny\n  allow: [\"api.anthropic.com:443\"]\n"));
  EXPECT_TRUE(forwarded(deny.decide(req("POST", "http://api.anthropic.com/v1/messages"))));
  r = expect_refused(deny.decide(req("GET", "http://example.com/")), 403,
                     refusal_kind::egress_denied);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rule, "default-deny");
}

// "http://h?q" and "https://h?q" go up as "GET /?q": the policy, the rule and the access log
// judge that path, not an empty one that no prefix covers.
TEST(route_decision, a_query_without_a_path_is_judged_at_the_root) {
  const world w(R"(
secrets:
  k: { env: K }
credentials:
  - { name: root, host: api.test, paths: [/], headers: { x-api-key: "{{k}}" } }
telemetry:
  block: [ { name: all, host: t.test, path: / } ]
)");
  for (std::string_view target : {"http://t.test?x=1", "https://t.test?x=1", "https://t.test/?x"}) {
    const auto d = w.decide(req("GET", target));
    const auto r = expect_refused(d, 204, refusal_kind::telemetry);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->rule, "all");
    EXPECT_EQ(d.to->origin_form().front(), '/') << target;
  }
  for (std::string_view target : {"https://api.test?x=1", "https://api.test/?x=1"}) {
    const auto d = w.decide(req("GET", target));
    const auto f = forwarded(d);
    ASSERT_TRUE(f) << target;
    EXPECT_EQ(f->rule, 0u) << target;
    EXPECT_EQ(d.to->origin_form(), "/?x=1");
  }
}

TEST(route_decision, reflecting_methods_never_reach_a_credential_destination) {
  const world w(routes_yaml);
  const authority tunnel = auth("localhost", 8443);  // intercepted, though no rule names it
  const std::vector<std::pair<request_view, const authority*>> credentialed = {
      {req("TRACE", "/v1", "localhost:8443"), &tunnel},
      {req("track", "/anthropic/v1", "localhost"), nullptr},
      {req("TRACE", "/plain/x", "localhost"), nullptr},  // a route, though no rule names it
      {req("DEBUG", "http://api.anthropic.com/", "api.anthropic.com"), nullptr},
  };
  for (const auto& [r, t] : credentialed) {
    const auto d = w.decide(r, t);
    const auto x = expect_refused(d, 405, refusal_kind::method_refused);
    ASSERT_TRUE(x) << r.method;
    EXPECT_EQ(x->reason, "method_refused");
    EXPECT_EQ(x->allow, http::relayed_methods);
    EXPECT_NE(x->detail.find(std::string(r.method) + " is not relayed to "), std::string::npos);
  }
  // Elsewhere they are relayed; Max-Forwards: 0 ends OPTIONS and TRACE here.
  EXPECT_TRUE(forwarded(w.decide(req("TRACE", "http://example.com/"))));
  auto mf0 = req("TRACE", "http://example.com/");
  mf0.max_forwards = 0;
  const auto x = expect_refused(w.decide(mf0), 405, refusal_kind::method_refused);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->detail,
            "TRACE with Max-Forwards: 0 ends at airlock, which does not reflect requests");
  mf0.method = "OPTIONS";
  EXPECT_TRUE(std::holds_alternative<route_decision::answer_options>(w.decide(mf0).action));
  mf0.max_forwards = 1;
  EXPECT_TRUE(forwarded(w.decide(mf0)));
  // The policy comes first: a TRACE to a denied host is an egress refusal.
  expect_refused(w.decide(req("TRACE", "http://evil.test/")), 403, refusal_kind::egress_denied);
}

TEST(route_decision, the_first_matching_rule_in_file_order) {
  const world w(rules_yaml);
  const authority tunnel = auth("api.anthropic.com", 443);
  const auto rule_of = [&](std::string_view method, std::string_view target) {
    const auto d = w.decide(req(method, target, "api.anthropic.com"), &tunnel);
    const auto f = forwarded(d);
    return f ? f->rule : std::nullopt;
  };
  EXPECT_EQ(rule_of("POST", "/v1/messages"), 0u);
  EXPECT_EQ(rule_of("GET", "/v1/messages"), 1u);  // methods: [POST]
  EXPECT_EQ(rule_of("POST", "/v2/x"), 1u);        // paths: [/v1]
  EXPECT_EQ(rule_of("POST", "/v1/../x"), 1u);     // a doubtful path matches no path rule
  const authority other = auth("example.com", 443);
  const auto d = w.decide(req("GET", "/", "example.com"), &other);
  ASSERT_TRUE(forwarded(d));
  EXPECT_FALSE(std::get<route_decision::forward>(d.action).rule);
}

}  // namespace
}  // namespace airlock::proxy

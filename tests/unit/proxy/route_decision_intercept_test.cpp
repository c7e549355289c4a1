// Which CONNECTs are intercepted (interception_for): a credential rule's host, a host a
// telemetry entry names a path on (policy interception: its paths are judged inside the TLS,
// and no key goes there), and the doctor's check host, which airlock answers itself before
// every rule and the policy. Every other host stays a blind tunnel. Each attempt to dodge a
// path entry beside the request that passes.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "proxy/policy/check_host.hpp"
#include "proxy/policy/interception.hpp"
#include "proxy/tls/name_constraints.hpp"
#include "tests/unit/proxy/route_decision_world.hpp"

namespace airlock::proxy {
namespace {

using namespace decision_test;

const std::string tele_yaml = R"(
telemetry:
  block:
    - { name: tele, host: tele.test, path: /log }
    - { name: whole, host: whole.test }
)";

bool intercepted(const route_decision& d) {
  return std::holds_alternative<route_decision::intercept>(d.action);
}
bool tunnelled(const route_decision& d) {
  return std::holds_alternative<route_decision::tunnel>(d.action);
}

TEST(policy_interception, a_host_with_path_entries_is_intercepted_others_are_not) {
  const world w(tele_yaml);
  auto d = w.decide(req("CONNECT", "tele.test:443"));
  EXPECT_TRUE(intercepted(d));
  ASSERT_TRUE(d.egress);
  EXPECT_EQ(d.egress->what, verdict::kind::allow);  // the path is judged inside
  EXPECT_TRUE(intercepted(w.decide(req("CONNECT", "TELE.test.:443"))));
  // A whole-host entry still refuses the CONNECT; no entry at all: blind.
  const auto r =
      expect_refused(w.decide(req("CONNECT", "whole.test:443")), 403, refusal_kind::telemetry);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rule, "whole");
  EXPECT_TRUE(tunnelled(w.decide(req("CONNECT", "plain.test:443"))));
  EXPECT_TRUE(tunnelled(w.decide(req("CONNECT", "x.tele.test:443"))));
  EXPECT_TRUE(tunnelled(w.decide(req("CONNECT", "tele.test.evil.test:443"))));
  // The vendor defaults: Gemini's Clearcut and Codex's Statsig exporter are intercepted.
  EXPECT_TRUE(intercepted(w.decide(req("CONNECT", "play.googleapis.com:443"))));
  EXPECT_TRUE(intercepted(w.decide(req("CONNECT", "ab.chatgpt.com:443"))));
  EXPECT_TRUE(intercepted(w.decide(req("CONNECT", "chatgpt.com:443"))));
  EXPECT_TRUE(intercepted(w.decide(req("CONNECT", "cloudcode-pa.googleapis.com:443"))));
  EXPECT_TRUE(tunnelled(w.decide(req("CONNECT", "generativelanguage.googleapis.com:443"))));
  // An entry switched off, or the defaults off, leaves the host blind again.
  const world unblocked("telemetry: { unblock: [gemini-clearcut] }\n");
  EXPECT_TRUE(tunnelled(unblocked.decide(req("CONNECT", "play.googleapis.com:443"))));
  const world off("telemetry: { block_vendor_defaults: false }\n");
  EXPECT_TRUE(tunnelled(off.decide(req("CONNECT", "ab.chatgpt.com:443"))));
  // The egress policy comes first; without TLS state nothing is intercepted.
  const world denied(tele_yaml + "egress: { deny: [tele.test] }\n");
  expect_refused(denied.decide(req("CONNECT", "tele.test:443")), 403, refusal_kind::egress_denied);
  const world plain(tele_yaml, false);
  EXPECT_TRUE(tunnelled(plain.decide(req("CONNECT", "tele.test:443"))));
}

// Inside the tunnel the path entry sees every spelling a server would read as /log.
TEST(policy_interception, every_spelling_of_a_blocked_path_is_refused_inside) {
  const world w(tele_yaml);
  const authority tunnel = auth("tele.test", 443);
  for (std::string_view path :
       {"/log", "/LOG", "/log/", "//log", "/%6cog", "/%6Cog", "/%6C%6F%67", "/./log", "/x/../log",
        "/log;x", "/log?x=1", "/\\log", "/log/batch", "/logs"}) {
    SCOPED_TRACE(path);
    const auto d = w.decide(req("POST", path, "tele.test"), &tunnel);
    const auto r = expect_refused(d, 204, refusal_kind::telemetry);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rule, "tele");
    EXPECT_EQ(d.mode, traffic_mode::intercept);
  }
  for (std::string_view path : {"/", "/lo", "/v1/log", "/api/x?path=/log"}) {
    SCOPED_TRACE(path);
    const auto d = w.decide(req("POST", path, "tele.test"), &tunnel);
    const auto f = forwarded(d);
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->rule);  // nothing injected: no rule names the host
    EXPECT_TRUE(d.to->tls);
    EXPECT_EQ(d.to->auth, tunnel);
  }
  // The defaults the issue names, as Gemini CLI and Codex send them.
  const authority clearcut = auth("play.googleapis.com", 443);
  expect_refused(w.decide(req("POST", "/log?format=json_proto3", "play.googleapis.com"), &clearcut),
                 204, refusal_kind::telemetry);
  EXPECT_TRUE(forwarded(w.decide(req("GET", "/store/apps", "play.googleapis.com"), &clearcut)));
  const authority statsig = auth("ab.chatgpt.com", 443);
  expect_refused(w.decide(req("POST", "/otlp/v1/metrics", "ab.chatgpt.com"), &statsig), 204,
                 refusal_kind::telemetry);
  expect_refused(w.decide(req("POST", "/OTLP//v1/metrics", "ab.chatgpt.com"), &statsig), 204,
                 refusal_kind::telemetry);
  EXPECT_TRUE(forwarded(w.decide(req("POST", "/v1/initialize", "ab.chatgpt.com"), &statsig)));
  // The Host may only repeat the CONNECT's authority.
  expect_host_mismatch(w.decide(req("POST", "/v1", "evil.test"), &tunnel));
}

TEST(check_host, answered_before_the_policy_and_every_rule) {
  // A rule for the very name and one for its parent, both deny lists: none of them counts.
  const std::string yaml = R"(
secrets:
  anthropic: { env: ANTHROPIC_KEY }
credentials:
  - { name: grabber, host: "*.airlock.invalid", headers: { x-api-key: "{{anthropic}}" } }
  - { name: exact, host: doctor.airlock.invalid, headers: { x-api-key: "{{anthropic}}" } }
egress:
  default: deny
  deny: [doctor.airlock.invalid]
)";
  const world w(yaml);
  for (std::string_view target : {"doctor.airlock.invalid:443", "DOCTOR.Airlock.Invalid.:443",
                                  "doctor.airlock.invalid:8443"}) {
    SCOPED_TRACE(target);
    const auto d = w.decide(req("CONNECT", target));
    EXPECT_TRUE(intercepted(d));
    EXPECT_FALSE(d.egress);  // the policy was never asked: nothing leaves airlock
  }
  const authority tunnel = auth("doctor.airlock.invalid", 443);
  for (std::string_view method : {"GET", "HEAD", "POST", "TRACE"}) {
    const auto d = w.decide(req(method, "/x", "doctor.airlock.invalid"), &tunnel);
    EXPECT_TRUE(std::holds_alternative<route_decision::answer_check>(d.action)) << method;
    EXPECT_TRUE(d.to->tls);
    EXPECT_EQ(d.to->origin_form(), "/x");
    EXPECT_FALSE(d.egress);
  }
  const auto plain = w.decide(req("GET", "http://doctor.airlock.invalid/x"));
  EXPECT_TRUE(std::holds_alternative<route_decision::answer_check>(plain.action));
  EXPECT_FALSE(plain.to->tls);
  // Its Host check comes first, like everywhere.
  expect_host_mismatch(w.decide(req("GET", "/", "api.anthropic.com"), &tunnel));
  expect_host_mismatch(w.decide(req("GET", "http://doctor.airlock.invalid/", "evil.test")));
  // Names that only look like it are ordinary hosts (here refused by default deny).
  for (std::string_view target : {"doctor.airlock.invalid.evil.test:443",
                                  "x.doctor.airlock.invalid:443", "airlock.invalid:443"}) {
    SCOPED_TRACE(target);
    expect_refused(w.decide(req("CONNECT", target)), 403, refusal_kind::egress_denied);
  }
  // Without a CA it cannot be answered: refused, never relayed blind.
  const world no_ca(yaml, false);
  expect_refused(no_ca.decide(req("CONNECT", "doctor.airlock.invalid:443")), 503,
                 refusal_kind::other);
}

TEST(check_host, a_reverse_route_never_answers_it) {
  std::string yaml = routes_yaml;
  yaml.replace(yaml.find("airlock.internal"), 16, "doctor.airlock.invalid");
  const world w(yaml);
  const auto d = w.decide(req("GET", "/nothing", "doctor.airlock.invalid"));
  expect_refused(d, 404, refusal_kind::route_not_found);
}

std::set<std::string> names_of(const std::string& yaml) {
  const config::config cfg = config::load_string(yaml, "t.yaml");
  const policy p(cfg);
  const auto names = interception_names(cfg, p);
  return {names.begin(), names.end()};
}

// The CA may vouch for exactly the names interception_for can intercept.
TEST(interception_names, credential_hosts_path_entry_hosts_and_the_check_host) {
  EXPECT_EQ(names_of(rules_yaml),
            (std::set<std::string>{"api.anthropic.com", "svc.test", "metrics.acme.test",
                                   "ab.chatgpt.com", "chatgpt.com", "play.googleapis.com",
                                   "cloudcode-pa.googleapis.com", "doctor.airlock.invalid"}));
  // Whole-host entries are refused at the CONNECT: never intercepted, never in the list.
  EXPECT_EQ(names_of("telemetry: { block_vendor_defaults: false, block: [ { name: w, host: "
                     "w.test } ] }\n"),
            std::set<std::string>{"doctor.airlock.invalid"});
  EXPECT_EQ(names_of("telemetry:\n  block_vendor_defaults: false\n  block: [ { name: t, host: "
                     "\"*.t.test\", path: /x } ]\n"),
            (std::set<std::string>{"*.t.test", "doctor.airlock.invalid"}));
  const auto unblocked = names_of(
      "telemetry: { unblock: [gemini-clearcut, codex-statsig-otlp, codex-analytics-events] }\n");
  EXPECT_EQ(unblocked.count("play.googleapis.com"), 0u);
  EXPECT_EQ(unblocked.count("ab.chatgpt.com"), 0u);
  EXPECT_EQ(unblocked.count("chatgpt.com"), 0u);
  EXPECT_EQ(unblocked.count("api.anthropic.com"), 1u);

  // As the CA's constraints: the embedded default's exact list.
  const config::config cfg = config::embedded_default();
  const policy p(cfg);
  const auto names = interception_names(cfg, p);
  EXPECT_EQ(intercept::scope_for_hosts(names).dns,
            (std::vector<std::string>{"ab.chatgpt.com", "api.anthropic.com", "chatgpt.com",
                                      "cloudcode-pa.googleapis.com", "doctor.airlock.invalid",
                                      "play.googleapis.com"}));
  EXPECT_TRUE(intercept::scope_for_hosts(names).ips.empty());
}

TEST(interception_names, every_intercepted_host_is_in_the_list) {
  const config::config cfg = config::load_string(rules_yaml, "t.yaml");
  const policy p(cfg);
  const auto names = interception_names(cfg, p);
  for (const auto& [host, port] :
       std::vector<std::pair<std::string, std::uint16_t>>{{"api.anthropic.com", 443},
                                                          {"svc.test", 8080},
                                                          {"metrics.acme.test", 443},
                                                          {"play.googleapis.com", 443},
                                                          {"doctor.airlock.invalid", 443}}) {
    SCOPED_TRACE(host);
    EXPECT_NE(interception_for(cfg, p, host, port), interception::none);
    EXPECT_NE(std::find(names.begin(), names.end(), host), names.end());
  }
  EXPECT_EQ(interception_for(cfg, p, "doctor.airlock.invalid", 443), interception::check);
  EXPECT_EQ(interception_for(cfg, p, "svc.test", 8080), interception::credential);
  EXPECT_EQ(interception_for(cfg, p, "metrics.acme.test", 443), interception::policy);
  EXPECT_EQ(interception_for(cfg, p, "example.com", 443), interception::none);
}

}  // namespace
}  // namespace airlock::proxy

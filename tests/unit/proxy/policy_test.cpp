// The egress decision and the SSRF address classes, table-driven, attacker spellings
// included.

#include "proxy/policy/policy.hpp"

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config/request_path.hpp"
#include "config/telemetry_defaults.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/policy/private_address.hpp"

namespace airlock::proxy {
namespace {

config::config load(const std::string& yaml) {
  return config::load_string(yaml, "p.yaml");
}

// The host as authority parsing hands it to the policy.
std::string host_of(const std::string& authority_text) {
  return parse_authority_form(authority_text)->host;
}

TEST(policy, vendor_telemetry_is_blocked_by_default) {
  const auto cfg = load("");
  const policy p(cfg);
  auto v = p.decide("statsig.anthropic.com", 443, std::nullopt);
  EXPECT_EQ(v.what, verdict::kind::telemetry);
  EXPECT_EQ(v.rule, "claude-statsig");
  v = p.decide("o1158394.ingest.us.sentry.io", 443, std::nullopt);
  EXPECT_EQ(v.what, verdict::kind::telemetry);
  EXPECT_EQ(v.rule, "sentry-ingest-us");
  EXPECT_EQ(p.decide("sentry.io", 443, std::nullopt).what, verdict::kind::allow);
  EXPECT_EQ(p.telemetry_answer(), 204);
}

TEST(policy, shared_hosts_are_blocked_by_path_only) {
  const auto cfg = load("");
  const policy p(cfg);
  // The CONNECT to the API host goes through: its path is not known yet.
  EXPECT_EQ(p.decide("api.anthropic.com", 443, std::nullopt).what, verdict::kind::allow);
  EXPECT_EQ(p.decide("api.anthropic.com", 443, "/v1/messages").what, verdict::kind::allow);
  EXPECT_EQ(p.decide("api.anthropic.com", 443, "/api/event_logging/batch").rule,
            "claude-event-logging");
  EXPECT_EQ(p.decide("api.anthropic.com", 443, "/api/event_logging/v2/batch?x=1").rule,
            "claude-event-logging");
  EXPECT_EQ(p.decide("api.anthropic.com", 443, "/api/claude_code/settings").what,
            verdict::kind::allow);
  EXPECT_EQ(p.decide("play.googleapis.com", 443, "/log?format=json").rule, "gemini-clearcut");
}

// A server reads each of these as /api/event_logging/batch: the entry compares the
// widest normal form, so none of them slips past it; real API paths still pass.
TEST(policy, attacker_telemetry_path_spellings_are_blocked) {
  const auto cfg = load("");
  const policy p(cfg);
  for (const char* path : {
           "/api//event_logging/batch",
           "//api/event_logging/batch",
           "/api/./event_logging/batch",
           "/api/x/../event_logging/batch",
           "/api/%65vent_logging/batch",
           "/%61%70%69/event_logging/batch",
           "/api/event_logging%2Fbatch",
           "/api%2F.%2Fevent_logging/batch",
           "/api\\event_logging\\batch",
           "/api;jsessionid=1/event_logging/batch",
           "/api/x/..;/event_logging/batch",
           "/API/Event_Logging/batch",
           "/api/event_logging/batch?x=/v1/messages",
       }) {
    EXPECT_EQ(p.decide("api.anthropic.com", 443, std::string_view(path)).rule,
              "claude-event-logging")
        << path;
  }
  for (const char* path : {"/v1/messages", "/api/event_loggingx", "/v1/api/event_logging/x",
                           "/api/%2E%2E/v1/messages", "/v1/messages?p=/api/event_logging/"}) {
    EXPECT_EQ(p.decide("api.anthropic.com", 443, std::string_view(path)).what, verdict::kind::allow)
        << path;
  }
  EXPECT_EQ(p.decide("cloudcode-pa.googleapis.com", 443,
                     std::string_view("/v1internal%3ArecordCodeAssistMetrics"))
                .rule,
            "gemini-codeassist-metrics");
}

// Every default path entry is already in the form requests are compared in.
TEST(policy, default_path_entries_are_in_normal_form) {
  for (const auto& e : config::vendor_telemetry_defaults()) {
    if (!e.path_prefix.empty()) {
      EXPECT_EQ(config::prefix_problem(e.path_prefix, config::path_decoding::all), "") << e.name;
    }
  }
}

TEST(policy, defaults_can_be_switched_off_and_extended) {
  const auto cfg = load(
      "telemetry:\n"
      "  unblock: [claude-statsig]\n"
      "  block: [ { name: acme, host: \"*.acme.test\" } ]\n");
  const policy p(cfg);
  EXPECT_EQ(p.decide("statsig.anthropic.com", 443, std::nullopt).what, verdict::kind::allow);
  EXPECT_EQ(p.decide("m.acme.test", 443, std::nullopt).rule, "acme");
  const auto off = load("telemetry: { block_vendor_defaults: false }\n");
  const policy none(off);
  EXPECT_EQ(none.decide("statsig.anthropic.com", 443, std::nullopt).what, verdict::kind::allow);
  EXPECT_TRUE(none.telemetry().empty());
}

TEST(policy, deny_by_default_with_an_allow_list) {
  const auto cfg = load(
      "egress:\n"
      "  default: deny\n"
      "  allow: [api.anthropic.com, \"*.github.com\", \"example.com:8443\"]\n");
  const policy p(cfg);
  EXPECT_EQ(p.decide("api.anthropic.com", 443, std::nullopt).what, verdict::kind::allow);
  EXPECT_EQ(p.decide("codeload.github.com", 443, std::nullopt).what, verdict::kind::allow);
  EXPECT_EQ(p.decide("github.com", 443, std::nullopt).what, verdict::kind::denied);
  EXPECT_EQ(p.decide("example.com", 8443, std::nullopt).what, verdict::kind::allow);
  const auto v = p.decide("example.com", 443, std::nullopt);
  EXPECT_EQ(v.what, verdict::kind::denied);
  EXPECT_EQ(v.rule, "default-deny");
  EXPECT_EQ(p.decide("api.anthropic.com.evil.test", 443, std::nullopt).what, verdict::kind::denied);
}

TEST(policy, attacker_spellings_of_a_denied_address_are_denied) {
  const auto cfg = load("egress:\n  deny: [169.254.169.254, \"[fd00:ec2::254]\"]\n");
  const policy p(cfg);
  for (const std::string spelled :
       {"169.254.169.254:80", "2852039166:80", "0xa9fea9fe:80", "0251.0376.0251.0376:80",
        "169.254.43518:80", "0xA9.0xFE.0xA9.0xFE:80", "[::ffff:169.254.169.254]:80",
        "[::ffff:a9fe:a9fe]:80", "[fd00:ec2:0::254]:80", "[FD00:EC2::254]:80"}) {
    const auto auth = parse_authority_form(spelled);
    ASSERT_TRUE(auth) << spelled;
    EXPECT_EQ(p.decide(auth->host, auth->port, std::nullopt).what, verdict::kind::denied)
        << spelled;
  }
}

TEST(policy, attacker_case_and_trailing_dot_do_not_pass_the_deny_list) {
  const auto cfg = load("egress:\n  deny: [\"*.evil.test\", evil.test]\n");
  const policy p(cfg);
  for (const std::string spelled : {"EVIL.test:443", "evil.test.:443", "a.EVIL.TEST.:443"}) {
    EXPECT_EQ(p.decide(host_of(spelled), 443, std::nullopt).what, verdict::kind::denied) << spelled;
  }
}

TEST(policy, report_only_lets_denials_through_marked) {
  const auto cfg = load("egress:\n  default: deny\n  report_only: true\n");
  const policy p(cfg);
  const auto v = p.decide("example.com", 443, std::nullopt);
  EXPECT_EQ(v.what, verdict::kind::allow);
  EXPECT_TRUE(v.report_only);
  EXPECT_EQ(v.rule, "default-deny");
  // Telemetry is not part of the egress rollout: still blocked.
  EXPECT_EQ(p.decide("statsig.anthropic.com", 443, std::nullopt).what, verdict::kind::telemetry);
}

TEST(policy, blocked_telemetry_is_counted_per_entry) {
  const auto cfg = load("");
  const policy p(cfg);
  const auto v = p.decide("statsig.anthropic.com", 443, std::nullopt);
  p.count_blocked(v.entry);
  p.count_blocked(v.entry);
  EXPECT_EQ(p.blocked(v.entry), 2u);
}

std::optional<std::string_view> cls(const char* text) {
  return address_class(asio::ip::make_address(text));
}

TEST(address_class, private_and_special_ranges) {
  struct c {
    const char* address;
    const char* cls;
  };
  for (const auto& x : {c{"127.0.0.1", "loopback"},
                        c{"127.255.255.254", "loopback"},
                        c{"::1", "loopback"},
                        c{"10.1.2.3", "private"},
                        c{"172.16.0.1", "private"},
                        c{"172.31.255.255", "private"},
                        c{"192.168.1.1", "private"},
                        c{"169.254.169.254", "metadata"},
                        c{"169.254.1.1", "link-local"},
                        c{"fe80::1", "link-local"},
                        c{"fd00:ec2::254", "metadata"},
                        c{"fd12:3456::1", "unique-local"},
                        c{"fc00::1", "unique-local"},
                        c{"100.64.0.1", "cgnat"},
                        c{"100.127.255.255", "cgnat"},
                        c{"224.0.0.1", "multicast"},
                        c{"ff02::1", "multicast"},
                        c{"0.0.0.0", "unspecified"},
                        c{"::", "unspecified"},
                        c{"255.255.255.255", "reserved"},
                        c{"::ffff:169.254.169.254", "metadata"},
                        c{"::ffff:10.0.0.1", "private"},
                        c{"64:ff9b::a9fe:a9fe", "metadata"},
                        c{"64:ff9b::7f00:1", "loopback"}}) {
    EXPECT_EQ(cls(x.address), std::optional<std::string_view>(x.cls)) << x.address;
  }
  for (const char* pub : {"1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111",
                          "::ffff:1.1.1.1", "160.79.104.10"}) {
    EXPECT_FALSE(cls(pub)) << pub;
  }
}

TEST(blocked_class, allow_private_opens_ranges) {
  const auto cfg = load("egress:\n  allow_private: [10.0.0.0/8, \"fd00::/8\", 127.0.0.1]\n");
  const auto& allowed = cfg.egress.allow_private;
  const auto blocked = [&](const char* a) {
    return blocked_class(asio::ip::make_address(a), allowed);
  };
  EXPECT_FALSE(blocked("10.9.8.7"));
  EXPECT_FALSE(blocked("::ffff:10.9.8.7"));
  EXPECT_FALSE(blocked("fd12::1"));
  EXPECT_FALSE(blocked("127.0.0.1"));
  EXPECT_TRUE(blocked("127.0.0.2"));
  EXPECT_TRUE(blocked("192.168.0.1"));
  EXPECT_TRUE(blocked("169.254.169.254"));
}

}  // namespace
}  // namespace airlock::proxy

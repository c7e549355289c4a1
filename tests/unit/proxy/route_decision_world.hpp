#pragma once
// What the route_decision tests share: a configuration with rules, routes, a denied host and
// a telemetry entry, the policy made from it, and short ways to build and check decisions.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "config/load.hpp"
#include "proxy/http/intermediary.hpp"
#include "proxy/policy/route_decision.hpp"

namespace airlock::proxy::decision_test {

// Rules, a denied host and a telemetry entry with a path; egress and telemetry take more.
inline std::string rules(const std::string& egress = "", const std::string& telemetry = "") {
  return R"(
secrets:
  anthropic: { env: ANTHROPIC_KEY }
credentials:
  - { name: messages, host: api.anthropic.com, paths: [/v1], methods: [POST], headers: { x-api-key: "{{anthropic}}" } }
  - { name: anthropic, host: api.anthropic.com, headers: { x-api-key: "{{anthropic}}" } }
  - { name: svc, host: svc.test, port: 8080, headers: { x-api-key: "{{anthropic}}" } }
egress:
  deny: [evil.test]
)" + egress +
         R"(
telemetry:
  block: [ { name: acme, host: metrics.acme.test, path: /v1/collect } ]
)" + telemetry;
}

inline const std::string rules_yaml = rules();
inline const std::string routes_yaml = rules_yaml + R"(
proxy: { route_hosts: [airlock.internal] }
routes:
  - { prefix: /anthropic, upstream: https://api.anthropic.com }
  - { prefix: /plain, upstream: http://plain.test:8080/base }
  - { prefix: /svc, upstream: http://svc.test:8080 }
)";

// A configuration and the policy made from it, as a worker holds them.
class world {
 public:
  explicit world(const std::string& yaml, bool tls = true)
      : cfg_(config::load_string(yaml, "t.yaml")), egress_(cfg_), in_{cfg_, egress_, tls} {}

  route_decision decide(const request_view& req, const authority* tunnel = nullptr) const {
    return decide_route(req, tunnel, in_);
  }

 private:
  config::config cfg_;
  policy egress_;
  decision_inputs in_;
};

inline request_view req(std::string_view method, std::string_view target,
                        std::optional<std::string_view> host = std::nullopt) {
  request_view v;
  v.method = method;
  v.target = target;
  v.host = host;
  return v;
}

inline authority auth(std::string host, std::uint16_t port) {
  return authority{std::move(host), port, false};
}

inline const refusal* refused(const route_decision& d) {
  return std::get_if<refusal>(&d.action);
}

// A copy of the refusal, checked for its status and kind; nullopt (and a failure) otherwise.
// Copies, so a check of a temporary decision leaves nothing dangling.
inline std::optional<refusal> expect_refused(const route_decision& d, int status,
                                             refusal_kind kind) {
  const refusal* r = refused(d);
  EXPECT_TRUE(r != nullptr) << "not refused";
  if (r == nullptr) {
    return std::nullopt;
  }
  EXPECT_EQ(r->status, status) << r->detail;
  EXPECT_EQ(r->kind, kind) << r->detail;
  return *r;
}

// The one answer to a Host that disagrees, wherever it was checked; returns its detail.
inline std::string expect_host_mismatch(const route_decision& d) {
  const auto r = expect_refused(d, 400, refusal_kind::host_mismatch);
  if (!r) {
    return {};
  }
  EXPECT_EQ(r->error_type, "http_request_error");
  EXPECT_EQ(r->reason, "host_mismatch");
  EXPECT_EQ(classify(*r), refusal_kind::host_mismatch);  // as the connection counts it
  EXPECT_FALSE(d.to);      // refused before anything about the destination was decided
  EXPECT_FALSE(d.egress);  // nor was the policy asked
  return r->detail;
}

// A copy of the forward action; nullopt (and a failure) for anything else.
inline std::optional<route_decision::forward> forwarded(const route_decision& d) {
  const auto* f = std::get_if<route_decision::forward>(&d.action);
  EXPECT_TRUE(f != nullptr) << (refused(d) != nullptr ? refused(d)->detail : "not forward");
  return f != nullptr ? std::optional(*f) : std::nullopt;
}

}  // namespace airlock::proxy::decision_test

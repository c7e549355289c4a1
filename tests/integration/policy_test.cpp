// The egress policy on the wire: vendor telemetry answered at once, the event-logging
// path blocked on a host whose API still works, deny by default with an allow list,
// the metadata address refused however it is written or resolved, report-only rollout,
// and answers that say why.

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

class policy_test : public intercept_test {
 protected:
  // One raw request; the response (nullopt when the connection closed without one).
  std::optional<http_response> ask(const std::string& request) {
    auto client = connect();
    if (!client->send(request)) {
      return std::nullopt;
    }
    return client->read_response(5s,
                                 request.rfind("CONNECT", 0) == 0 || request.rfind("HEAD", 0) == 0);
  }
};

TEST_F(policy_test, TelemetryConnectIsRefusedAtOnceAndSaysWhy) {
  start_airlock();
  std::vector<double> ms;
  for (int i = 0; i < 30; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = ask(
        "CONNECT statsig.anthropic.com:443 HTTP/1.1\r\nHost: statsig.anthropic.com:443\r\n\r\n");
    ms.push_back(seconds_since(start) * 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    EXPECT_EQ(r->header("x-airlock-reason"), "telemetry_blocked rule=claude-statsig");
  }
  std::sort(ms.begin(), ms.end());
  EXPECT_LT(ms[ms.size() / 2], 5.0) << "median ms per blocked CONNECT";

  const auto r = curl({"-s", "-o", "/dev/null", "-w", "%{http_connect}",
                       "https://o1158394.ingest.us.sentry.io/api/1/envelope/"});
  EXPECT_NE(r.exit_code, 0);  // curl gives up on a refused CONNECT: no hang, no retry
  EXPECT_EQ(r.out, "403") << r.err;
}

TEST_F(policy_test, TelemetryRefusalIsJsonWhenTheClientAcceptsIt) {
  start_airlock();
  const auto r =
      ask("GET http://play.googleapis.com/log?format=json HTTP/1.1\r\nHost: play.googleapis.com\r\n"
          "Accept: application/json\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);  // "done": a client does not retry a 204
  EXPECT_EQ(r->header("x-airlock-reason"), "telemetry_blocked rule=gemini-clearcut");
  const auto denied =
      ask("CONNECT api.segment.io:443 HTTP/1.1\r\nHost: api.segment.io:443\r\nAccept: "
          "application/json\r\n\r\n");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
}

// Claude Code's event logging shares api.anthropic.com with the API: blocked by path on
// the intercepted host, while /v1/messages goes through with its credential.
TEST_F(policy_test, EventLoggingPathIsBlockedWhileMessagesPass) {
  auto up = start_upstream(mint_leaf(pki_, "anthropic", {"DNS:api.anthropic.com"}));
  const std::string authority = "api.anthropic.com:" + std::to_string(up->port());
  airlock_settings settings;
  settings.resolve[authority] = up->address();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { host: api.anthropic.com, port: " + std::to_string(up->port()) +
                         ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}}, settings);

  auto r =
      fetch({"-i", "-d", "{\"events\":[]}", "https://" + authority + "/api/event_logging/batch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 204);
  EXPECT_NE(r.body.find("X-Airlock-Reason: telemetry_blocked rule=claude-event-logging"),
            std::string::npos)
      << r.body;
  r = fetch({"-d", "{}", "https://" + authority + "/v1/messages"});
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(request_line(up->requests()[0]), "POST /v1/messages HTTP/1.1");
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
}

// Each of these is /api/event_logging/batch to a server that normalises the path: the
// telemetry entry compares the normalised form, so none of them reaches the upstream.
// The rule names no port: api.anthropic.com:443, mapped to the test upstream.
TEST_F(policy_test, AttackerEventLoggingSpellingsAreBlocked) {
  auto up = start_upstream(mint_leaf(pki_, "anthropic", {"DNS:api.anthropic.com"}));
  airlock_settings settings;
  settings.resolve["api.anthropic.com:443"] = up->address();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { host: api.anthropic.com, headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}}, settings);

  for (const std::string path :
       {"/api//event_logging/batch", "/api/./event_logging/batch", "/api/%65vent_logging/batch",
        "/api/x/../event_logging/batch", "/api;x/event_logging/batch", "/api/event_logging%2Fbatch",
        "/API/Event_Logging/batch", "//api/event_logging/v2/batch"}) {
    SCOPED_TRACE(path);
    const auto r =
        fetch({"--path-as-is", "-i", "-d", "{\"events\":[]}", "https://api.anthropic.com" + path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.status, 204) << r.body;
    EXPECT_NE(r.body.find("X-Airlock-Reason: telemetry_blocked rule=claude-event-logging"),
              std::string::npos)
        << r.body;
  }
  EXPECT_EQ(up->requests().size(), 0u);
  const auto ok = fetch({"-d", "{}", "https://api.anthropic.com/v1/messages"});
  EXPECT_EQ(ok.status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
}

TEST_F(policy_test, DenyByDefaultWithAnAllowList) {
  recording_server up;
  airlock_settings settings;
  settings.resolve["allowed.test:80"] = up.authority();
  settings.resolve["other.test:80"] = up.authority();
  settings.egress_yaml = "  default: deny\n  allow: [allowed.test]\n";
  start_airlock(settings);

  auto r = curl({"-s", "-w", "\n%{http_code}", "http://allowed.test/x"});
  EXPECT_NE(r.out.find("\n200"), std::string::npos) << r.out;
  r = curl({"-s", "-H", "Accept: application/json", "-w", "\n%{http_code}", "http://other.test/x"});
  EXPECT_NE(r.out.find("\n403"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("{\"error\":\"egress_denied\",\"rule\":\"default-deny\""), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"retry\":false"), std::string::npos) << r.out;
  const auto c = ask("CONNECT other.test:443 HTTP/1.1\r\nHost: other.test:443\r\n\r\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 403);
  EXPECT_EQ(c->header("x-airlock-reason"), "egress_denied rule=default-deny");
  EXPECT_EQ(up.requests().size(), 1u);
}

TEST_F(policy_test, MetadataAddressIsRefusedHoweverItIsWritten) {
  airlock_settings settings;
  settings.allow_loopback = false;
  start_airlock(settings);
  for (const std::string target :
       {"http://169.254.169.254/latest/meta-data/", "http://2852039166/latest/",
        "http://0xa9fea9fe/latest/", "http://0251.0376.0251.0376/latest/",
        "http://169.254.43518/latest/", "http://[::ffff:169.254.169.254]/latest/",
        "http://[fd00:ec2::254]/latest/"}) {
    const auto r = curl({"-s", "-g", "-i", target});
    EXPECT_NE(r.out.find("HTTP/1.1 403"), std::string::npos) << target << "\n" << r.out;
    EXPECT_NE(r.out.find("X-Airlock-Reason: private_address rule=metadata"), std::string::npos)
        << target << "\n"
        << r.out;
  }
  // Percent-encoding has no place in a host: refused before any lookup.
  const auto encoded =
      ask("GET http://%31%36%39.254.169.254/ HTTP/1.1\r\nHost: %31%36%39.254.169.254\r\n\r\n");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->status, 400);
  for (const std::string target :
       {"169.254.169.254:80", "2852039166:443", "[::ffff:a9fe:a9fe]:443"}) {
    const auto r = ask("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 403) << target;
  }
}

TEST_F(policy_test, NameResolvingToAPrivateAddressIsRefused) {
  recording_server up;
  airlock_settings settings;
  settings.allow_loopback = false;
  settings.resolve["trusted.test:" + std::to_string(up.port())] = up.authority();
  start_airlock(settings);
  // "localhost" is a name that resolves to loopback: refused after the lookup.
  auto r = curl({"-s", "-i", "http://localhost:" + std::to_string(up.port()) + "/x"});
  EXPECT_NE(r.out.find("HTTP/1.1 403"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rule=loopback"), std::string::npos) << r.out;
  EXPECT_EQ(up.connections(), 0u);
  // resolve: overrides are the operator's word, and pass.
  r = curl(
      {"-s", "-w", "\n%{http_code}", "http://trusted.test:" + std::to_string(up.port()) + "/x"});
  EXPECT_NE(r.out.find("\n200"), std::string::npos) << r.out;
}

TEST_F(policy_test, AirlocksOwnListenersAreNeverADestination) {
  // With a token, so the TCP admin listener is open too.
  write_file(scratch("admin-token"), "tok-ADMIN-0f3e9b27c6d14a58\n");
  airlock_settings settings;
  settings.admin_token_file = scratch("admin-token").string();
  start_airlock(settings);  // loopback allowed for test upstreams, not for airlock itself
  ASSERT_NE(airlock().admin_port(), 0);
  for (const auto port : {airlock().port(), airlock().admin_port(), airlock().metrics_port()}) {
    const std::string target = "127.0.0.1:" + std::to_string(port);
    const auto r = ask("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << target;
    EXPECT_EQ(r->header("x-airlock-reason"), "private_address rule=airlock-itself");
  }
}

TEST_F(policy_test, ReportOnlyPassesTrafficAndLogsIt) {
  recording_server up;
  airlock_settings settings;
  settings.resolve["other.test:80"] = up.authority();
  settings.egress_yaml = "  default: deny\n  report_only: true\n";
  start_airlock(settings);
  const auto r = curl({"-s", "-w", "\n%{http_code}", "http://other.test/x"});
  EXPECT_NE(r.out.find("\n200"), std::string::npos) << r.out;
  EXPECT_EQ(up.requests().size(), 1u);
  EXPECT_NE(
      airlock_output().find("egress report-only: other.test:80 would be refused by default-deny"),
      std::string::npos);
}

}  // namespace
}  // namespace airlock::test

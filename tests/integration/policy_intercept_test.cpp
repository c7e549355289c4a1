// Policy interception on the wire (issue 19, failure 2): a host that a telemetry entry names
// a path on is intercepted although no credential rule names it, so the path is judged
// inside the TLS: every spelling of the path is answered by airlock, another path reaches
// the upstream through interception with the agent's own fields and nothing added. A host
// with only whole-host entries still gets CONNECT 403; a host with no entry stays a blind
// tunnel. The workspace CA vouches for exactly the intercepted names. Every upstream is on
// loopback through resolve:, so a regression cannot send a packet out.

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

class policy_intercept_test : public intercept_test {
 protected:
  const std::string telemetry_ =
      "telemetry:\n"
      "  block:\n"
      "    - { name: tele, host: tele.test, path: /log }\n"
      "    - { name: whole, host: whole.test }\n";

  // The name constraints of the CA airlock exported, as openssl prints them.
  std::string exported_constraints() {
    const auto r = run_command({"/usr/bin/openssl", "x509", "-in", airlock_ca().string(), "-noout",
                                "-ext", "nameConstraints"},
                               tmp_.path(), "constraints", 10s);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
};

TEST_F(policy_intercept_test, EverySpellingOfThePathIsAnsweredAndOtherPathsPass) {
  auto up = start_upstream(mint_leaf(pki_, "tele", {"DNS:tele.test"}));
  airlock_settings settings;
  settings.resolve["tele.test:443"] = up->address();
  settings.extra_yaml = tls_yaml() + telemetry_;
  start_airlock(settings);

  for (const std::string path : {"/log", "/LOG", "/log/", "//log", "/%6cog", "/%6C%6F%67", "/./log",
                                 "/x/../log", "/log;x", "/log?x=1", "/log/batch"}) {
    SCOPED_TRACE(path);
    const auto r = fetch({"--path-as-is", "-i", "-d", "{}", "https://tele.test" + path});
    ASSERT_EQ(r.exit_code, 0) << r.err;  // airlock's CA vouches for tele.test
    EXPECT_EQ(r.status, 204) << r.body;
    EXPECT_NE(r.body.find("X-Airlock-Reason: telemetry_blocked rule=tele"), std::string::npos)
        << r.body;
  }
  EXPECT_EQ(up->requests().size(), 0u);

  // Another path goes up through the interception: the agent's own key, nothing added.
  const auto r = fetch({"-H", "Authorization: Bearer agent-own-key", "-H", "X-Api-Key: own",
                        "https://tele.test/v1/other"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  const std::string seen = up->requests()[0];
  EXPECT_EQ(request_line(seen), "GET /v1/other HTTP/1.1");
  EXPECT_EQ(field_values(seen, "authorization"), strings{"Bearer agent-own-key"});
  EXPECT_EQ(field_values(seen, "x-api-key"), strings{"own"});
  const std::string log = airlock().stdout_text() + airlock().stderr_text();
  EXPECT_NE(log.find("mode=intercept method=GET authority=tele.test:443 path=/v1/other "
                     "status=200"),
            std::string::npos)
      << log;
}

TEST_F(policy_intercept_test, WholeHostEntriesStillRefuseTheConnectAndOtherHostsStayBlind) {
  auto blind = start_upstream(mint_leaf(pki_, "plain", {"DNS:plain.test", "DNS:whole.test"}));
  airlock_settings settings;
  settings.resolve["plain.test:443"] = blind->address();
  settings.resolve["whole.test:443"] = blind->address();
  settings.extra_yaml = tls_yaml() + telemetry_;
  start_airlock(settings);

  auto client = connect();
  ASSERT_TRUE(client->send("CONNECT whole.test:443 HTTP/1.1\r\nHost: whole.test:443\r\n\r\n"));
  const auto refused = client->read_response(5s, true);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(refused->header("x-airlock-reason"), "telemetry_blocked rule=whole");

  // Blind: airlock's CA cannot verify what answers, the upstream's own CA can, so no one
  // terminated the TLS in between.
  const auto mitm = fetch({"https://plain.test/x"});
  EXPECT_NE(mitm.exit_code, 0);
  EXPECT_EQ(blind->requests().size(), 0u);
  const auto direct = split_status(
      curl({"--cacert", pki_.ca_cert.string(), "-w", "\n%{http_code}", "https://plain.test/x"}));
  EXPECT_EQ(direct.status, 200) << direct.err;
  EXPECT_EQ(blind->requests().size(), 1u);
  const std::string log = airlock().stdout_text() + airlock().stderr_text();
  EXPECT_NE(log.find("mode=tunnel method=CONNECT authority=plain.test:443"), std::string::npos)
      << log;

  // The CA vouches for the intercepted names only: tele.test (a path entry), the check host
  // and the vendor defaults with paths; never a whole-host entry or a blind host.
  const std::string nc = exported_constraints();
  for (const char* name : {"DNS:tele.test", "DNS:doctor.airlock.invalid", "DNS:play.googleapis.com",
                           "DNS:ab.chatgpt.com"}) {
    EXPECT_NE(nc.find(name), std::string::npos) << name << "\n" << nc;
  }
  for (const char* name : {"whole.test", "plain.test", "statsig"}) {
    EXPECT_EQ(nc.find(name), std::string::npos) << name << "\n" << nc;
  }
}

// The default list blocks Gemini CLI's Clearcut log and Codex's Statsig OTLP metrics over
// CONNECT, where before they left through blind tunnels; the hosts' other paths still work.
TEST_F(policy_intercept_test, DefaultTelemetryOfGeminiAndCodexIsBlockedOverConnect) {
  auto up =
      start_upstream(mint_leaf(pki_, "vendors", {"DNS:play.googleapis.com", "DNS:ab.chatgpt.com"}));
  airlock_settings settings;
  settings.resolve["play.googleapis.com:443"] = up->address();
  settings.resolve["ab.chatgpt.com:443"] = up->address();
  settings.extra_yaml = tls_yaml();
  start_airlock(settings);

  auto r = fetch({"-i", "-d", "x", "https://play.googleapis.com/log?format=json_proto3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 204);
  EXPECT_NE(r.body.find("X-Airlock-Reason: telemetry_blocked rule=gemini-clearcut"),
            std::string::npos)
      << r.body;
  r = fetch({"-i", "-d", "x", "https://ab.chatgpt.com/otlp/v1/metrics"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 204);
  EXPECT_NE(r.body.find("X-Airlock-Reason: telemetry_blocked rule=codex-statsig-otlp"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(up->requests().size(), 0u);
  r = fetch({"https://play.googleapis.com/store"});
  EXPECT_EQ(r.status, 200) << r.err;
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(request_line(up->requests()[0]), "GET /store HTTP/1.1");
  EXPECT_EQ(metric("airlock_telemetry_blocked_total{entry=\"gemini-clearcut\"}"), 1);
}

}  // namespace
}  // namespace airlock::test

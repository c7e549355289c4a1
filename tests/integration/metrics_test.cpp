// /metrics scraped and parsed: counters move by exactly what each kind of request does,
// and nothing a client sends (hosts, paths, methods) adds a series.

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

using series_map = std::map<std::string, double>;

class metrics_test : public intercept_test {
 protected:
  // Every sample line: "name{labels}" -> value.
  series_map scrape() {
    const auto r = run_curl(
        tmp_.path(), {"http://127.0.0.1:" + std::to_string(airlock().metrics_port()) + "/metrics"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    series_map out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') {
        continue;
      }
      const auto space = line.rfind(' ');
      out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return out;
  }

  static double delta(const series_map& before, const series_map& after, const std::string& key) {
    const auto a = after.find(key);
    const auto b = before.find(key);
    EXPECT_NE(a, after.end()) << "no series " << key;
    return (a == after.end() ? 0 : a->second) - (b == before.end() ? 0 : b->second);
  }
};

TEST_F(metrics_test, ForwardTunnelAndRefusalsMoveTheirCounters) {
  recording_server up;
  start_airlock();
  const auto before = scrape();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(curl({"-s", "-o", "/dev/null", up.url("/x")}).exit_code, 0);
  }
  // A tunnel to the same server, one telemetry CONNECT, one bad request.
  auto client = connect();
  ASSERT_TRUE(client->send("CONNECT " + up.authority() + " HTTP/1.1\r\nHost: " + up.authority() +
                           "\r\n\r\n"));
  ASSERT_TRUE(client->read_response(5s, true));
  client.reset();
  curl({"-s", "-o", "/dev/null", "https://statsig.anthropic.com/"});
  auto bad = connect();
  ASSERT_TRUE(bad->send("GET /relative HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(bad->read_response(5s));

  const auto after = scrape();
  EXPECT_EQ(delta(before, after, "airlock_requests_total{mode=\"forward\",status_class=\"2xx\"}"),
            3);
  EXPECT_EQ(delta(before, after, "airlock_requests_total{mode=\"tunnel\",status_class=\"2xx\"}"),
            1);
  EXPECT_EQ(delta(before, after, "airlock_requests_total{mode=\"tunnel\",status_class=\"4xx\"}"),
            1);
  EXPECT_EQ(delta(before, after, "airlock_requests_total{mode=\"forward\",status_class=\"4xx\"}"),
            1);
  EXPECT_EQ(delta(before, after, "airlock_refusals_total{reason=\"telemetry\"}"), 1);
  EXPECT_EQ(delta(before, after, "airlock_refusals_total{reason=\"bad_request\"}"), 1);
  EXPECT_EQ(delta(before, after, "airlock_telemetry_blocked_total{entry=\"claude-statsig\"}"), 1);
  EXPECT_EQ(delta(before, after, "airlock_tunnels_total"), 1);
  EXPECT_GE(delta(before, after, "airlock_client_connections_total"), 6);
  EXPECT_GT(delta(before, after, "airlock_client_bytes_sent_total"), 0);
  EXPECT_EQ(after.at("airlock_build_info{version=\"0.1.0\"}"), 1);
}

TEST_F(metrics_test, InjectionsAreCountedPerRuleWithTheirPlaceholders) {
  auto up = start_upstream();
  start_intercepting(
      "  anthropic: { env: ANTHROPIC_KEY }\n",
      "  - { name: anthropic-api, host: localhost, port: " + std::to_string(up->port()) +
          ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
      {{"ANTHROPIC_KEY", api_key}});
  const auto before = scrape();
  ASSERT_EQ(fetch({"-H", std::string("x-api-key: ") + placeholder, https_url(*up, "/v1/a")}).status,
            200);
  ASSERT_EQ(fetch({https_url(*up, "/v1/b")}).status, 200);
  const auto after = scrape();
  EXPECT_EQ(delta(before, after, "airlock_injections_total{rule=\"anthropic-api\"}"), 2);
  EXPECT_EQ(delta(before, after, "airlock_client_auth_fields_stripped_total"), 1);
  EXPECT_EQ(delta(before, after, "airlock_requests_total{mode=\"intercept\",status_class=\"2xx\"}"),
            2);
  EXPECT_GE(delta(before, after, "airlock_upstream_tls_handshakes_total"), 1);
  EXPECT_GE(after.at("airlock_leaf_cache_entries"), 1);
  EXPECT_EQ(after.at("airlock_lifecycle_phase{phase=\"execution\"}"), 1);
  EXPECT_EQ(after.at("airlock_secret_present{secret=\"anthropic\"}"), 1);
  // Latency was observed for both requests.
  EXPECT_EQ(delta(before, after, "airlock_upstream_response_seconds_count{mode=\"intercept\"}"), 2);
  // The secret and the placeholder are values, never labels.
  const auto text =
      run_curl(tmp_.path(),
               {"http://127.0.0.1:" + std::to_string(airlock().metrics_port()) + "/metrics"})
          .out;
  EXPECT_EQ(count_of(text, api_key), 0u);
  EXPECT_EQ(count_of(text, placeholder), 0u);
}

// A Host naming another authority than the request's is one refusal wherever it is checked:
// absolute-form, CONNECT, and inside an intercepted tunnel each answer 400 and count
// host_mismatch (two of the three used to be counted as bad_request, one answered 421).
TEST_F(metrics_test, EveryHostMismatchIsCountedAsHostMismatch) {
  auto up = start_upstream();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { host: localhost, port: " + std::to_string(up->port()) +
                         ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}});
  const std::string self = "localhost:" + std::to_string(up->port());
  const auto before = scrape();
  auto absolute = connect();
  ASSERT_TRUE(absolute->send("GET http://" + self + "/x HTTP/1.1\r\nHost: evil.test\r\n\r\n"));
  const auto a = absolute->read_response(5s);
  auto connect_other = connect();
  ASSERT_TRUE(connect_other->send("CONNECT " + self + " HTTP/1.1\r\nHost: evil.test:443\r\n\r\n"));
  const auto c = connect_other->read_response(5s);
  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /v1/x HTTP/1.1\r\nHost: evil.test\r\n\r\n"));
  const auto t = tunnel->read_response(5s);
  for (const auto* r : {&a, &c, &t}) {
    ASSERT_TRUE(*r);
    EXPECT_EQ((*r)->status, 400) << (*r)->head;
    EXPECT_NE((*r)->head.find("X-Airlock-Reason: host_mismatch"), std::string::npos) << (*r)->head;
  }
  const auto after = scrape();
  EXPECT_EQ(delta(before, after, "airlock_refusals_total{reason=\"host_mismatch\"}"), 3);
  EXPECT_EQ(delta(before, after, "airlock_refusals_total{reason=\"bad_request\"}"), 0);
  EXPECT_EQ(up->connections(), 0u);
}

// Hosts, paths and methods are the attacker's to choose; the set of series is not.
TEST_F(metrics_test, AttackerChosenHostsAndPathsAddNoSeries) {
  recording_server up;
  airlock_settings settings;
  settings.resolve["a.test:80"] = up.authority();
  start_airlock(settings);
  // One of each kind first, so every series that exists has appeared.
  curl({"-s", "-o", "/dev/null", "http://a.test/warm"});
  const auto before = scrape();
  for (int i = 0; i < 40; ++i) {
    const std::string n = std::to_string(i);
    auto c = connect();
    c->send("CONNECT host-" + n + ".invalid:443 HTTP/1.1\r\nHost: host-" + n +
            ".invalid:443\r\n\r\n");
    c->read_response(5s, true);
    auto f = connect();
    f->send("M" + n + " http://a.test/p" + n + "?q=" + n + " HTTP/1.1\r\nHost: a.test\r\n\r\n");
    f->read_response(5s);
    auto s = connect();
    s->send("CONNECT telemetry-" + n + ".ingest.sentry.io:443 HTTP/1.1\r\n\r\n");
    s->read_response(5s, true);
  }
  const auto after = scrape();
  EXPECT_EQ(after.size(), before.size());
  for (const auto& [key, value] : after) {
    EXPECT_EQ(before.count(key), 1u) << "new series " << key;
    EXPECT_EQ(key.find("invalid"), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace airlock::test

// Secrets as the data plane meets them: a missing one is a 503 that names it (never a
// request sent without it), a value that could split a header line is refused at load,
// and no value, in any form it is sent in, reaches a log line or the agent.

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;
using intercept_secrets_test = intercept_test;

// x_api_key_rule with a name the answers for a missing secret can cite.
std::string named_key_rule(std::uint16_t port) {
  return "  - { name: anthropic-api, host: localhost, port: " + std::to_string(port) +
         ", headers: { x-api-key: \"{{anthropic}}\" } }\n";
}

// The answer to a request that needs a missing secret: 503 with a JSON body naming it
// and the rule, nothing upstream.
void expect_missing(const fetched& r, const tls_echo_server& up) {
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("{\"error\":\"secret_missing\",\"secret\":\"anthropic\","
                        "\"rule\":\"anthropic-api\",\"phase\":\"setup\""),
            std::string::npos)
      << r.body;
  EXPECT_EQ(up.connections(), 0u);
}

TEST_F(intercept_secrets_test, UnsetEnvironmentVariableIs503NamingTheSecret) {
  auto up = start_upstream();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY, required: true }\n",
                     named_key_rule(up->port()));

  const auto r =
      fetch({"-i", "-H", std::string("x-api-key: ") + placeholder, https_url(*up, "/v1/x")});
  expect_missing(r, *up);
  EXPECT_NE(r.body.find("Proxy-Status: airlock; error=destination_unavailable"), std::string::npos);
  EXPECT_NE(airlock_output().find("environment variable ANTHROPIC_KEY is not set"),
            std::string::npos);
}

TEST_F(intercept_secrets_test, AbsentFileIs503NamingTheSecret) {
  auto up = start_upstream();
  start_intercepting("  anthropic: { file: \"" + scratch("no-such-key").string() + "\" }\n",
                     named_key_rule(up->port()));

  expect_missing(fetch({https_url(*up, "/v1/x")}), *up);
  // Not a one-off: the next requests (curl reconnects after the 503's close) get it too.
  const auto again = fetch({https_url(*up, "/v1/x"), https_url(*up, "/v1/y")});
  EXPECT_EQ(count_of(again.body, "\"error\":\"secret_missing\""), 2u) << again.body;
  EXPECT_EQ(up->connections(), 0u);
}

TEST_F(intercept_secrets_test, FileValueHasItsTrailingNewlineTrimmed) {
  auto up = start_upstream();
  const auto key_file = scratch("api-key");
  write_file(key_file, std::string(api_key) + "\r\n");
  start_intercepting("  anthropic: { file: \"" + key_file.string() + "\" }\n",
                     named_key_rule(up->port()));

  const auto r = fetch({https_url(*up, "/v1/x")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
}

// An env source is read once and wiped where the kernel shows it to anyone who may read
// /proc/PID/environ: the bytes there are the process's own, zeroed in place.
TEST_F(intercept_secrets_test, EnvironmentSourceIsWipedFromTheProcess) {
  auto up = start_upstream();
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n", named_key_rule(up->port()),
                     {{"ANTHROPIC_KEY", api_key}});
  const auto r = fetch({https_url(*up, "/v1/x")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(up->requests().size(), 1u);
  ASSERT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});

  std::string environ;
  try {
    environ = read_file("/proc/" + std::to_string(airlock().pid()) + "/environ");
  } catch (const std::exception& e) {
    GTEST_SKIP() << "environ not readable (a non-dumpable process, as it should be): " << e.what();
  }
  if (environ.empty()) {
    GTEST_SKIP() << "environ not readable (a non-dumpable process, as it should be)";
  }
  EXPECT_NE(environ.find("PATH="), std::string::npos);
  EXPECT_EQ(count_of(environ, api_key), 0u);
}

// A value that would end the header line and start another (say a second field the
// upstream trusts) is refused whole at load; requests that need it get 503.
struct bad_value {
  const char* name;
  bool from_env;
  std::string value;
};

class line_break_secret_test : public intercept_test,
                               public ::testing::WithParamInterface<bad_value> {};

TEST_P(line_break_secret_test, RefusedAtLoadAndNeverLogged) {
  const auto& p = GetParam();
  auto up = start_upstream();
  if (p.from_env) {
    start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n", named_key_rule(up->port()),
                       {{"ANTHROPIC_KEY", p.value}});
  } else {
    const auto key_file = scratch("api-key");
    write_file(key_file, p.value);
    start_intercepting("  anthropic: { file: \"" + key_file.string() + "\" }\n",
                       named_key_rule(up->port()));
  }

  expect_missing(fetch({https_url(*up, "/v1/x")}), *up);
  const std::string out = airlock_output();
  EXPECT_NE(out.find("secret anthropic: value contains CR, LF or NUL; refused"), std::string::npos)
      << out;
  for (const char* part : {"sk-REAL-half1", "sk-REAL-half2", "X-Evil"}) {
    EXPECT_EQ(count_of(out, part), 0u) << part << " logged:\n" << out;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Values, line_break_secret_test,
    ::testing::Values(bad_value{"FileLf", false, "sk-REAL-half1\nX-Evil: sk-REAL-half2"},
                      bad_value{"FileCr", false, "sk-REAL-half1\rX-Evil: sk-REAL-half2"},
                      bad_value{"FileCrLfInside", false,
                                "sk-REAL-half1\r\nX-Evil: sk-REAL-half2\n"},
                      bad_value{"FileNul", false, std::string("sk-REAL-half1\0sk-REAL-half2", 27)},
                      bad_value{"EnvLf", true, "sk-REAL-half1\nX-Evil: sk-REAL-half2"},
                      bad_value{"EnvCrLf", true, "sk-REAL-half1\r\nX-Evil: sk-REAL-half2"}),
    [](const ::testing::TestParamInfo<bad_value>& info) { return std::string(info.param.name); });

// Every path a request can take, at the most verbose log level: served with each kind
// of injection, refused inside the tunnel, upstream untrusted or refusing, forwarded as
// plain HTTP, secret missing. No value appears in airlock's output or in anything curl
// saw (curl -v shows the heads both ways), in any of the forms it is sent in.
TEST_F(intercept_secrets_test, SecretsNeverReachLogsOrTheAgent) {
  tls_echo_server up(tls_echo_options{localhost_cert(), [](const std::string&) {
                                        return std::string(
                                            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
                                      }});
  auto untrusted = start_upstream(mint_leaf(pki_, "wrong", {"DNS:wrong.test"}));
  const auto token_file = scratch("github-token");
  write_file(token_file, std::string(git_token) + "\n");
  // The same rules for each upstream's port (a rule without port: is for 443 only).
  const std::uint16_t refusing = unused_port();
  const auto rules_for = [](std::uint16_t port) {
    const std::string at = "-" + std::to_string(port) +
                           ", host: localhost, port: " + std::to_string(port) + ", paths: ";
    return "  - { name: h" + at + "[/h], headers: { x-api-key: \"{{anthropic}}\" } }\n" +
           "  - { name: b" + at +
           "[/b], basic_auth: { username: u, password: \"{{github}}\" } }\n" + "  - { name: q" +
           at + "[/q], query: { key: \"{{maps}}\" } }\n" + "  - { name: m" + at +
           "[/m], headers: { x-api-key: \"{{absent}}\" } }\n";
  };
  airlock_settings settings;
  settings.log_level = "trace";
  start_intercepting(
      "  anthropic: { env: ANTHROPIC_KEY }\n"
      "  github: { file: \"" +
          token_file.string() +
          "\" }\n"
          "  maps: { env: MAPS_KEY }\n"
          "  absent: { env: ABSENT_KEY }\n",
      rules_for(up.port()) + rules_for(untrusted->port()) + rules_for(refusing),
      {{"ANTHROPIC_KEY", api_key}, {"MAPS_KEY", "maps-REAL-5e2d90"}}, settings);

  const std::string port = std::to_string(up.port());
  const std::vector<std::vector<std::string>> runs = {
      {https_url(up, "/h"), https_url(up, "/b"), https_url(up, "/q?key=agent")},
      {https_url(up, "/m")},
      {"-H", "Host: evil.test", https_url(up, "/h")},
      {https_url(*untrusted, "/h")},
      {"https://localhost:" + std::to_string(refusing) + "/h"},
      {"http://localhost:" + port + "/h", "http://localhost:" + port + "/b"},
  };
  std::string agent_saw;
  for (const auto& args : runs) {
    std::vector<std::string> verbose = {"-v", "-H", std::string("x-api-key: ") + placeholder};
    verbose.insert(verbose.end(), args.begin(), args.end());
    const auto r = curl_via_ca(verbose);
    agent_saw += r.out + r.err;
  }
  // The secrets did go out, to the one upstream that should have them.
  const std::string sent = up.received();
  ASSERT_EQ(count_of(sent, api_key), 2u) << sent;
  ASSERT_EQ(count_of(sent, "maps-REAL-5e2d90"), 1u) << sent;
  ASSERT_EQ(count_of(sent, "dTpnaHAtUkVBTC05NGQxYzdhYjNlNmY="), 2u) << sent;
  EXPECT_NE(agent_saw.find("host_mismatch"), std::string::npos) << agent_saw;
  EXPECT_NE(agent_saw.find("tls_certificate_error"), std::string::npos) << agent_saw;
  EXPECT_NE(agent_saw.find("connection_refused"), std::string::npos) << agent_saw;
  EXPECT_NE(agent_saw.find("\"secret\":\"absent\""), std::string::npos) << agent_saw;

  airlock().terminate();
  EXPECT_EQ(airlock().wait_exit(10s), 0);
  const std::string logs = airlock_output();
  // base64("u:ghp-REAL-94d1c7ab3e6f"): what basic_auth puts on the wire.
  for (const char* secret :
       {api_key, git_token, "maps-REAL-5e2d90", "dTpnaHAtUkVBTC05NGQxYzdhYjNlNmY="}) {
    EXPECT_EQ(count_of(logs, secret), 0u) << secret << " in airlock's output:\n" << logs;
    EXPECT_EQ(count_of(agent_saw, secret), 0u) << secret << " reached the agent:\n" << agent_saw;
  }
}

}  // namespace
}  // namespace airlock::test

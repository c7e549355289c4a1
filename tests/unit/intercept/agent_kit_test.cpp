// The agent's kit files as text, and as a real sh reads them: which variable points at which
// file, the proxy the agent is told to use, NO_PROXY for airlock's own names, and
// JAVA_TOOL_OPTIONS appended to once however often the files are sourced.

#include "proxy/tls/agent_kit.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/telemetry_optouts.hpp"
#include "tests/unit/intercept/pki_helpers.hpp"

namespace airlock::proxy::intercept {
namespace {

using test_support::temp_dir;

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// s single-quoted for sh (the test's own quoting, not the code under test's).
std::string quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Runs `script` in sh with an empty environment plus `env` (NAME=value words), and returns
// what it printed; the test fails when sh does.
std::string run_sh(const std::string& script, const std::vector<std::string>& env = {}) {
  std::string cmd = "env -i PATH=/usr/bin:/bin";
  // Appends, not "lit" + string: GCC 12 warns falsely (-Wrestrict) on that.
  for (const auto& e : env) {
    cmd += ' ';
    cmd += quote(e);
  }
  cmd += " /bin/sh -c ";
  cmd += quote(script);
  std::FILE* p = ::popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  if (p == nullptr) {
    return {};
  }
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) {
    out.append(buf, n);
  }
  EXPECT_EQ(::pclose(p), 0) << script;
  return out;
}

config::proxy_config proxy_cfg(std::vector<std::string> route_hosts = {}) {
  config::proxy_config c;
  c.route_hosts = std::move(route_hosts);
  return c;
}

TEST(agent_proxy, a_wildcard_listener_is_reached_on_loopback) {
  const auto v4 = agent_proxy(proxy_cfg(), "0.0.0.0", 3128);
  EXPECT_EQ(proxy_url(v4), "http://127.0.0.1:3128");
  const auto v6 = agent_proxy(proxy_cfg(), "::", 3129);
  EXPECT_EQ(proxy_url(v6), "http://[::1]:3129");
  const auto bound = agent_proxy(proxy_cfg(), "10.1.2.3", 8080);
  EXPECT_EQ(proxy_url(bound), "http://10.1.2.3:8080");
}

TEST(agent_proxy, agent_url_wins_over_the_bound_address) {
  auto cfg = proxy_cfg({"airlock"});
  cfg.agent_url = config::endpoint{"airlock", 3128};
  const auto p = agent_proxy(cfg, "0.0.0.0", 40000);
  EXPECT_EQ(proxy_url(p), "http://airlock:3128");
  // Loopback first, then the proxy's own name once although route_hosts repeats it.
  EXPECT_EQ(no_proxy_hosts(p),
            (std::vector<std::string>{"localhost", "127.0.0.1", "::1", "airlock"}));
}

TEST(agent_proxy, no_proxy_holds_every_name_of_airlock) {
  auto cfg = proxy_cfg({"airlock", "airlock.ns.svc"});
  const auto p = agent_proxy(cfg, "10.0.0.7", 3128);
  EXPECT_EQ(no_proxy_hosts(p), (std::vector<std::string>{"localhost", "127.0.0.1", "::1",
                                                         "10.0.0.7", "airlock", "airlock.ns.svc"}));
}

TEST(proxy_env, both_spellings_no_proxy_node_and_java) {
  kit_proxy p;
  p.host = "airlock";
  p.port = 3128;
  p.route_hosts = {"airlock", "gw.test"};
  const std::string text = proxy_env_text(p);
  for (const char* var : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}) {
    EXPECT_NE(text.find(std::string("export ") + var + "=http://airlock:3128\n"), std::string::npos)
        << var << " in\n"
        << text;
  }
  for (const char* var : {"NO_PROXY", "no_proxy"}) {
    EXPECT_NE(
        text.find(std::string("export ") + var + "=localhost,127.0.0.1,::1,airlock,gw.test\n"),
        std::string::npos)
        << text;
  }
  EXPECT_NE(text.find("export NODE_USE_ENV_PROXY=1\n"), std::string::npos);
  EXPECT_EQ(text.find("export ALL_PROXY"), std::string::npos);
  EXPECT_EQ(text.find("export all_proxy"), std::string::npos);

  const temp_dir tmp;
  const std::string file = tmp.file("proxy.env");
  write(file, text);
  // Sourced twice over an agent's own JVM flags: those stay first, ours come once.
  const std::string java = run_sh(". " + quote(file) + "; . " + quote(file) +
                                      "; printf %s \"$JAVA_TOOL_OPTIONS|$https_proxy|$no_proxy\"",
                                  {"JAVA_TOOL_OPTIONS=-Xmx1g"});
  EXPECT_EQ(java,
            "-Xmx1g -Dhttps.proxyHost=airlock -Dhttps.proxyPort=3128 -Dhttp.proxyHost=airlock "
            "-Dhttp.proxyPort=3128 -Dhttp.nonProxyHosts=localhost|127.*|[::1]|airlock|gw.test"
            "|http://airlock:3128|localhost,127.0.0.1,::1,airlock,gw.test");
}

TEST(proxy_env, ipv6_proxy_is_bracketed_in_urls_and_java_lists) {
  kit_proxy p;
  p.host = "fd00::5";
  p.port = 3128;
  const std::string text = proxy_env_text(p);
  // Quoted: sh would take the brackets for a glob.
  EXPECT_NE(text.find("export HTTPS_PROXY='http://[fd00::5]:3128'\n"), std::string::npos) << text;
  EXPECT_NE(text.find("-Dhttps.proxyHost=fd00::5 "), std::string::npos) << text;
  EXPECT_NE(text.find("-Dhttp.nonProxyHosts=localhost|127.*|[::1]|[fd00::5]\""), std::string::npos)
      << text;
}

TEST(ca_env, each_variable_points_at_the_bundle_unless_it_adds) {
  const std::string dir = "/run/airlock";
  const std::string text = ca_env_text(dir);
  for (const char* var :
       {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO",
        "CARGO_HTTP_CAINFO", "DENO_CERT", "PIP_CERT", "AWS_CA_BUNDLE", "CODEX_CA_CERTIFICATE",
        "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "NPM_CONFIG_CAFILE"}) {
    EXPECT_EQ(count_of(text, std::string("export ") + var + "=/run/airlock/ca-bundle.pem\n"), 1u)
        << var << " in\n"
        << text;
  }
  // Node adds NODE_EXTRA_CA_CERTS to its own roots: the bundle would load them twice.
  EXPECT_EQ(count_of(text, "export NODE_EXTRA_CA_CERTS=/run/airlock/ca.pem\n"), 1u);
  EXPECT_EQ(count_of(text, "export WGETRC=/run/airlock/wgetrc\n"), 1u);
  EXPECT_EQ(count_of(text, "export "), 14u) << text;  // 13 variables and JAVA_TOOL_OPTIONS
  EXPECT_NE(text.find("-Djavax.net.ssl.trustStore=/run/airlock/truststore.p12 "
                      "-Djavax.net.ssl.trustStoreType=PKCS12 "
                      "-Djavax.net.ssl.trustStorePassword=changeit\""),
            std::string::npos)
      << text;
  EXPECT_EQ(
      wgetrc_text(dir).find("ca_certificate = /run/airlock/ca-bundle.pem\n") != std::string::npos,
      true);
}

TEST(ca_env, a_directory_java_cannot_take_is_quoted_for_sh_and_left_out_of_java) {
  const temp_dir tmp;
  const std::string dir = tmp.file("with space's $dir");
  const std::string text = ca_env_text(dir);
  EXPECT_EQ(text.find("trustStore="), std::string::npos) << text;
  EXPECT_NE(text.find("left out"), std::string::npos) << text;
  const std::string file = tmp.file("ca.env");
  write(file, text);
  EXPECT_EQ(run_sh(". " + quote(file) +
                   "; printf %s \"$SSL_CERT_FILE|$NODE_EXTRA_CA_CERTS|$WGETRC|"
                   "${JAVA_TOOL_OPTIONS-unset}\""),
            dir + "/ca-bundle.pem|" + dir + "/ca.pem|" + dir + "/wgetrc|unset");
}

TEST(ca_env, java_and_the_proxy_share_java_tool_options) {
  const temp_dir tmp;
  const std::string dir = tmp.path().string();
  write(dir + "/ca.env", ca_env_text(dir));
  write(dir + "/proxy.env", proxy_env_text(kit_proxy{}));
  write(dir + "/telemetry.env", telemetry_env_text(true));
  write(dir + "/airlock.env", airlock_env_text(dir));
  const std::string got =
      run_sh(". " + quote(dir + "/airlock.env") + "; . " + quote(dir + "/airlock.env") +
             "; printf %s \"$JAVA_TOOL_OPTIONS\"");
  EXPECT_EQ(got, "-Djavax.net.ssl.trustStore=" + dir +
                     "/truststore.p12 -Djavax.net.ssl.trustStoreType=PKCS12 "
                     "-Djavax.net.ssl.trustStorePassword=changeit -Dhttps.proxyHost=127.0.0.1 "
                     "-Dhttps.proxyPort=3128 -Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=3128 "
                     "-Dhttp.nonProxyHosts=localhost|127.*|[::1]");
}

TEST(telemetry_env, sets_every_switch_or_none) {
  const std::string on = telemetry_env_text(true);
  std::size_t exported = 0;
  for (const auto& o : config::vendor_telemetry_optouts()) {
    if (!o.variable.empty()) {
      ++exported;
      EXPECT_NE(on.find("export " + o.variable + "=" + o.value + "\n"), std::string::npos)
          << o.variable << " in\n"
          << on;
    }
    EXPECT_NE(on.find(o.source), std::string::npos) << "no source for " << o.tool;
  }
  EXPECT_EQ(count_of(on, "export "), exported);
  EXPECT_GE(exported, 6u);
  const std::string off = telemetry_env_text(false);
  EXPECT_EQ(count_of(off, "export "), 0u) << off;
  EXPECT_NE(off.find("block_vendor_defaults"), std::string::npos);
}

TEST(airlock_env, sources_the_three_env_files_in_order) {
  const std::string text = airlock_env_text("/run/airlock");
  const std::string sources =
      "\n. /run/airlock/ca.env\n. /run/airlock/proxy.env\n. /run/airlock/telemetry.env\n";
  ASSERT_GT(text.size(), sources.size());
  EXPECT_EQ(text.substr(text.size() - sources.size()), sources);
  EXPECT_EQ(count_of(text, "\n. "), 3u);
  const std::string quoted_dir = airlock_env_text("/a b");
  EXPECT_NE(quoted_dir.find(". '/a b/ca.env'\n"), std::string::npos) << quoted_dir;
}

}  // namespace
}  // namespace airlock::proxy::intercept

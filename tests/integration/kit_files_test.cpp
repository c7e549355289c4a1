// The kit's files against the real binary: what the export directory holds, Java through
// JAVA_TOOL_OPTIONS alone (the PKCS#12 trust store as keytool and a JVM read it, the proxy
// properties), reverse routes reached directly because NO_PROXY names airlock, the proxy
// the kit names (proxy.agent_url), and the vendors' telemetry switches.

#include <gtest/gtest.h>

#include <set>

#include "tests/integration/kit_fixture.hpp"

namespace airlock::test {
namespace {

TEST_F(kit_test, ExportDirectoryHoldsTheWholeKit) {
  start_kit("  route_hosts: [airlock.test]\n");
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(export_dir())) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"airlock.env", "ca-bundle.pem", "ca.env", "ca.pem", "proxy.env",
                                   "telemetry.env", "truststore.p12", "wgetrc"}));
  // One source line sets everything, pointing at the listener this airlock bound.
  const auto r =
      run_with_kit({"/bin/sh", "-c",
                    "printf '%s\\n' \"$HTTPS_PROXY\" \"$http_proxy\" \"$NO_PROXY\" \"$WGETRC\" "
                    "\"$NODE_USE_ENV_PROXY\" \"$RTK_TELEMETRY_DISABLED\" \"$NPM_CONFIG_CAFILE\""},
                   "env");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string dir = export_dir().string();
  EXPECT_EQ(r.out, airlock().proxy_url() + "\n" + airlock().proxy_url() +
                       "\nlocalhost,127.0.0.1,::1,airlock.test\n" + dir + "/wgetrc\n1\n1\n" + dir +
                       "/ca-bundle.pem\n");
  EXPECT_NE(airlock().stdout_text().find(". " + dir + "/airlock.env"), std::string::npos);

  // keytool reads every certificate of the bundle as a trusted entry.
  const auto keytool =
      run_command({"/usr/bin/keytool", "-list", "-keystore", kit_file("truststore.p12").string(),
                   "-storetype", "PKCS12", "-storepass", "changeit"},
                  tmp_.path(), "keytool", 60s);
  ASSERT_EQ(keytool.exit_code, 0) << keytool.out << keytool.err;
  const std::size_t certs = count_of(read_file(kit_file("ca-bundle.pem")), "BEGIN CERTIFICATE");
  EXPECT_GT(certs, 1u);
  EXPECT_EQ(count_of(keytool.out, "trustedCertEntry"), certs) << keytool.out;
  EXPECT_NE(keytool.out.find("airlock-ca-1,"), std::string::npos) << keytool.out;
}

// HttpClient and HttpsURLConnection, with the trust store and proxy from JAVA_TOOL_OPTIONS.
constexpr const char* java_program = R"(
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import javax.net.ssl.HttpsURLConnection;

public class Fetch {
  public static void main(String[] args) throws Exception {
    HttpResponse<String> a = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(args[0] + "/httpclient"))
            .header("x-api-key", "placeholder").build(),
        HttpResponse.BodyHandlers.ofString());
    HttpsURLConnection b = (HttpsURLConnection) new URL(args[0] + "/urlconnection").openConnection();
    b.setRequestProperty("x-api-key", "placeholder");
    System.out.println(a.statusCode() + " " + b.getResponseCode());
  }
}
)";

TEST_F(kit_test, JavaWithTheKitAlone) {
  if (find_program("javac").empty() || find_program("java").empty()) {
    GTEST_SKIP() << "no JDK here";
  }
  start_kit();
  const auto src = scratch("java");
  std::filesystem::create_directories(src);
  write_file(src / "Fetch.java", java_program);
  const auto javac =
      run_command({find_program("javac"), "-d", src.string(), (src / "Fetch.java").string()},
                  tmp_.path(), "javac", 120s);
  ASSERT_EQ(javac.exit_code, 0) << javac.err;

  const auto r =
      run_with_kit({find_program("java"), "-cp", src.string(), "Fetch", url("/java")}, "java");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "200 200\n");
  ASSERT_EQ(up_->requests().size(), 2u);
  EXPECT_EQ(request_line(up_->requests()[0]), "GET /java/httpclient HTTP/1.1");
  EXPECT_EQ(field_values(up_->requests()[0], "x-api-key"), std::vector<std::string>{api_key});
  EXPECT_TRUE(injected("GET /java/urlconnection HTTP/1.1"));
  EXPECT_NE(r.err.find("Picked up JAVA_TOOL_OPTIONS"), std::string::npos) << r.err;
}

// http://127.0.0.1:PORT/echo is airlock itself. The kit's NO_PROXY sends clients there
// directly; a client sending it to the proxy instead is refused as a loop, with the reason.
TEST_F(kit_test, ReverseRoutesGoStraightToAirlock) {
  start_kit();
  const std::string route = "http://127.0.0.1:" + std::to_string(airlock().port()) + "/echo";
  const auto curl = run_with_kit(
      {"/usr/bin/curl", "-q", "-sS", "-H", "x-api-key: placeholder", route + "/v1/curl"}, "curl");
  ASSERT_EQ(curl.exit_code, 0) << curl.err;
  EXPECT_TRUE(injected("GET /v1/curl HTTP/1.1"));

  const auto py = run_with_kit(
      {"/usr/bin/python3", "-c",
       "import sys, requests; print(requests.get(sys.argv[1], timeout=20).status_code)",
       route + "/v1/python"},
      "python");
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "200\n");
  EXPECT_TRUE(injected("GET /v1/python HTTP/1.1"));

  const std::size_t before = up_->requests().size();
  const auto looped =
      run_with_kit({"/bin/sh", "-c", "NO_PROXY= no_proxy= exec /usr/bin/curl -q -sS -i \"$0\"",
                    route + "/v1/looped"},
                   "curl-looped");
  EXPECT_EQ(looped.exit_code, 0) << looped.err;
  EXPECT_NE(looped.out.find("HTTP/1.1 403"), std::string::npos) << looped.out;
  EXPECT_NE(looped.out.find("airlock's own listener"), std::string::npos) << looped.out;
  EXPECT_EQ(up_->requests().size(), before);
}

TEST_F(kit_test, AgentUrlIsTheProxyTheKitNames) {
  start_kit("  agent_url: \"http://airlock.test:3128\"\n  route_hosts: [airlock.test, gw.test]\n");
  const std::string env = read_file(kit_file("proxy.env"));
  EXPECT_NE(env.find("export HTTPS_PROXY=http://airlock.test:3128\n"), std::string::npos) << env;
  EXPECT_NE(env.find("export no_proxy=localhost,127.0.0.1,::1,airlock.test,gw.test\n"),
            std::string::npos)
      << env;
  EXPECT_NE(env.find("-Dhttp.nonProxyHosts=localhost|127.*|[::1]|airlock.test|gw.test\""),
            std::string::npos)
      << env;
}

// telemetry.env follows telemetry.block_vendor_defaults, and RTK's ping host is refused at
// CONNECT before any lookup (nothing leaves the machine).
TEST_F(kit_test, TelemetrySwitchesAndRtkBlocked) {
  start_kit();
  const auto r =
      run_with_kit({"/bin/sh", "-c",
                    "printf '%s\\n' \"$DISABLE_TELEMETRY\" \"$DISABLE_ERROR_REPORTING\" "
                    "\"$CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC\" \"$RTK_TELEMETRY_DISABLED\" "
                    "\"$GEMINI_TELEMETRY_ENABLED\" \"$DO_NOT_TRACK\"; "
                    "exec /usr/bin/curl -q -sS -o /dev/null -w '%{http_connect}' "
                    "https://telemetry.rtk-ai.app/ping"},
                   "telemetry");
  EXPECT_EQ(r.out, "1\n1\n1\n1\nfalse\n1\n403") << r.err;
  EXPECT_NE(airlock_output().find("rule=rtk-telemetry"), std::string::npos);
}

// Every switch telemetry.env sets is listed with its source, beside the blocked endpoints.
TEST(print_telemetry_defaults, lists_blocked_endpoints_and_switches_with_sources) {
  temp_dir tmp;
  const auto r = run_command({airlock_binary(), "--print-telemetry-defaults"}, tmp.path(),
                             "print-telemetry", 10s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rtk-telemetry\ttelemetry.rtk-ai.app\n    source: "), std::string::npos)
      << r.out;
  const auto switches = r.out.find("# Switched off at the source");
  ASSERT_NE(switches, std::string::npos) << r.out;
  for (const char* line :
       {"Claude Code\tDISABLE_TELEMETRY=1\n    source: ",
        "Claude Code\tDISABLE_ERROR_REPORTING=1\n",
        "Claude Code\tCLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1\n",
        "RTK\tRTK_TELEMETRY_DISABLED=1\n", "Gemini CLI\tGEMINI_TELEMETRY_ENABLED=false\n",
        "Codex CLI\t(no environment switch)\n", "any\tDO_NOT_TRACK=1\n"}) {
    EXPECT_NE(r.out.find(line, switches), std::string::npos) << line << " in\n" << r.out;
  }
}

TEST_F(kit_test, NoTelemetrySwitchesWhenVendorDefaultsAreOff) {
  start_kit("", "telemetry: { block_vendor_defaults: false }\n");
  const std::string env = read_file(kit_file("telemetry.env"));
  EXPECT_EQ(env.find("export "), std::string::npos) << env;
  const auto r =
      run_with_kit({"/bin/sh", "-c", "printf %s \"${DISABLE_TELEMETRY-unset}\""}, "telemetry-off");
  EXPECT_EQ(r.out, "unset");
}

}  // namespace
}  // namespace airlock::test

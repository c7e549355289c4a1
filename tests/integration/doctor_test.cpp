// `airlock doctor` in a container-like environment: env -i with only the kit's variables
// and a PATH holding the runtimes this machine has. With the kit complete every runtime
// passes and the exit status is 0; with one runtime misconfigured (SSL_CERT_FILE gone for
// Python, NO_PROXY=* for curl, Node < 24 whose fetch ignores every proxy variable) the
// exit status is 1 and the report names the runtime and its fix. The JSON is read by
// python3, as a script would.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

namespace fs = std::filesystem;
using env_map = std::map<std::string, std::string>;

// Reads the doctor's JSON the way a script would: one "name result proxy_used ca_trusted"
// line per runtime, then "ok OK AIRLOCK VARIABLE", failing on a missing or extra key.
constexpr const char* summarize_py = R"(import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"ok", "check_host", "kit", "proxy", "runtimes"}, sorted(d)
assert set(d["proxy"]) == {"variable", "url", "reached", "airlock", "answer", "fix"}
for r in d["runtimes"]:
    assert set(r) == {"name", "path", "result", "proxy_used", "ca_trusted", "detail", "fix"}
    print(r["name"], r["result"], r["proxy_used"], r["ca_trusted"])
print("ok", d["ok"], d["proxy"]["airlock"], d["proxy"]["variable"] or "-")
)";

class doctor_test : public intercept_test {
 protected:
  // The runtimes this machine has, linked into a directory of their own (the doctor's PATH).
  // npm goes through a wrapper that names node by path, so node itself is only on PATH when
  // asked for.
  std::set<std::string> make_bin(bool with_node, std::set<std::string> only = {}) {
    const fs::path bin = scratch("bin");
    fs::remove_all(bin);
    fs::create_directories(bin);
    std::set<std::string> out;
    auto want = [&](const std::string& name) { return only.empty() || only.count(name) > 0; };
    for (const std::string name : {"curl", "wget", "python3", "git", "pip", "java"}) {
      const fs::path real = fs::path("/usr/bin") / name;
      if (!want(name) || !fs::exists(real) || (name == "java" && !has_jdk())) {
        continue;
      }
      fs::create_symlink(real, bin / name);
      out.insert(name);
    }
    std::error_code ec;
    const fs::path npm_cli = fs::canonical("/usr/bin/npm", ec);
    if (want("npm") && !ec && fs::exists("/usr/bin/node")) {
      write_file(bin / "npm", "#!/bin/sh\nexec /usr/bin/node " + npm_cli.string() + " \"$@\"\n");
      fs::permissions(bin / "npm", fs::perms::owner_all);
      out.insert("npm");
    }
    if (with_node && want("node") && fs::exists("/usr/bin/node")) {
      fs::create_symlink("/usr/bin/node", bin / "node");
      out.insert("node");
    }
    return out;
  }

  static bool has_jdk() { return fs::exists("/usr/bin/javac") && fs::exists("/usr/bin/keytool"); }

  // Node's major version, 0 without node.
  int node_major() {
    if (!fs::exists("/usr/bin/node")) {
      return 0;
    }
    const auto r = run_command({"/usr/bin/node", "--version"}, tmp_.path(), "node-version", 10s);
    return r.out.size() > 1 ? std::atoi(r.out.c_str() + 1) : 0;
  }

  // What a shell that sources the kit has: ca.env (and proxy.env, once the kit has one),
  // the proxy variables in both spellings, and, for runtimes the kit's files do not cover
  // yet, what the complete kit sets for them (a wgetrc, npm's cafile, Java's trust store
  // and proxy properties) unless the kit already does.
  env_map kit_env() {
    const std::string dir = export_dir().string();
    const auto sourced = run_command({"/usr/bin/env", "-i", "/bin/sh", "-c",
                                      ". '" + dir + "/ca.env'; if [ -f '" + dir +
                                          "/proxy.env' ]; then . '" + dir + "/proxy.env'; fi; env"},
                                     tmp_.path(), "kit", 10s);
    EXPECT_EQ(sourced.exit_code, 0) << sourced.err;
    env_map env;
    std::istringstream lines(sourced.out);
    for (std::string line; std::getline(lines, line);) {
      const auto eq = line.find('=');
      const std::string name = line.substr(0, eq);
      if (eq != std::string::npos && name != "PWD" && name != "SHLVL" && name != "_") {
        env[name] = line.substr(eq + 1);
      }
    }
    EXPECT_TRUE(env.count("SSL_CERT_FILE")) << sourced.out;
    const std::string proxy = airlock().proxy_url();
    for (const char* name : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"}) {
      env.emplace(name, proxy);
    }
    env.emplace("NO_PROXY", "localhost,127.0.0.1");
    env.emplace("no_proxy", "localhost,127.0.0.1");
    if (!env.count("WGETRC")) {
      write_file(scratch("wgetrc"), "ca_certificate=" + dir + "/ca-bundle.pem\n");
      env["WGETRC"] = scratch("wgetrc").string();
    }
    if (!env.count("NPM_CONFIG_USERCONFIG") && !env.count("npm_config_cafile")) {
      env["npm_config_cafile"] = dir + "/ca-bundle.pem";
    }
    if (!env.count("JAVA_TOOL_OPTIONS") && has_jdk()) {
      const auto store = scratch("trust.p12").string();
      fs::remove(store);
      const auto made = run_command(
          {"/usr/bin/keytool", "-importcert", "-noprompt", "-storetype", "PKCS12", "-keystore",
           store, "-storepass", "changeit", "-alias", "airlock", "-file", airlock_ca().string()},
          tmp_.path(), "keytool", 60s);
      EXPECT_EQ(made.exit_code, 0) << made.err;
      env["JAVA_TOOL_OPTIONS"] =
          "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=" + std::to_string(airlock().port()) +
          " -Djavax.net.ssl.trustStore=" + store + " -Djavax.net.ssl.trustStorePassword=changeit";
    }
    env.emplace("NODE_USE_ENV_PROXY", "1");
    env["PATH"] = scratch("bin").string();
    fs::create_directories(scratch("home"));
    env["HOME"] = scratch("home").string();
    return env;
  }

  // airlock doctor under env -i with exactly env.
  command_result doctor(const env_map& env, std::vector<std::string> args) {
    std::vector<std::string> argv{"/usr/bin/env", "-i"};
    for (const auto& [name, value] : env) {
      argv.push_back(name + "=" + value);
    }
    argv.push_back(airlock_binary());
    argv.push_back("doctor");
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, tmp_.path(), "doctor", 240s);
  }

  // The doctor's JSON as python3 reads it (summarize_py).
  std::string summarize(const std::string& json) {
    write_file(scratch("doctor.json"), json);
    write_file(scratch("summarize.py"), summarize_py);
    const auto r = run_command(
        {"/usr/bin/python3", scratch("summarize.py").string(), scratch("doctor.json").string()},
        tmp_.path(), "summarize", 30s);
    EXPECT_EQ(r.exit_code, 0) << r.err << json;
    return r.out;
  }

  void start() {
    airlock_settings settings;
    settings.extra_yaml = tls_yaml();
    start_airlock(settings);
  }
};

TEST_F(doctor_test, EveryRuntimeHerePassesWithTheCompleteKit) {
  start();
  const bool node_passes = node_major() >= 24;  // NODE_USE_ENV_PROXY: Node 24 on
  const auto found = make_bin(node_passes);
  ASSERT_TRUE(found.count("curl"));
  const auto r = doctor(kit_env(), {"--json"});
  const std::string summary = summarize(r.out);
  std::string expected;
  for (const auto& p : {"curl", "wget", "python3", "node", "java", "git", "npm", "pip"}) {
    if (found.count(p)) {
      expected += std::string(p) + " ok True True\n";
    }
  }
  expected += "ok True True https_proxy\n";
  EXPECT_EQ(summary, expected) << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

TEST_F(doctor_test, AMisconfiguredRuntimeIsNamedWithItsFix) {
  start();
  const int node = node_major();
  const auto found = make_bin(true);
  ASSERT_TRUE(found.count("python3"));
  env_map env = kit_env();
  env.erase("SSL_CERT_FILE");  // Python's urllib then knows only the system store

  const auto r = doctor(env, {});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::string dir = export_dir().string();
  EXPECT_NE(r.out.find("python3 (untrusted): urllib failed: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  fix: source " + dir + "/ca.env (SSL_CERT_FILE for urllib"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\ncurl    "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("curl ("), std::string::npos) << r.out;  // curl itself is fine
  if (node > 0 && node < 24) {
    // Node 20's fetch ignores every proxy variable: it went direct.
    EXPECT_NE(r.out.find("node (bypass): fetch failed: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("NODE_USE_ENV_PROXY=1 on Node >= 24"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("ANTHROPIC_BASE_URL=" + airlock().proxy_url() + "/anthropic"),
              std::string::npos)
        << r.out;
  }

  // NO_PROXY=* sends curl (and Python) straight out, where the check host never resolves.
  env = kit_env();
  env["NO_PROXY"] = "*";
  env["no_proxy"] = "*";
  make_bin(false, {"curl", "python3"});
  const auto j = doctor(env, {"--json"});
  EXPECT_EQ(j.exit_code, 1);
  EXPECT_EQ(summarize(j.out),
            "curl bypass False None\npython3 bypass False None\nok False True https_proxy\n")
      << j.out;
  EXPECT_NE(j.out.find("skips hosts in NO_PROXY"), std::string::npos) << j.out;
}

TEST_F(doctor_test, NoProxyOrAProxyThatIsNotAirlock) {
  start();
  make_bin(false, {"curl"});
  env_map env = kit_env();
  for (const char* name : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"}) {
    env.erase(name);
  }
  auto r = doctor(env, {"--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(summarize(r.out), "curl bypass False None\nok False False -\n") << r.out;
  EXPECT_NE(r.out.find("\"fix\":\"no proxy is set: source " + export_dir().string() + "/proxy.env"),
            std::string::npos)
      << r.out;

  // airlock's metrics listener answers HTTP, but not as the proxy.
  const std::string metrics = "http://127.0.0.1:" + std::to_string(airlock().metrics_port());
  r = doctor(env, {"--proxy", metrics});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("proxy:  --proxy=" + metrics + ": answered \"HTTP/1.1 "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("answered, but not as airlock"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("curl (failed): "), std::string::npos) << r.out;

  // --proxy stands in for the variables the environment lacks: all pass.
  r = doctor(env, {"--proxy", airlock().proxy_url()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("every runtime found goes through airlock and trusts its CA"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace airlock::test

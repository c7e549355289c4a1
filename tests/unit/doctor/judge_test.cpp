// The doctor's verdicts from what each runtime really printed (captured from curl 7.88,
// wget 1.21 GnuTLS, CPython 3.11, Node 20, OpenJDK 17, git 2.39, npm 11, pip 23 against
// airlock): success only with the marker and exit 0, a bypass only when the check host's own
// lookup failed, an untrusted CA from each runtime's certificate error.

#include "proxy/doctor/judge.hpp"

#include <gtest/gtest.h>

#include <map>

namespace airlock::proxy::doctor {
namespace {

const runtime_probe& probe(std::string_view name) {
  for (const auto& p : runtime_probes()) {
    if (p.name == name) {
      return p;
    }
  }
  ADD_FAILURE() << "no probe " << name;
  return runtime_probes().front();
}

probe_output ran(int exit_code, std::string out, std::string err = {}) {
  probe_output o;
  o.exit_code = exit_code;
  o.out = std::move(out);
  o.err = std::move(err);
  return o;
}

const std::string answer =
    "airlock-doctor-ok: answered by airlock 0.1.0 inside an intercepted tunnel\n";

TEST(doctor_judge, the_marker_with_exit_zero_is_ok) {
  const auto f = judge(probe("curl"), ran(0, answer));
  EXPECT_EQ(f.what, result::ok);
  EXPECT_EQ(f.proxy_used, answer::yes);
  EXPECT_EQ(f.ca_trusted, answer::yes);
  EXPECT_TRUE(f.fix.empty());
  EXPECT_EQ(
      judge(probe("git"), ran(0, std::string(40, '0') + "\trefs/heads/airlock-doctor-ok\n")).what,
      result::ok);
  EXPECT_EQ(judge(probe("pip"), ran(0, "airlock-doctor-ok (1.0)\nAvailable versions: 1.0\n",
                                    "WARNING: pip index is currently an experimental command."))
                .what,
            result::ok);
}

// What a look-alike could print does not pass: the marker needs exit 0 and stdout.
TEST(doctor_judge, the_marker_alone_is_not_enough) {
  EXPECT_EQ(judge(probe("curl"), ran(22, answer)).what, result::failed);
  EXPECT_EQ(judge(probe("curl"), ran(0, "", answer)).what, result::failed);
  EXPECT_EQ(judge(probe("curl"), ran(0, "<html>Squid: access denied</html>")).what, result::failed);
  auto timed_out = ran(0, answer);
  timed_out.timed_out = true;
  const auto f = judge(probe("go"), timed_out);
  EXPECT_EQ(f.what, result::failed);
  EXPECT_EQ(f.detail, "no answer within 120 s");
  probe_output missing;
  missing.started = false;
  missing.err = "/usr/bin/deno: Permission denied";
  const auto not_started = judge(probe("deno"), missing);
  EXPECT_EQ(not_started.what, result::failed);
  EXPECT_EQ(not_started.fix,
            "the executable on PATH does not start: reinstall it, or take it off PATH");
}

TEST(doctor_judge, a_failed_lookup_of_the_check_host_is_a_bypass) {
  const std::vector<std::pair<std::string, probe_output>> cases = {
      {"curl", ran(6, "", "curl: (6) Could not resolve host: doctor.airlock.invalid\n")},
      {"wget", ran(4, "", "wget: unable to resolve host address ‘doctor.airlock.invalid’\n")},
      {"node", ran(1,
                   "fetch failed: TypeError: fetch failed Error: getaddrinfo ENOTFOUND "
                   "doctor.airlock.invalid ENOTFOUND\n")},
      {"java", ran(1, "request failed: java.net.UnknownHostException: doctor.airlock.invalid\n",
                   "Picked up JAVA_TOOL_OPTIONS: -Dx=y\n")},
      {"go", ran(1,
                 "get failed: Get \"https://doctor.airlock.invalid/\": dial tcp: lookup "
                 "doctor.airlock.invalid: no such host\n")},
      {"npm", ran(1, "",
                  "npm error code ENOTFOUND\nnpm error request to "
                  "https://doctor.airlock.invalid/-/ping failed, reason: getaddrinfo "
                  "ENOTFOUND doctor.airlock.invalid\nnpm error If you are behind a "
                  "proxy, please make sure that the 'proxy' config is set properly.\n")},
      // Python says which proxy urllib chose: none is a bypass whatever the error.
      {"python3", ran(1,
                      "proxy: none\nurllib failed: URLError(gaierror(-2, 'Name or service "
                      "not known'))\n")},
  };
  for (const auto& [name, output] : cases) {
    SCOPED_TRACE(name);
    const auto f = judge(probe(name), output);
    EXPECT_EQ(f.what, result::bypass) << f.detail;
    EXPECT_EQ(f.proxy_used, answer::no);
    EXPECT_EQ(f.fix, probe(name).fix_bypass);
    EXPECT_FALSE(f.detail.empty());
  }
  EXPECT_NE(probe("node").fix_bypass.find("NODE_USE_ENV_PROXY=1"), std::string::npos);
  EXPECT_NE(probe("node").fix_bypass.find("ANTHROPIC_BASE_URL={proxy}/anthropic"),
            std::string::npos);
}

// The proxy's own name failing is not a bypass: the runtime did try the proxy.
TEST(doctor_judge, a_proxy_that_cannot_be_reached_is_a_failure_not_a_bypass) {
  const std::vector<std::pair<std::string, probe_output>> cases = {
      {"curl", ran(5, "", "curl: (5) Could not resolve proxy: airlock\n")},
      {"wget", ran(4, "", "wget: unable to resolve host address ‘airlock’\n")},
      {"go", ran(1,
                 "get failed: Get \"https://doctor.airlock.invalid/\": proxyconnect tcp: dial "
                 "tcp: lookup airlock: no such host\n")},
      {"pip", ran(1, "",
                  "ERROR: Could not fetch URL https://doctor.airlock.invalid/simple/: "
                  "HTTPSConnectionPool(host='doctor.airlock.invalid', port=443): Max "
                  "retries exceeded (Caused by ProxyError('Cannot connect to proxy.', "
                  "NewConnectionError('Name or service not known')))\n")},
      {"python3", ran(1,
                      "proxy: http://airlock:3128\nurllib failed: URLError(gaierror(-2, "
                      "'Name or service not known'))\n")},
      {"curl", ran(7, "",
                   "curl: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: "
                   "Couldn't connect to server\n")},
  };
  for (const auto& [name, output] : cases) {
    SCOPED_TRACE(name);
    const auto f = judge(probe(name), output);
    EXPECT_EQ(f.what, result::failed) << f.detail;
    EXPECT_EQ(f.proxy_used, answer::unknown);
    EXPECT_NE(f.fix.find("{proxy}"), std::string::npos);
  }
}

TEST(doctor_judge, certificate_errors_mean_the_proxy_was_used_and_the_ca_not_trusted) {
  const std::vector<std::pair<std::string, probe_output>> cases = {
      {"curl", ran(60, "",
                   "curl: (60) SSL certificate problem: self-signed certificate in "
                   "certificate chain\n")},
      {"wget", ran(5, "",
                   "ERROR: The certificate of ‘doctor.airlock.invalid’ is not trusted.\n"
                   "ERROR: The certificate of ‘doctor.airlock.invalid’ doesn't have a "
                   "known issuer.\n")},
      {"python3", ran(1,
                      "proxy: http://127.0.0.1:3128\nurllib failed: "
                      "URLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
                      "certificate verify failed: self-signed certificate in certificate "
                      "chain (_ssl.c:1006)'))\n")},
      {"node", ran(1,
                   "fetch failed: TypeError: fetch failed Error: self-signed certificate in "
                   "certificate chain SELF_SIGNED_CERT_IN_CHAIN\n")},
      {"java", ran(1,
                   "request failed: javax.net.ssl.SSLHandshakeException: PKIX path building "
                   "failed: unable to find valid certification path to requested target\n")},
      {"go", ran(1,
                 "get failed: Get \"https://doctor.airlock.invalid/\": tls: failed to verify "
                 "certificate: x509: certificate signed by unknown authority\n")},
      {"git", ran(128, "",
                  "fatal: unable to access "
                  "'https://doctor.airlock.invalid/airlock-doctor.git/': server "
                  "certificate verification failed. CAfile: none CRLfile: none\n")},
      {"npm", ran(1, "", "npm error code SELF_SIGNED_CERT_IN_CHAIN\n")},
      {"deno", ran(1,
                   "fetch failed: TypeError: error sending request: invalid peer "
                   "certificate: UnknownIssuer\n")},
  };
  for (const auto& [name, output] : cases) {
    SCOPED_TRACE(name);
    const auto f = judge(probe(name), output);
    EXPECT_EQ(f.what, result::untrusted) << f.detail;
    EXPECT_EQ(f.proxy_used, answer::yes);
    EXPECT_EQ(f.ca_trusted, answer::no);
    EXPECT_EQ(f.fix, probe(name).fix_untrusted);
  }
  EXPECT_NE(probe("npm").fix_untrusted.find("cafile"), std::string::npos);
  EXPECT_NE(probe("wget").fix_untrusted.find("ca_certificate"), std::string::npos);
  EXPECT_NE(probe("java").fix_untrusted.find("trustStore"), std::string::npos);
}

TEST(doctor_judge, a_java_without_a_compiler_is_skipped_not_failed) {
  const auto f = judge(probe("java"), ran(1, "", "error: module not found: jdk.compiler\n"));
  EXPECT_EQ(f.what, result::skipped);
  EXPECT_FALSE(is_problem(f.what));
  // The same words from another runtime mean nothing special.
  EXPECT_EQ(judge(probe("curl"), ran(1, "", "jdk.compiler\n")).what, result::failed);
}

TEST(doctor_judge, details_are_one_short_line) {
  const auto f = judge(
      probe("curl"),
      ran(60, "", "curl: (60) SSL certificate problem: " + std::string(1000, 'x') + "\nmore\n"));
  EXPECT_LE(f.detail.size(), 240u);
  EXPECT_EQ(f.detail.find('\n'), std::string::npos);
}

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  };
}

TEST(doctor_env, the_proxy_variable_tools_read_first) {
  EXPECT_FALSE(proxy_from_env(env_of({})));
  EXPECT_FALSE(proxy_from_env(env_of({{"HTTPS_PROXY", ""}})));
  auto p = proxy_from_env(env_of({{"HTTP_PROXY", "http://b:2"}, {"HTTPS_PROXY", "http://a:1"}}));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->variable, "HTTPS_PROXY");
  p = proxy_from_env(env_of({{"https_proxy", "http://c:3"}, {"HTTPS_PROXY", "http://a:1"}}));
  EXPECT_EQ(p->variable, "https_proxy");
}

TEST(doctor_env, proxy_urls) {
  std::string why;
  auto a = parse_proxy_url("http://127.0.0.1:3128", why);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 3128);
  a = parse_proxy_url("http://user:secret@airlock:3128/", why);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->display, "http://airlock:3128");  // the password is never shown
  a = parse_proxy_url("[::1]:3128", why);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->display, "http://[::1]:3128");
  a = parse_proxy_url("HTTP://airlock", why);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 80);
  for (std::string_view bad : {"https://airlock:3128", "socks5://a:1", "http://:3128", "http://a:0",
                               "http://a:70000", "http://a:12x", "http://[::1"}) {
    why.clear();
    EXPECT_FALSE(parse_proxy_url(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(doctor_env, the_kit_directory_comes_from_what_was_sourced) {
  EXPECT_EQ(kit_dir(env_of({})), "/run/airlock");
  EXPECT_EQ(kit_dir(env_of({{"SSL_CERT_FILE", "/etc/kit/ca-bundle.pem"}})), "/etc/kit");
  EXPECT_EQ(kit_dir(env_of({{"SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"},
                            {"NODE_EXTRA_CA_CERTS", "/k/ca.pem"}})),
            "/k");
  EXPECT_EQ(kit_dir(env_of({{"SSL_CERT_FILE", "/x/my-ca-bundle.pem"}})), "/run/airlock");
}

}  // namespace
}  // namespace airlock::proxy::doctor

// What the doctor prints and exits with.

#include "proxy/doctor/report.hpp"

#include <gtest/gtest.h>

#include "proxy/doctor/proxy_check.hpp"

namespace airlock::proxy::doctor {
namespace {

report healthy() {
  report r;
  r.kit = "/run/airlock";
  r.proxy = {"HTTPS_PROXY", "http://127.0.0.1:3128", true, true, "answered by airlock 0.1.0"};
  r.runtimes.push_back({"curl", "/usr/bin/curl", {result::ok, answer::yes, answer::yes, {}, {}}});
  r.runtimes.push_back({"java",
                        "/usr/bin/java",
                        {result::skipped, answer::unknown, answer::unknown, "no compiler", {}}});
  return r;
}

TEST(doctor_report, exit_code_is_zero_only_when_airlock_answered_and_nothing_failed) {
  report r = healthy();
  EXPECT_EQ(exit_code(r), 0);  // skipped says nothing either way
  for (result bad : {result::bypass, result::untrusted, result::failed}) {
    report b = healthy();
    b.runtimes.front().found.what = bad;
    EXPECT_EQ(exit_code(b), 1) << result_name(bad);
  }
  r.proxy.airlock = false;
  EXPECT_EQ(exit_code(r), 1);
  report none;
  EXPECT_EQ(exit_code(none), 1);  // no proxy at all
}

TEST(doctor_report, the_table_names_the_runtime_and_its_fix) {
  report r = healthy();
  r.runtimes.push_back(
      {"python3",
       "/usr/bin/python3",
       {result::untrusted, answer::yes, answer::no, "urllib failed: CERTIFICATE_VERIFY_FAILED",
        "source {kit}/ca.env (SSL_CERT_FILE)"}});
  r.runtimes.push_back({"node",
                        "/usr/bin/node",
                        {result::bypass, answer::no, answer::unknown, "getaddrinfo ENOTFOUND",
                         "use ANTHROPIC_BASE_URL={proxy}/anthropic"}});
  const std::string t = render_table(r);
  EXPECT_NE(t.find("python3 /usr/bin/python3 yes   no  untrusted\n"), std::string::npos) << t;
  EXPECT_NE(t.find("node    /usr/bin/node    no    -   bypass\n"), std::string::npos) << t;
  EXPECT_NE(t.find("python3 (untrusted): urllib failed: CERTIFICATE_VERIFY_FAILED\n  fix: source "
                   "/run/airlock/ca.env (SSL_CERT_FILE)\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("  fix: use ANTHROPIC_BASE_URL=http://127.0.0.1:3128/anthropic\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("2 of 4 runtimes would bypass airlock or fail"), std::string::npos) << t;
  EXPECT_NE(render_table(healthy()).find("every runtime found goes through airlock"),
            std::string::npos);
}

TEST(doctor_report, json_has_every_field_and_null_for_unknown) {
  report r = healthy();
  r.runtimes.push_back(
      {"node",
       "/usr/bin/node",
       {result::bypass, answer::no, answer::unknown, "ENOTFOUND \"x\"", "fix {kit}"}});
  const std::string j = render_json(r);
  EXPECT_EQ(j.rfind("{\"ok\":false,\"check_host\":\"doctor.airlock.invalid\",\"kit\":"
                    "\"/run/airlock\",\"proxy\":{\"variable\":\"HTTPS_PROXY\",",
                    0),
            0u)
      << j;
  EXPECT_NE(j.find("{\"name\":\"node\",\"path\":\"/usr/bin/node\",\"result\":\"bypass\","
                   "\"proxy_used\":false,\"ca_trusted\":null,\"detail\":\"ENOTFOUND \\\"x\\\"\","
                   "\"fix\":\"fix /run/airlock\"}"),
            std::string::npos)
      << j;
  EXPECT_EQ(j.back(), '\n');
}

TEST(doctor_report, the_proxy_check_fixes) {
  report r;
  r.kit = "/k";
  EXPECT_NE(proxy_fix(r).find("no proxy is set: source /k/proxy.env"), std::string::npos);
  r.proxy = {"HTTPS_PROXY", "http://127.0.0.1:1", false, false, "cannot connect"};
  EXPECT_NE(proxy_fix(r).find("nothing answered at http://127.0.0.1:1"), std::string::npos);
  r.proxy.reached = true;
  EXPECT_NE(proxy_fix(r).find("not as airlock"), std::string::npos);
  r.proxy.airlock = true;
  EXPECT_EQ(proxy_fix(r), "");
}

TEST(doctor_report, only_airlocks_check_answer_counts) {
  std::string line;
  EXPECT_TRUE(
      is_check_answer("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nairlock-doctor-ok: "
                      "answered by airlock 0.1.0 as a forward proxy (plain http)\n",
                      line));
  EXPECT_EQ(line, "answered by airlock 0.1.0 as a forward proxy (plain http)");
  EXPECT_FALSE(is_check_answer("HTTP/1.1 502 Bad Gateway\r\n\r\nairlock-doctor-ok", line));
  EXPECT_EQ(line, "answered \"HTTP/1.1 502 Bad Gateway\" without the check's marker");
  EXPECT_FALSE(is_check_answer("HTTP/1.1 200 OK\r\n\r\n<html>proxy</html>", line));
  EXPECT_FALSE(is_check_answer("", line));
  EXPECT_EQ(line, "no HTTP answer");
}

}  // namespace
}  // namespace airlock::proxy::doctor

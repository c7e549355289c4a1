// What airlock answers on the doctor's check host: the shapes each runtime's probe needs,
// the marker in each, and nothing of the request reflected.

#include "proxy/policy/check_host.hpp"

#include <gtest/gtest.h>

namespace airlock::proxy {
namespace {

TEST(check_host, the_name_is_exact) {
  EXPECT_TRUE(is_check_host("doctor.airlock.invalid"));
  for (std::string_view other :
       {"airlock.invalid", "x.doctor.airlock.invalid", "doctor.airlock.invalid.example.com",
        "doctor.airlock.internal", ""}) {
    EXPECT_FALSE(is_check_host(other)) << other;
  }
}

TEST(check_host, a_plain_get_names_airlock_and_how_it_came) {
  auto a = answer_check("GET", "/", "1.2.3", true);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "text/plain");
  EXPECT_EQ(a.body, "airlock-doctor-ok: answered by airlock 1.2.3 inside an intercepted tunnel\n");
  a = answer_check("HEAD", "/anything?q=1", "1.2.3", false);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body,
            "airlock-doctor-ok: answered by airlock 1.2.3 as a forward proxy (plain http)\n");
}

TEST(check_host, git_smart_http_advertises_one_ref_named_after_the_marker) {
  const auto a =
      answer_check("GET", "/airlock-doctor.git/info/refs?service=git-upload-pack", "1", true);
  EXPECT_EQ(a.content_type, "application/x-git-upload-pack-advertisement");
  const std::string ref = std::string(40, '0') + " refs/heads/airlock-doctor-ok" +
                          std::string(1, '\0') + "agent=airlock\n";
  EXPECT_EQ(a.body, "001e# service=git-upload-pack\n0000" + std::string("0058") + ref + "0000");
  EXPECT_EQ(ref.size() + 4, 0x58u);
  // Without the smart service (dumb HTTP) it is the plain answer.
  EXPECT_EQ(answer_check("GET", "/x.git/info/refs", "1", true).content_type, "text/plain");
}

TEST(check_host, pip_and_npm_get_what_they_parse) {
  auto a = answer_check("GET", "/simple/airlock-doctor-ok/", "1", true);
  EXPECT_EQ(a.content_type, "text/html");
  EXPECT_NE(a.body.find("<a href=\"airlock-doctor-ok-1.0.tar.gz\">"), std::string::npos);
  a = answer_check("GET", "/-/ping?write=true", "1", true);
  EXPECT_EQ(a.content_type, "application/json");
  EXPECT_EQ(a.body, "{\"ok\":\"airlock-doctor-ok\",\"server\":\"airlock\"}\n");
}

TEST(check_host, other_methods_are_refused_and_nothing_is_reflected) {
  for (std::string_view method : {"POST", "PUT", "DELETE", "TRACE", "OPTIONS", "get"}) {
    const auto a = answer_check(method, "/", "1", true);
    EXPECT_EQ(a.status, 405) << method;
    EXPECT_EQ(a.body.find(method), std::string::npos);
  }
  for (std::string_view target : {"/<script>alert(1)</script>", "/simple/<script>/", "/-/ping<x>",
                                  "/a/info/refs?service=git-upload-pack<x>"}) {
    const auto a = answer_check("GET", target, "1", true);
    EXPECT_EQ(a.body.find("script"), std::string::npos) << target;
    EXPECT_EQ(a.body.find("<x>"), std::string::npos) << target;
  }
}

}  // namespace
}  // namespace airlock::proxy

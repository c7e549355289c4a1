// The doctor's check host on the wire: airlock answers doctor.airlock.invalid itself, inside
// an intercepted tunnel (a leaf from the workspace CA) and as a plain forward request, before
// the egress policy and every credential rule: a deny-by-default workspace still answers it,
// a rule written for its name injects nothing, nothing is dialled, and the answer holds no
// secret and nothing of the request.

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

using check_host_test = intercept_test;

TEST_F(check_host_test, AnsweredHereWhateverThePolicyAndTheRulesSay) {
  airlock_settings settings;
  settings.egress_yaml = "  default: deny\n  deny: [doctor.airlock.invalid]\n";
  start_intercepting("  key: { env: KEY }\n",
                     "  - { host: \"*.airlock.invalid\", headers: { x-api-key: \"{{key}}\" } }\n"
                     "  - { host: doctor.airlock.invalid, query: { key: \"{{key}}\" } }\n",
                     {{"KEY", api_key}}, settings);

  auto r = fetch({"-i", "-H", "X-Echo-Me: agent-text", "https://doctor.airlock.invalid/?x=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;  // the exported CA vouches for the check host
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\r\n\r\nairlock-doctor-ok: answered by airlock "), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("inside an intercepted tunnel\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("Cache-Control: no-store\r\n"), std::string::npos);
  EXPECT_EQ(r.body.find("Access-Control"), std::string::npos);
  EXPECT_EQ(r.body.find(api_key), std::string::npos);
  EXPECT_EQ(r.body.find("agent-text"), std::string::npos);

  // Other methods: 405 with Allow; HEAD: the head alone.
  r = fetch({"-i", "-d", "x", "https://doctor.airlock.invalid/"});
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.body.find("Allow: GET, HEAD\r\n"), std::string::npos) << r.body;
  r = fetch({"-I", "https://doctor.airlock.invalid/"});
  EXPECT_EQ(r.status, 200);

  // As a forward proxy, plain http.
  const auto plain = split_status(curl({"-w", "\n%{http_code}", "http://doctor.airlock.invalid/"}));
  EXPECT_EQ(plain.status, 200);
  EXPECT_NE(plain.body.find("as a forward proxy (plain http)"), std::string::npos) << plain.body;

  // A name that only looks like it is an ordinary host: refused by the policy here.
  auto client = connect();
  ASSERT_TRUE(
      client->send("CONNECT x.doctor.airlock.invalid:443 HTTP/1.1\r\nHost: "
                   "x.doctor.airlock.invalid:443\r\n\r\n"));
  const auto refused = client->read_response(5s, true);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(refused->header("x-airlock-reason"), "egress_denied rule=default-deny");

  const std::string log = airlock_output();
  EXPECT_EQ(log.find(api_key), std::string::npos);
  EXPECT_NE(log.find("mode=intercept method=GET authority=doctor.airlock.invalid:443 path=/"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("upstream_ms=0"), std::string::npos);  // nothing was dialled
}

// An origin-form request to the listener is not a proxy request: the check host is not
// answered there, whatever Host says.
TEST_F(check_host_test, NotAnsweredOnTheListenerItself) {
  start_airlock();
  auto client = connect();
  ASSERT_TRUE(client->send("GET / HTTP/1.1\r\nHost: doctor.airlock.invalid\r\n\r\n"));
  const auto r = client->read_response(5s, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body.find("airlock-doctor-ok"), std::string::npos);
}

}  // namespace
}  // namespace airlock::test

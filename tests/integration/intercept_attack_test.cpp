// What an agent could try to get a credential sent somewhere else: a Host field naming
// another authority inside the tunnel, a CONNECT to a host without rules that names the
// credential host inside, an upstream whose certificate does not prove its name, and a
// redirect. Each must leave the secret inside airlock.

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;
using intercept_attack_test = intercept_test;

// The one answer to a Host that names another authority than the request goes to, inside a
// tunnel as for absolute-form and CONNECT: 400 with reason host_mismatch (RFC 9112 3.2).
TEST_F(intercept_attack_test, HostDisagreeingWithConnectIs400HostMismatchAndNothingIsSent) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  const auto r = fetch({"-i", "-H", "Host: evil.test", https_url(*up, "/v1/x")});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("Proxy-Status: airlock; error=http_request_error"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("X-Airlock-Reason: host_mismatch"), std::string::npos) << r.body;
  EXPECT_EQ(count_of(r.body, api_key), 0u);
  // Refused before the upstream was dialed: not a single connection, let alone a byte.
  EXPECT_EQ(up->connections(), 0u);
  EXPECT_EQ(up->received(), "");
}

// Exact bytes inside the tunnel: every way of naming another authority than the
// CONNECT's is refused before anything goes upstream.
TEST_F(intercept_attack_test, OtherAuthoritiesInsideTheTunnelAreRefused) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});
  const std::string self = "localhost:" + std::to_string(up->port());
  const std::string other_port = "localhost:" + std::to_string(unused_port());

  struct attempt {
    std::string name;
    std::string request;
    int status;
  };
  const std::vector<attempt> attempts = {
      {"other host", "GET /v1/x HTTP/1.1\r\nHost: evil.test\r\n\r\n", 400},
      {"same host, other port", "GET /v1/x HTTP/1.1\r\nHost: " + other_port + "\r\n\r\n", 400},
      {"a second Host field", "GET /v1/x HTTP/1.1\r\nHost: " + self + "\r\nHost: evil.test\r\n\r\n",
       400},
      {"absolute-form to another host",
       "GET https://evil.test/v1/x HTTP/1.1\r\nHost: " + self + "\r\n\r\n", 400},
      {"absolute-form to the same host",
       "GET https://" + self + "/v1/x HTTP/1.1\r\nHost: " + self + "\r\n\r\n", 400},
      {"userinfo in Host", "GET /v1/x HTTP/1.1\r\nHost: " + self + "@evil.test\r\n\r\n", 0},
  };
  for (const auto& a : attempts) {
    SCOPED_TRACE(a.name);
    auto tunnel = open_tunnel(up->port());
    ASSERT_TRUE(tunnel);
    ASSERT_TRUE(tunnel->send(a.request));
    const auto r = tunnel->read_response(5s);
    ASSERT_TRUE(r);
    if (a.status != 0) {
      EXPECT_EQ(r->status, a.status) << r->head;
    } else {
      EXPECT_EQ(r->status, 400) << r->head;
    }
    EXPECT_TRUE(tunnel->wait_closed(2s));
  }
  EXPECT_EQ(up->connections(), 0u);
  EXPECT_EQ(up->received(), "");
}

// Field names a lenient parser would read as "x-api-key" but a strict strip would not
// match: each would put the agent's value beside the injected one. Refused whole.
TEST_F(intercept_attack_test, MalformedFieldsInsideTheTunnelAreRefused) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});
  const std::string host = "Host: localhost:" + std::to_string(up->port()) + "\r\n";

  for (const std::string fields :
       {"x-api-key : one\r\n", "x-api-key\t: one\r\n", "X-Other: a\r\n x-api-key: one\r\n",
        "X-Other: a\nx-api-key: one\r\n"}) {
    SCOPED_TRACE(fields);
    auto tunnel = open_tunnel(up->port());
    ASSERT_TRUE(tunnel);
    ASSERT_TRUE(tunnel->send("GET /v1/x HTTP/1.1\r\n" + host + fields + "\r\n"));
    const auto r = tunnel->read_response(5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->head;
  }
  EXPECT_EQ(up->connections(), 0u);
}

// Pipelined requests are judged one by one: a good first request does not vouch for
// the second.
TEST_F(intercept_attack_test, PipelinedRequestWithAnotherHostIsRefused) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /first HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) +
                           "\r\n\r\n"
                           "GET /second HTTP/1.1\r\nHost: evil.test\r\n\r\n"));
  const auto first = tunnel->read_response(5s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  const auto second = tunnel->read_response(5s);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 400);
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(request_line(up->requests()[0]), "GET /first HTTP/1.1");
}

// A chunked body's trailer section is a second place for fields, read after the head was
// checked: on a request that carries a credential, a trailer repeating the injected field
// would reach the upstream beside it. airlock refuses the body before the trailer's first
// byte goes up.
TEST_F(intercept_attack_test, TrailerRepeatingTheInjectedFieldNeverReachesTheUpstream) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("POST /v1/x HTTP/1.1\r\nHost: localhost:" + std::to_string(up->port()) +
                           "\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n0\r\nx-api-key: attacker-chosen\r\n\r\n"));
  const auto r = tunnel->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(up->received().find("attacker-chosen"), std::string::npos) << up->received();
}

// An agent that rejects airlock's certificate never gets to send a request, and
// airlock, which dials only once it has one, never contacts the upstream.
TEST_F(intercept_attack_test, AgentThatDoesNotTrustTheCaCausesNoUpstreamContact) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  const auto r = curl({"--cacert", pki_.ca_cert.string(), https_url(*up, "/v1/x")});
  EXPECT_EQ(r.exit_code, 60) << r.err;  // CURLE_PEER_FAILED_VERIFICATION
  EXPECT_EQ(up->connections(), 0u);
}

// "Host: localhost" names localhost:443 (RFC 9110 4.2.2: https's default port), not
// the CONNECT's localhost:PORT. airlock takes the missing port from the CONNECT instead.
// No credential goes astray (the bytes still go to the CONNECT authority), but it is a
// Host that disagrees with the CONNECT authority, which the design says is refused.
TEST_F(intercept_attack_test, HostWithoutPortMeansTheDefaultPort) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  ASSERT_TRUE(tunnel->send("GET /v1/x HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const auto r = tunnel->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->head;
  EXPECT_EQ(up->received(), "");
}

// The agent CONNECTs to a host no rule names and, inside its own TLS session, claims
// to talk to the credential host. airlock cannot see inside and must not try: blind.
TEST_F(intercept_attack_test, ConnectToHostWithoutRulesIsABlindTunnel) {
  auto credential_host = start_upstream();
  auto other = start_upstream(mint_leaf(pki_, "other", {"DNS:other.test"}));
  airlock_settings settings;
  const std::string other_authority = "other.test:" + std::to_string(other->port());
  settings.resolve[other_authority] = other->address();
  start_intercepting(anthropic_secret, x_api_key_rule(credential_host->port()),
                     {{"ANTHROPIC_KEY", api_key}}, settings);

  // The agent trusts the test CA: the certificate it sees is the upstream's own, which
  // is only possible if airlock did not intercept.
  const std::string claimed = "localhost:" + std::to_string(credential_host->port());
  const auto r =
      curl({"--cacert", pki_.ca_cert.string(), "-H", "Host: " + claimed, "-H",
            std::string("x-api-key: ") + placeholder, "https://" + other_authority + "/v1/x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(other->requests().size(), 1u);
  const std::string got = other->requests()[0];
  EXPECT_EQ(field_values(got, "host"), strings{claimed});
  EXPECT_EQ(field_values(got, "x-api-key"), strings{placeholder});
  EXPECT_EQ(count_of(got, api_key), 0u);
  EXPECT_EQ(credential_host->connections(), 0u);
  EXPECT_EQ(count_of(airlock_output(), "inject:"), 0u);
}

// The same server under another spelling of its authority (127.0.0.1 instead of the
// rule's "localhost") is another authority: no rule, no interception, no secret.
TEST_F(intercept_attack_test, SameServerUnderAnotherNameGetsNoSecret) {
  auto up = start_upstream();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});

  const auto r = curl({"--cacert", pki_.ca_cert.string(), "-H",
                       "Host: localhost:" + std::to_string(up->port()), "-H",
                       std::string("x-api-key: ") + placeholder,
                       "https://127.0.0.1:" + std::to_string(up->port()) + "/v1/x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{placeholder});
  EXPECT_EQ(count_of(up->received(), api_key), 0u);
}

TEST_F(intercept_attack_test, RulePortLimitsInterception) {
  auto ruled = start_upstream();
  auto unruled = start_upstream();
  start_intercepting(anthropic_secret,
                     "  - { host: localhost, port: " + std::to_string(ruled->port()) +
                         ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}});

  // Another port of the rule's host: a blind tunnel the agent verifies end to end.
  const auto blind = curl({"--cacert", pki_.ca_cert.string(), "-H",
                           std::string("x-api-key: ") + placeholder, https_url(*unruled, "/")});
  ASSERT_EQ(blind.exit_code, 0) << blind.err;
  ASSERT_EQ(unruled->requests().size(), 1u);
  EXPECT_EQ(field_values(unruled->requests()[0], "x-api-key"), strings{placeholder});
  EXPECT_EQ(count_of(unruled->received(), api_key), 0u);
  // The rule's own port is intercepted and injected.
  const auto injected =
      fetch({"-H", std::string("x-api-key: ") + placeholder, https_url(*ruled, "/")});
  ASSERT_EQ(injected.exit_code, 0) << injected.err;
  ASSERT_EQ(ruled->requests().size(), 1u);
  EXPECT_EQ(field_values(ruled->requests()[0], "x-api-key"), strings{api_key});
}

class untrusted_upstream_test : public intercept_test {
 protected:
  // The request must end in a 502 naming a certificate error (and saying `why`, when
  // given), and the upstream, which airlock did reach, must have received nothing: not
  // a request byte, not a handshake.
  void expect_refused(const tls_echo_server& up, std::string_view why = {}) {
    const auto r =
        fetch({"-i", "-H", std::string("x-api-key: ") + placeholder, https_url(up, "/v1/x")});
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_NE(r.body.find("error=tls_certificate_error"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(why), std::string::npos) << r.body;
    EXPECT_EQ(count_of(r.body, api_key), 0u);
    EXPECT_GE(up.connections(), 1u);
    EXPECT_EQ(up.handshakes(), 0u);
    EXPECT_EQ(up.received(), "");
    EXPECT_TRUE(up.requests().empty());
  }
};

TEST_F(untrusted_upstream_test, WrongNameCertificateIs502WithNoByteSent) {
  auto up = start_upstream(mint_leaf(pki_, "wrong", {"DNS:wrong.test", "IP:127.0.0.2"}));
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});
  expect_refused(*up, "hostname mismatch");
}

TEST_F(untrusted_upstream_test, SelfSignedCertificateIs502WithNoByteSent) {
  auto up = start_upstream(
      make_self_signed(scratch("pki"), "self-signed", {"DNS:localhost", "IP:127.0.0.1"}));
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});
  expect_refused(*up, "self-signed certificate");
}

TEST_F(untrusted_upstream_test, ExpiredCertificateIs502WithNoByteSent) {
  auto up = start_upstream(mint_expired_leaf(pki_, "expired", {"DNS:localhost", "IP:127.0.0.1"}));
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}});
  expect_refused(*up, "certificate has expired");
}

TEST_F(untrusted_upstream_test, CaOutsideTheTrustStoreIs502WithNoByteSent) {
  // The right name, signed by a CA that only tls.upstream.ca_file would add.
  auto up = start_upstream();
  airlock_settings settings;
  settings.extra_yaml = tls_yaml(false);
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}},
                     settings);
  expect_refused(*up);
}

// A redirect goes back to the agent; airlock never follows it, and when the agent
// follows it to another host, that host is not a credential host and gets nothing.
TEST_F(intercept_attack_test, RedirectIsReturnedNotFollowed) {
  auto collector = start_upstream(mint_leaf(pki_, "collector", {"DNS:collector.test"}));
  const std::string collector_authority = "collector.test:" + std::to_string(collector->port());
  auto up = std::make_unique<tls_echo_server>(
      tls_echo_options{localhost_cert(), [&](const std::string&) {
                         return "HTTP/1.1 302 Found\r\nLocation: https://" + collector_authority +
                                "/collect\r\nContent-Length: 0\r\n\r\n";
                       }});
  airlock_settings settings;
  settings.resolve[collector_authority] = collector->address();
  start_intercepting(anthropic_secret, x_api_key_rule(up->port()), {{"ANTHROPIC_KEY", api_key}},
                     settings);

  const auto r =
      fetch({"-i", "-H", std::string("x-api-key: ") + placeholder, https_url(*up, "/v1/x")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 302);
  EXPECT_NE(r.body.find("Location: https://" + collector_authority + "/collect"), std::string::npos)
      << r.body;
  EXPECT_EQ(collector->connections(), 0u);

  // The agent follows: it trusts airlock's CA for the credential host, the test CA for
  // the collector (reached through a blind tunnel).
  const auto both = scratch("both-cas.pem");
  write_file(both, read_file(airlock_ca()) + read_file(pki_.ca_cert));
  const auto followed = curl({"--cacert", both.string(), "-L", "-H",
                              std::string("x-api-key: ") + placeholder, https_url(*up, "/v1/x")});
  ASSERT_EQ(followed.exit_code, 0) << followed.err;
  ASSERT_EQ(collector->requests().size(), 1u);
  EXPECT_EQ(field_values(collector->requests()[0], "x-api-key"), strings{placeholder});
  EXPECT_EQ(count_of(collector->received(), api_key), 0u);
}

}  // namespace
}  // namespace airlock::test

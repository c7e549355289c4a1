// Upstreams that fail before TLS is established: refused, reset, silent, speaking only
// an obsolete protocol, or a name that does not resolve. Each ends in a 502/504 with a
// reason, and whatever the upstream did receive (a ClientHello at most) holds no
// credential: the request head is written only after verified TLS.

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/fault_server.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

using intercept_failure_test = intercept_test;

std::string url_for_port(std::uint16_t port) {
  return "https://localhost:" + std::to_string(port) + "/v1/x";
}

TEST_F(intercept_failure_test, RefusedUpstreamIs502) {
  const std::uint16_t port = unused_port();
  start_intercepting(anthropic_secret, x_api_key_rule(port), {{"ANTHROPIC_KEY", api_key}});

  const auto r = fetch({"-i", url_for_port(port)});
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.body.find("error=connection_refused"), std::string::npos) << r.body;
}

TEST_F(intercept_failure_test, UpstreamResettingTheHandshakeIs502) {
  fault_server up(fault::accept_then_reset);
  start_intercepting(anthropic_secret, x_api_key_rule(up.port()), {{"ANTHROPIC_KEY", api_key}});

  const auto r = fetch({"-i", url_for_port(up.port())});
  EXPECT_EQ(r.status, 502) << r.body;
  // The reset can beat airlock's view of the finished connect: then it is reported as a
  // failed connect rather than a failed handshake. Either way a reason, and a 502.
  EXPECT_TRUE(r.body.find("error=tls_protocol_error") != std::string::npos ||
              r.body.find("error=destination_unavailable") != std::string::npos)
      << r.body;
  EXPECT_GE(up.connections(), 1u);
}

// A plain TCP server that never answers: it gets airlock's ClientHello and nothing
// more, and the agent gets a 504 once the connect timeout (2 s in tests) has passed.
TEST_F(intercept_failure_test, SilentUpstreamIs504AndSawOnlyAClientHello) {
  recording_server up;
  start_intercepting(anthropic_secret, x_api_key_rule(up.port()), {{"ANTHROPIC_KEY", api_key}});

  const auto started = std::chrono::steady_clock::now();
  const auto r = fetch({"-i", url_for_port(up.port())});
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_NE(r.body.find("timed out"), std::string::npos) << r.body;
  EXPECT_LT(seconds_since(started), 10.0);
  const std::string got = up.received();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0], '\x16') << "not a TLS handshake record";
  EXPECT_EQ(count_of(got, api_key), 0u);
  EXPECT_EQ(count_of(got, "x-api-key"), 0u);
}

// OpenSSL 3 would still speak TLS 1.0 if asked (the fixture proves it with curl);
// airlock's upstream side never does: 1.2 at least.
TEST_F(intercept_failure_test, Tls10OnlyUpstreamIs502AndGetsNoRequest) {
  tls_echo_server up(tls_echo_options{localhost_cert(), {}, TLS1_VERSION});
  start_intercepting(anthropic_secret, x_api_key_rule(up.port()), {{"ANTHROPIC_KEY", api_key}});

  const auto r = fetch({"-i", url_for_port(up.port())});
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.body.find("error=tls_protocol_error"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("TLS handshake with localhost:" + std::to_string(up.port()) + " failed"),
            std::string::npos)
      << r.body;
  EXPECT_GE(up.connections(), 1u);
  EXPECT_EQ(up.handshakes(), 0u);
  EXPECT_EQ(up.received(), "");

  // The same server does complete a TLS 1.0 handshake with a client that offers it.
  const auto old = fetch_direct({"--cacert", pki_.ca_cert.string(), "--tlsv1.0", "--tls-max", "1.0",
                                 "--ciphers", "DEFAULT:@SECLEVEL=0", url_for_port(up.port())});
  EXPECT_EQ(old.status, 200) << old.err;
  EXPECT_EQ(up.handshakes(), 1u);
}

// A credential host whose name does not resolve: the tunnel is intercepted (airlock
// dials per request), and the request inside it gets the 502 with the reason.
TEST_F(intercept_failure_test, UnresolvableCredentialHostIs502InsideTheTunnel) {
  start_intercepting(anthropic_secret,
                     "  - { host: gone.invalid, headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}});

  const auto started = std::chrono::steady_clock::now();
  const auto r = fetch({"-i", "https://gone.invalid/v1/x"});
  EXPECT_LT(seconds_since(started), 5.0);
  expect_unresolvable(r.status, r.body, "gone.invalid");
  EXPECT_EQ(count_of(r.body, api_key), 0u);
}

}  // namespace
}  // namespace airlock::test

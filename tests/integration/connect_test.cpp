// CONNECT: a blind tunnel to the named authority, refused cleanly when the target
// cannot be reached and refused outright when the request disagrees with itself.

#include <gtest/gtest.h>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/nginx_upstream.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

using connect_test = proxy_test;

TEST_F(connect_test, TlsToNginxThroughTunnel) {
  nginx_upstream nginx(scratch("nginx"), true);
  write_file(nginx.www() / "small", "hello over tls\n");
  const std::string target = "localhost:" + std::to_string(nginx.tls_port());
  airlock_settings settings;
  // Pin the name to IPv4 loopback: tests touch no other address.
  settings.resolve[target] = "127.0.0.1:" + std::to_string(nginx.tls_port());
  start_airlock(settings);

  const auto r = curl({"--cacert", nginx.ca_cert().string(), "-w", "%{http_connect} %{http_code}",
                       "https://" + target + "/small"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello over tls\n200 200");
}

TEST_F(connect_test, TunnelCarriesBytesBothWays) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("CONNECT " + upstream.authority() +
                           " HTTP/1.1\r\nHost: " + upstream.authority() + "\r\n\r\n"));
  const auto established = client->read_response(5s, true);
  ASSERT_TRUE(established);
  EXPECT_EQ(established->status, 200);
  // Inside the tunnel, origin-form is what the upstream expects: airlock must not parse it.
  ASSERT_TRUE(client->send("GET /inside HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto inside = client->read_response(5s);
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->body, "ok");
  EXPECT_EQ(upstream.received(), "GET /inside HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST_F(connect_test, BytesSentWithTheConnectHeadGoThroughTheTunnel) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  // A client that does not wait for 200 before its first bytes (TLS false start style).
  ASSERT_TRUE(client->send("CONNECT " + upstream.authority() +
                           " HTTP/1.1\r\nHost: " + upstream.authority() +
                           "\r\n\r\nGET /early HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto established = client->read_response(5s, true);
  ASSERT_TRUE(established);
  EXPECT_EQ(established->status, 200);
  const auto inside = client->read_response(5s);
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->body, "ok");
  EXPECT_EQ(upstream.received(), "GET /early HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST_F(connect_test, HalfCloseIsPassedThrough) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("CONNECT " + upstream.authority() +
                           " HTTP/1.1\r\nHost: " + upstream.authority() + "\r\n\r\n"));
  ASSERT_TRUE(client->read_response(5s, true));
  // The request, then end of input: the answer must still come back.
  ASSERT_TRUE(client->send("GET /last HTTP/1.1\r\nHost: x\r\n\r\n"));
  client->shutdown_send();
  const auto inside = client->read_response(5s);
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->body, "ok");
  // The upstream saw the end of input and closed; so does the tunnel.
  EXPECT_TRUE(client->wait_closed(2s));
}

TEST_F(connect_test, RefusedTargetIs502WithProxyStatus) {
  const std::string target = "127.0.0.1:" + std::to_string(unused_port());
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n"));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  const auto status = r->header("Proxy-Status");
  ASSERT_TRUE(status) << r->head;
  EXPECT_NE(status->find("error=connection_refused"), std::string::npos) << *status;
  EXPECT_TRUE(client->wait_closed(2s));
}

TEST_F(connect_test, RefusedTargetThroughCurl) {
  const std::string target = "127.0.0.1:" + std::to_string(unused_port());
  start_airlock();

  const auto r = curl({"-w", "%{http_connect}", "https://" + target + "/"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "502");
}

TEST_F(connect_test, HostDisagreeingWithTargetIs400) {
  recording_server upstream;
  start_airlock();

  auto client = connect();
  ASSERT_TRUE(client->send("CONNECT " + upstream.authority() +
                           " HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n"));
  const auto r = client->read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(client->wait_closed(2s));
  EXPECT_EQ(upstream.connections(), 0u);
}

}  // namespace
}  // namespace airlock::test

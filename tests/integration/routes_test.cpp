// Reverse routes: clients that take a base URL (ANTHROPIC_BASE_URL=http://airlock/anthropic)
// instead of a proxy reach the upstream over verified TLS with the credential injected,
// and nobody else (a web page, a rebinding DNS name, a path climbing out of the prefix)
// gets to use the route.

#include <gtest/gtest.h>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

const std::string anthropic_secret = "  anthropic: { env: ANTHROPIC_KEY }\n";
// The rule for api.test on the test upstream's port ("api.test:PORT"): a rule without
// port: is for 443 only.
std::string api_test_rule(const std::string& authority) {
  return "  - { host: api.test, port: " + authority.substr(authority.find(':') + 1) +
         ", headers: { x-api-key: \"{{anthropic}}\" } }\n";
}

class routes_test : public intercept_test {
 protected:
  // An echo upstream presenting a test-CA leaf for api.test, reached through resolve:.
  std::unique_ptr<tls_echo_server> start_api(std::optional<cert_pair> cert = std::nullopt) {
    auto up = start_upstream(cert ? *cert : mint_leaf(pki_, "api", {"DNS:api.test"}));
    api_ = "api.test:" + std::to_string(up->port());
    return up;
  }

  // airlock with routes (YAML list items, indented by two), the api.test rule and the
  // anthropic secret set (unless env says otherwise).
  // extra_proxy: lines inside proxy:, indented by two.
  airlock_process& start_routes(const std::string& routes, const std::string& extra_proxy = "",
                                std::map<std::string, std::string> env = {
                                    {"ANTHROPIC_KEY", api_key}}) {
    airlock_settings settings;
    settings.resolve[api_] = "127.0.0.1:" + api_.substr(api_.find(':') + 1);
    settings.proxy_yaml = extra_proxy;
    settings.extra_yaml = tls_yaml() + "routes:\n" + routes;
    return start_intercepting(anthropic_secret, api_test_rule(api_), std::move(env), settings);
  }

  std::string route_url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(airlock_->port()) + path;
  }

  // curl straight at airlock (no -x): the way a client with a base URL talks to it.
  fetched direct(std::vector<std::string> args) { return fetch_direct(std::move(args)); }

  // One raw request to airlock; the response.
  std::optional<http_response> raw(const std::string& request) {
    auto client = connect();
    if (!client->send(request)) {
      return std::nullopt;
    }
    return client->read_response(5s);
  }

  std::string route_to_api(const std::string& prefix, const std::string& base = "") const {
    return "  - { prefix: " + prefix + ", upstream: \"https://" + api_ + base + "\" }\n";
  }

  std::string api_;  // "api.test:PORT"
};

TEST_F(routes_test, PrefixIsStrippedAndTheCredentialInjected) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic"));

  const auto r = direct({"-H", std::string("x-api-key: ") + placeholder, "-d", "{\"q\":1}",
                         route_url("/anthropic/v1/messages?beta=true")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(up->requests().size(), 1u);
  const std::string req = up->requests()[0];
  EXPECT_EQ(request_line(req), "POST /v1/messages?beta=true HTTP/1.1");
  EXPECT_EQ(field_values(req, "host"), strings{api_});
  EXPECT_EQ(field_values(req, "x-api-key"), strings{api_key});
  EXPECT_NE(req.find("{\"q\":1}"), std::string::npos) << req;
  EXPECT_EQ(count_of(req, placeholder), 0u);
  // The answer carries nothing of the secret back to the agent's side.
  EXPECT_EQ(count_of(airlock_output(), api_key), 0u);
}

TEST_F(routes_test, BasePathGoesInFrontOfTheRest) {
  auto up = start_api();
  start_routes(route_to_api("/gh", "/api/v3/"));

  for (const std::string path : {"/gh/user", "/gh", "/gh?per_page=1"}) {
    const auto r = direct({route_url(path)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.status, 200) << path;
  }
  const auto requests = up->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(request_line(requests[0]), "GET /api/v3/user HTTP/1.1");
  EXPECT_EQ(request_line(requests[1]), "GET /api/v3/ HTTP/1.1");
  EXPECT_EQ(request_line(requests[2]), "GET /api/v3/?per_page=1 HTTP/1.1");
}

TEST_F(routes_test, LongestPrefixWins) {
  auto up = start_api();
  start_routes(route_to_api("/a", "/short") + route_to_api("/a/b", "/long"));
  ASSERT_EQ(direct({route_url("/a/b/x")}).status, 200);
  ASSERT_EQ(direct({route_url("/a/bx")}).status, 200);
  const auto requests = up->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(request_line(requests[0]), "GET /long/x HTTP/1.1");
  EXPECT_EQ(request_line(requests[1]), "GET /short/bx HTTP/1.1");
}

// The way the Python SDKs take a base URL: python3-requests posting to it, one session.
TEST_F(routes_test, PythonRequestsWithABaseUrl) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic"));
  const std::string script =
      "import sys, requests\n"
      "s = requests.Session()\n"
      "base = sys.argv[1]\n"
      "a = s.get(base + '/v1/models', headers={'x-api-key': 'placeholder-from-agent'})\n"
      "b = s.post(base + '/v1/messages', json={'model': 'm'})\n"
      "print(a.status_code, b.status_code)\n";
  const auto r = run_command({"/usr/bin/python3", "-c", script, route_url("/anthropic")},
                             tmp_.path(), "python-requests", 30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "200 200");
  const auto requests = up->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(request_line(requests[0]), "GET /v1/models HTTP/1.1");
  EXPECT_EQ(request_line(requests[1]), "POST /v1/messages HTTP/1.1");
  for (const auto& req : requests) {
    EXPECT_EQ(field_values(req, "x-api-key"), strings{api_key}) << req;
  }
}

TEST_F(routes_test, KeepAliveRequestsAreEachRoutedAndInjected) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic"));
  auto client = connect();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->send("GET /anthropic/v1/n" + std::to_string(i) +
                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: x\r\n\r\n"));
    const auto resp = client->read_response(5s);
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->status, 200);
  }
  const auto requests = up->requests();
  ASSERT_EQ(requests.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(request_line(requests[i]), "GET /v1/n" + std::to_string(i) + " HTTP/1.1");
    EXPECT_EQ(field_values(requests[i], "x-api-key"), strings{api_key});
  }
  // The upstream connection was pooled: one handshake for all three.
  EXPECT_EQ(up->handshakes(), 1u);
}

TEST_F(routes_test, UnknownPrefixGets404NamingTheRoutes) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic") + route_to_api("/openai"));
  const auto r = direct({"-i", route_url("/anthropicx/v1/messages")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("routes: /anthropic, /openai"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("Proxy-Status: airlock; error=http_request_error"), std::string::npos)
      << r.body;
  EXPECT_EQ(up->requests().size(), 0u);
}

TEST_F(routes_test, ForwardProxyRequestsStillWorkBesideRoutes) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic"));
  const auto r = fetch({"https://" + api_ + "/v1/x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
}

// A web page the agent's browser opens cannot spend the workspace's credentials: a
// DNS name rebound to 127.0.0.1 shows up in Host, and a page's fetch carries Origin.
TEST_F(routes_test, AttackerRebindingHostIsRefused) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic"));
  for (const std::string host :
       {"evil.example:3128", "localhost.evil.example", "127.0.0.1.nip.io"}) {
    const auto resp = raw("GET /anthropic/v1/models HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    ASSERT_TRUE(resp) << host;
    EXPECT_EQ(resp->status, 403) << host;
    EXPECT_NE(resp->body.find("route_hosts"), std::string::npos) << resp->body;
  }
  EXPECT_EQ(up->requests().size(), 0u);
}

TEST_F(routes_test, ConfiguredRouteHostIsAccepted) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic"), "  route_hosts: [airlock]\n");
  const auto resp = raw("GET /anthropic/v1/models HTTP/1.1\r\nHost: airlock:3128\r\n\r\n");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
}

TEST_F(routes_test, AttackerBrowserOriginIsRefused) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic"));
  const auto r = direct(
      {"-H", "Origin: https://evil.example", "-d", "{}", route_url("/anthropic/v1/messages")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("Origin"), std::string::npos) << r.body;
  EXPECT_EQ(up->requests().size(), 0u);
}

TEST_F(routes_test, AttackerDotSegmentsAreRefused) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic", "/v1"));
  for (const std::string path :
       {"/anthropic/../admin", "/anthropic/%2e%2e/admin", "/anthropic/..%2fadmin"}) {
    const auto r = direct({"--path-as-is", route_url(path)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.status, 400) << path;
  }
  EXPECT_EQ(up->requests().size(), 0u);
}

// Behind the base path /v1, "/anthropic/..;/admin" goes up as "/v1/..;/admin", which
// Tomcat, Jetty and Spring read as "/admin": every spelling some server reads as another
// path is refused with a reason, while the plain path still goes through.
TEST_F(routes_test, AttackerAmbiguousPathsAreRefusedWithAReason) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic", "/v1"));
  for (const std::string path :
       {"/anthropic/..;/admin", "/anthropic/x;y/../../admin", "/anthropic/.;/admin",
        "/anthropic/%00/admin", "/anthropic/x%00.json", "/anthropic//admin",
        "/anthropic/%c0%ae%c0%ae/admin", "/anthropic/%252e%252e/admin", "/anthropic/..%3B/admin"}) {
    SCOPED_TRACE(path);
    const auto r = direct({"--path-as-is", route_url(path)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("must mean the same to every server"), std::string::npos) << r.body;
  }
  const auto dots = direct({"--path-as-is", route_url("/anthropic/..;/admin")});
  EXPECT_NE(dots.body.find("\";\" path parameter"), std::string::npos) << dots.body;
  EXPECT_EQ(up->requests().size(), 0u);

  const auto ok = direct({route_url("/anthropic/messages")});
  EXPECT_EQ(ok.status, 200) << ok.body;
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(request_line(up->requests()[0]), "GET /v1/messages HTTP/1.1");
}

TEST_F(routes_test, AttackerUntrustedUpstreamGets502AndNoKey) {
  auto up = start_api(make_self_signed(scratch("pki"), "self", {"DNS:api.test"}));
  start_routes(route_to_api("/anthropic"));
  const auto r = direct({route_url("/anthropic/v1/messages")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("certificate"), std::string::npos) << r.body;
  EXPECT_EQ(up->requests().size(), 0u);
  EXPECT_EQ(count_of(up->received(), api_key), 0u);
}

TEST_F(routes_test, MissingSecretGets503NamingIt) {
  auto up = start_api();
  start_routes(route_to_api("/anthropic"), "", {});
  const auto r = direct({route_url("/anthropic/v1/messages")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("\"anthropic\""), std::string::npos) << r.body;
  EXPECT_EQ(up->requests().size(), 0u);
}

// A route written with http:// to a credential host still goes over verified TLS.
TEST_F(routes_test, PlainHttpRouteToACredentialHostUsesTls) {
  auto up = start_api();
  start_routes("  - { prefix: /anthropic, upstream: \"http://" + api_ + "\" }\n");
  const auto r = direct({route_url("/anthropic/v1/messages")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{api_key});
  EXPECT_EQ(up->handshakes(), 1u);
}

// A route to a host without a rule relays the agent's own header and adds nothing.
TEST_F(routes_test, RouteWithoutARuleCarriesNoCredential) {
  auto up = start_upstream(mint_leaf(pki_, "other", {"DNS:other.test"}));
  api_ = "api.test:1";  // keeps start_routes' resolve entry harmless
  const std::string other = "other.test:" + std::to_string(up->port());
  airlock_settings settings;
  settings.resolve[other] = up->address();
  settings.extra_yaml =
      tls_yaml() + "routes:\n  - { prefix: /other, upstream: \"https://" + other + "\" }\n";
  start_intercepting(anthropic_secret, api_test_rule(api_), {{"ANTHROPIC_KEY", api_key}}, settings);
  const auto r = direct({"-H", "x-api-key: agent-own", route_url("/other/x")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(up->requests().size(), 1u);
  EXPECT_EQ(field_values(up->requests()[0], "x-api-key"), strings{"agent-own"});
  EXPECT_EQ(count_of(up->received(), api_key), 0u);
}

}  // namespace
}  // namespace airlock::test

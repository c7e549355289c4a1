// routes: and proxy.route_hosts: what loads, and where each mistake is reported.

#include <string>

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config/parse_values.hpp"

namespace airlock::config {
namespace {

config_error load_error(const std::string& yaml) {
  try {
    load_string(yaml, "r.yaml");
  } catch (const config_error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return config_error("r.yaml", -1, -1, "no error");
}

TEST(routes, load_with_defaults_per_scheme) {
  const config c = load_string(
      "routes:\n"
      "  - { prefix: /anthropic, upstream: https://API.Anthropic.com }\n"
      "  - { prefix: /local/svc/, upstream: \"http://[::1]:8080/base/v1/\" }\n"
      "  - { prefix: /gh, upstream: \"https://api.github.com.:8443\" }\n",
      "r.yaml");
  ASSERT_EQ(c.routes.size(), 3u);
  EXPECT_EQ(c.routes[0].prefix, "/anthropic");
  EXPECT_TRUE(c.routes[0].tls);
  EXPECT_EQ(c.routes[0].host, "api.anthropic.com");
  EXPECT_EQ(c.routes[0].port, 443);
  EXPECT_EQ(c.routes[0].base_path, "");
  EXPECT_FALSE(c.routes[0].ipv6);

  EXPECT_EQ(c.routes[1].prefix, "/local/svc");
  EXPECT_FALSE(c.routes[1].tls);
  EXPECT_EQ(c.routes[1].host, "::1");
  EXPECT_TRUE(c.routes[1].ipv6);
  EXPECT_EQ(c.routes[1].port, 8080);
  EXPECT_EQ(c.routes[1].base_path, "/base/v1");

  EXPECT_EQ(c.routes[2].host, "api.github.com");
  EXPECT_EQ(c.routes[2].port, 8443);
}

TEST(routes, http_default_port_is_80) {
  const config c = load_string("routes: [{prefix: /x, upstream: http://svc}]", "r.yaml");
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].port, 80);
}

TEST(routes, route_hosts_are_lowercased) {
  const config c = load_string("proxy: {route_hosts: [Airlock, airlock.ns.svc]}", "r.yaml");
  EXPECT_EQ(c.proxy.route_hosts, (std::vector<std::string>{"airlock", "airlock.ns.svc"}));
}

// proxy.agent_url: what proxy.env in the export directory names; plain http, no path.
TEST(routes, agent_url_loads_as_host_and_port) {
  const config none = load_string("proxy: {listen: \"0.0.0.0:3128\"}", "r.yaml");
  EXPECT_FALSE(none.proxy.agent_url.has_value());
  const config named = load_string("proxy: {agent_url: \"HTTP://Airlock:3128/\"}", "r.yaml");
  ASSERT_TRUE(named.proxy.agent_url.has_value());
  EXPECT_EQ(named.proxy.agent_url->host, "airlock");
  EXPECT_EQ(named.proxy.agent_url->port, 3128);
  const config v6 = load_string("proxy: {agent_url: \"http://[::1]:8080\"}", "r.yaml");
  ASSERT_TRUE(v6.proxy.agent_url.has_value());
  EXPECT_EQ(v6.proxy.agent_url->to_string(), "[::1]:8080");
  const config port80 = load_string("proxy: {agent_url: http://airlock}", "r.yaml");
  EXPECT_EQ(port80.proxy.agent_url->port, 80);
}

struct route_error {
  const char* name;
  std::string yaml;
  int line;
  int column;
  std::string_view message;
};

void PrintTo(const route_error& c, std::ostream* os) {
  *os << c.name;
}

class routes_error : public testing::TestWithParam<route_error> {};

TEST_P(routes_error, names_line_and_column) {
  const auto& c = GetParam();
  const auto e = load_error(c.yaml);
  EXPECT_EQ(e.file(), "r.yaml");
  EXPECT_EQ(e.line(), c.line) << e.what();
  EXPECT_EQ(e.column(), c.column) << e.what();
  EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
}

INSTANTIATE_TEST_SUITE_P(
    all, routes_error,
    testing::Values(
        route_error{"not_a_list", "routes: {prefix: /a}\n", 1, 9, "expected a list"},
        route_error{"unknown_key", "routes:\n  - {prefix: /a, upstream: https://h, to: x}\n", 2, 39,
                    "unknown key \"to\""},
        route_error{"missing_upstream", "routes:\n  - {prefix: /a}\n", 2, 5,
                    "needs prefix and upstream"},
        route_error{"prefix_without_slash", "routes:\n  - {prefix: a, upstream: https://h}\n", 2,
                    14, "expected \"/name\""},
        route_error{"prefix_root", "routes:\n  - {prefix: /, upstream: https://h}\n", 2, 14,
                    "at least one path segment"},
        route_error{"prefix_dot_dot", "routes:\n  - {prefix: /a/.., upstream: https://h}\n", 2, 14,
                    "without . or .."},
        route_error{"prefix_percent", "routes:\n  - {prefix: /a%2f, upstream: https://h}\n", 2, 14,
                    "plain segments"},
        route_error{"prefix_twice",
                    "routes:\n  - {prefix: /a, upstream: https://h}\n"
                    "  - {prefix: /a/, upstream: https://g}\n",
                    3, 14, "routed twice"},
        route_error{"scheme", "routes:\n  - {prefix: /a, upstream: ftp://h}\n", 2, 28,
                    "https or http"},
        route_error{"no_scheme", "routes:\n  - {prefix: /a, upstream: h:443}\n", 2, 28,
                    "expected \"https://host"},
        route_error{"userinfo", "routes:\n  - {prefix: /a, upstream: \"https://u:p@h\"}\n", 2, 28,
                    "user names and passwords"},
        route_error{"query", "routes:\n  - {prefix: /a, upstream: \"https://h/p?key=1\"}\n", 2, 28,
                    "no query"},
        route_error{"bad_port", "routes:\n  - {prefix: /a, upstream: \"https://h:99999\"}\n", 2, 28,
                    "port must be"},
        route_error{"empty_port", "routes:\n  - {prefix: /a, upstream: \"https://h:\"}\n", 2, 28,
                    "port must be"},
        route_error{"bad_host", "routes:\n  - {prefix: /a, upstream: \"https://h_$x\"}\n", 2, 28,
                    "not a host name"},
        route_error{"empty_host", "routes:\n  - {prefix: /a, upstream: \"https:///v1\"}\n", 2, 28,
                    "not a host name"},
        route_error{"bad_ipv6", "routes:\n  - {prefix: /a, upstream: \"https://[zz]:1\"}\n", 2, 28,
                    "not an IPv6 address"},
        route_error{"base_dot_dot", "routes:\n  - {prefix: /a, upstream: \"https://h/v1/../x\"}\n",
                    2, 28, "without . or .."},
        route_error{"base_percent", "routes:\n  - {prefix: /a, upstream: \"https://h/v%31\"}\n", 2,
                    28, "plain segments"},
        route_error{"route_hosts_port", "proxy:\n  route_hosts: [\"airlock:3128\"]\n", 2, 17,
                    "not a host name"},
        route_error{"route_hosts_map", "proxy:\n  route_hosts: {a: b}\n", 2, 16, "expected a list"},
        route_error{"agent_url_https", "proxy:\n  agent_url: https://airlock:3128\n", 2, 14,
                    "proxy.agent_url: expected \"http://host:port\" (airlock's listener speaks "
                    "plain http), got \"https://airlock:3128\""},
        route_error{"agent_url_bare", "proxy:\n  agent_url: airlock:3128\n", 2, 14,
                    "expected \"http://host:port\""},
        route_error{"agent_url_path", "proxy:\n  agent_url: http://airlock:3128/anthropic\n", 2, 14,
                    "proxy.agent_url: expected \"http://host:port\" without a path"},
        route_error{"agent_url_userinfo", "proxy:\n  agent_url: \"http://u:p@airlock:1\"\n", 2, 14,
                    "user names and passwords"},
        route_error{"agent_url_port", "proxy:\n  agent_url: \"http://airlock:0\"\n", 2, 14,
                    "port must be"},
        route_error{"agent_url_host", "proxy:\n  agent_url: \"http://air lock:1\"\n", 2, 14,
                    "not a host name"}),
    [](const testing::TestParamInfo<route_error>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace airlock::config

// Reverse route decisions: which route, which upstream path, and who may use it.

#include "proxy/policy/routes.hpp"

#include <gtest/gtest.h>

namespace airlock::proxy {
namespace {

config::route make_route(std::string prefix, std::string base = "") {
  config::route r;
  r.prefix = std::move(prefix);
  r.host = "api.example.com";
  r.base_path = std::move(base);
  return r;
}

const std::vector<config::route> routes = {make_route("/anthropic"), make_route("/gh"),
                                           make_route("/gh/uploads", "/up")};

TEST(match_route, prefix_covers_itself_its_subpaths_and_a_query) {
  for (std::string_view target : {"/anthropic", "/anthropic/v1/messages", "/anthropic?x=1"}) {
    const auto m = match_route(routes, target);
    ASSERT_TRUE(m) << target;
    EXPECT_EQ(m->route->prefix, "/anthropic");
    EXPECT_EQ(m->rest, target.substr(10));
  }
}

TEST(match_route, a_longer_name_is_not_covered) {
  EXPECT_FALSE(match_route(routes, "/anthropicx/v1"));
  EXPECT_FALSE(match_route(routes, "/ghost"));
}

TEST(match_route, comparison_is_byte_for_byte) {
  EXPECT_FALSE(match_route(routes, "/Anthropic/v1"));
  EXPECT_FALSE(match_route(routes, "/%61nthropic/v1"));
  EXPECT_FALSE(match_route(routes, "//anthropic/v1"));
  EXPECT_FALSE(match_route(routes, "/"));
}

TEST(match_route, longest_prefix_wins_whatever_the_order) {
  auto m = match_route(routes, "/gh/uploads/x");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->route->prefix, "/gh/uploads");
  EXPECT_EQ(m->rest, "/x");
  m = match_route(routes, "/gh/repos");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->route->prefix, "/gh");
}

TEST(route_origin_form, joins_base_and_rest) {
  EXPECT_EQ(route_origin_form(make_route("/a"), ""), "/");
  EXPECT_EQ(route_origin_form(make_route("/a"), "?q=1"), "/?q=1");
  EXPECT_EQ(route_origin_form(make_route("/a"), "/v1/x?q"), "/v1/x?q");
  EXPECT_EQ(route_origin_form(make_route("/a", "/base"), ""), "/base/");
  EXPECT_EQ(route_origin_form(make_route("/a", "/base"), "/v1"), "/base/v1");
  EXPECT_EQ(route_origin_form(make_route("/a", "/base"), "?q"), "/base/?q");
}

refusal check(std::string_view rest, std::string_view host = "127.0.0.1:3128",
              bool origin = false) {
  return check_routed_request(rest, host, !host.empty(), origin, {"airlock"});
}

TEST(check_routed_request, ordinary_agent_requests_pass) {
  EXPECT_EQ(check("/v1/messages").status, 0);
  EXPECT_EQ(check("/v1/messages", "localhost:3128").status, 0);
  EXPECT_EQ(check("/v1/messages", "agent.localhost").status, 0);
  EXPECT_EQ(check("/v1/messages", "[::1]:3128").status, 0);
  EXPECT_EQ(check("/v1/messages", "10.0.0.7").status, 0);
  EXPECT_EQ(check("/v1/messages", "AIRLOCK:3128").status, 0);
  EXPECT_EQ(check("/v1/messages", "").status, 0);  // HTTP/1.0 without Host
  EXPECT_EQ(check("/v1/a..b/.well-known/x.y").status, 0);
  EXPECT_EQ(check("?path=/../x").status, 0);  // the query is not a path
}

TEST(check_routed_request, attacker_dot_segments_are_refused) {
  for (std::string_view rest : {"/..", "/../admin", "/v1/./x", "/%2e%2E/admin", "/.%2e/x",
                                "/..%2fadmin", "/..%5Cadmin", "/..\\admin", "/v1/%2E"}) {
    const refusal r = check(rest);
    EXPECT_EQ(r.status, 400) << rest;
  }
}

// Behind a base path "/v1", "/..;/admin" is "/v1/..;/admin": Tomcat, Jetty and Spring
// read "/admin". Every spelling a server reads as another path is refused with a reason.
TEST(check_routed_request, attacker_ambiguous_spellings_are_refused) {
  for (std::string_view rest :
       {"/..;/admin", "/x;y/../../admin", "/v1/%00/x", "/x%00.json", "//evil.example/x", "/v1//x",
        "/%c0%ae%c0%ae/admin", "/%252e%252e/admin", "/%u002e%u002e/admin", "/.../admin",
        "/%ef%bc%8e%ef%bc%8e/admin", "/v1/%3b/x", "/v1/%zz"}) {
    const refusal r = check(rest);
    EXPECT_EQ(r.status, 400) << rest;
    EXPECT_NE(r.detail.find("mean the same to every server"), std::string::npos) << r.detail;
  }
  EXPECT_NE(check("/..;/admin").detail.find("\";\" path parameter"), std::string::npos);
  EXPECT_NE(check("/v1/%00").detail.find("NUL"), std::string::npos);
}

TEST(check_routed_request, attacker_rebinding_host_is_refused) {
  for (std::string_view host : {"evil.example", "evil.example:3128", "localhost.evil.example",
                                "airlock.evil.example", "127.0.0.1.nip.io", "bad host"}) {
    const refusal r = check("/v1/messages", host);
    EXPECT_EQ(r.status, 403) << host;
    EXPECT_NE(r.detail.find("route_hosts"), std::string::npos);
  }
}

TEST(check_routed_request, browser_origin_is_refused) {
  const refusal r = check("/v1/messages", "127.0.0.1:3128", true);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.detail.find("Origin"), std::string::npos);
}

TEST(list_prefixes, names_every_route) {
  EXPECT_EQ(list_prefixes(routes), "/anthropic, /gh, /gh/uploads");
}

}  // namespace
}  // namespace airlock::proxy

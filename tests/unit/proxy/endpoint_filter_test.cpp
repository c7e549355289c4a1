// Which resolved addresses a dial may use, each attacker's address beside the normal case.
// Old code locations (main at 7747a57, proxy/upstream_connect.cpp):
//  1 session::dial: a resolve override, keyed by target.to_string(), replaces host and port
//    and exempts the dial from the private-address classes (trusted config).
//  2 session::dial: an IP literal (target's or override's) is one endpoint, no lookup.
//  3 session::is_self: same port and address (an IPv4-mapped address is its IPv4 one), or
//    loopback to a wildcard listener → "airlock-itself", overrides included.
//  4 session::dial consider(): egress.block_private_addresses and not overridden →
//    blocked_class(address, egress.allow_private).
//  5 consider(): refused endpoints dropped, the rest dialled in the resolver's order; the
//    first refused endpoint's class is the one named.
//  6 session::dial: none left → 403 destination_ip_prohibited, reason private_address,
//    rule the class, the loop or SSRF detail; "private" when the list was empty.
// Nothing here dials: the addresses are values, so a test naming 169.254.169.254 sends no
// packet anywhere.

#include "proxy/policy/endpoint_filter.hpp"

#include <gtest/gtest.h>

#include "config/load.hpp"

namespace airlock::proxy {
namespace {

tcp::endpoint ep(const char* address, std::uint16_t port) {
  return tcp::endpoint(asio::ip::make_address(address), port);
}

config::config load(const std::string& yaml) {
  return config::load_string(yaml, "t.yaml");
}

const authority target{"api.example.com", 443, false};
const std::vector<tcp::endpoint> listeners = {ep("127.0.0.1", 3128), ep("::", 9090)};

endpoint_choice filter(const std::vector<tcp::endpoint>& resolved, const config::config& cfg,
                       const authority& to = target) {
  return filter_endpoints(to, resolved, plan_dial(to, cfg.resolve), listeners, cfg.egress);
}

TEST(endpoint_filter, resolve_overrides_replace_the_authority) {
  const auto cfg = load(
      "resolve:\n  \"api.example.com:443\": \"127.0.0.1:8443\"\n"
      "  \"[::1]:80\": \"mirror.internal:8080\"\n");
  auto plan = plan_dial(target, cfg.resolve);
  EXPECT_EQ(plan.host, "127.0.0.1");
  EXPECT_EQ(plan.port, 8443);
  EXPECT_TRUE(plan.overridden);
  EXPECT_EQ(plan.literal, asio::ip::make_address("127.0.0.1"));
  plan = plan_dial(authority{"::1", 80, true}, cfg.resolve);
  EXPECT_EQ(plan.host, "mirror.internal");
  EXPECT_TRUE(plan.overridden);
  EXPECT_FALSE(plan.literal);  // a name: looked up
  // Only the exact authority is overridden: not another port, not another name.
  for (const authority& other :
       {authority{"api.example.com", 80, false}, authority{"x.api.example.com", 443, false}}) {
    plan = plan_dial(other, cfg.resolve);
    EXPECT_FALSE(plan.overridden) << other.to_string();
    EXPECT_EQ(plan.host, other.host);
    EXPECT_EQ(plan.port, other.port);
  }
  plan = plan_dial(authority{"::ffff:169.254.169.254", 80, true}, cfg.resolve);
  EXPECT_FALSE(plan.overridden);
  ASSERT_TRUE(plan.literal);
  EXPECT_TRUE(plan.literal->is_v6());
}

TEST(endpoint_filter, public_addresses_are_dialled_in_order) {
  const auto cfg = load("");
  const std::vector<tcp::endpoint> resolved = {ep("93.184.216.34", 443),
                                               ep("2606:2800:220:1::1", 443)};
  const auto c = filter(resolved, cfg);
  EXPECT_EQ(c.allowed, resolved);
  EXPECT_FALSE(c.refused);
}

TEST(endpoint_filter, private_classes_are_refused_and_the_first_is_named) {
  const auto cfg = load("");
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"127.0.0.1", "loopback"},
      {"10.1.2.3", "private"},
      {"169.254.169.254", "metadata"},
      {"169.254.1.1", "link-local"},
      {"100.64.0.1", "cgnat"},
      {"fd00::1", "unique-local"},
      {"::1", "loopback"},
      {"::ffff:169.254.169.254", "metadata"},
      {"0.0.0.0", "unspecified"},
      {"64:ff9b::a9fe:a9fe", "metadata"},
  };
  for (const auto& [address, cls] : cases) {
    SCOPED_TRACE(address);
    const auto c = filter({ep(address, 443)}, cfg);
    EXPECT_TRUE(c.allowed.empty());
    ASSERT_TRUE(c.refused);
    EXPECT_EQ(c.refused->kind, refusal_kind::private_address);
    EXPECT_EQ(c.refused->status, 403);
    EXPECT_EQ(c.refused->error_type, "destination_ip_prohibited");
    EXPECT_EQ(c.refused->reason, "private_address");
    EXPECT_EQ(c.refused->rule, cls);
    EXPECT_EQ(c.refused->detail,
              "api.example.com:443 is a " + std::string(cls) +
                  " address, which agents may not reach through airlock (SSRF protection); "
                  "retrying or bypassing the proxy will not help");
    EXPECT_EQ(classify(*c.refused), refusal_kind::private_address);
  }
  // A name that resolves to both: only the public address is dialled (rebinding gets nothing).
  auto c = filter({ep("10.0.0.1", 443), ep("93.184.216.34", 443), ep("169.254.169.254", 443)}, cfg);
  EXPECT_EQ(c.allowed, std::vector<tcp::endpoint>{ep("93.184.216.34", 443)});
  EXPECT_FALSE(c.refused);
  c = filter({ep("10.0.0.1", 443), ep("169.254.169.254", 443)}, cfg);
  ASSERT_TRUE(c.refused);
  EXPECT_EQ(c.refused->rule, "private");  // the first refused, not the worst
}

TEST(endpoint_filter, an_empty_answer_is_refused_as_private) {
  const auto c = filter({}, load(""));
  EXPECT_TRUE(c.allowed.empty());
  ASSERT_TRUE(c.refused);
  EXPECT_EQ(c.refused->rule, "private");
}

TEST(endpoint_filter, allowed_ranges_and_the_switch) {
  const auto ranges = load("egress:\n  allow_private: [10.0.0.0/8, \"fd00::/8\"]\n");
  EXPECT_FALSE(filter({ep("10.9.8.7", 443)}, ranges).refused);
  EXPECT_FALSE(filter({ep("::ffff:10.9.8.7", 443)}, ranges).refused);  // mapped: same host
  EXPECT_FALSE(filter({ep("fd12::1", 443)}, ranges).refused);
  EXPECT_EQ(filter({ep("11.0.0.1", 443), ep("10.0.0.1", 443)}, ranges).allowed.size(), 2u);
  EXPECT_TRUE(filter({ep("192.168.1.1", 443)}, ranges).refused);
  EXPECT_TRUE(filter({ep("169.254.169.254", 443)}, ranges).refused);
  const auto off = load("egress:\n  block_private_addresses: false\n");
  EXPECT_FALSE(filter({ep("169.254.169.254", 443)}, off).refused);
  EXPECT_FALSE(filter({ep("127.0.0.1", 8080)}, off).refused);
  // airlock itself stays off limits when the classes are switched off.
  const auto c = filter({ep("127.0.0.1", 3128)}, off);
  ASSERT_TRUE(c.refused);
  EXPECT_EQ(c.refused->rule, "airlock-itself");
}

TEST(endpoint_filter, overrides_skip_the_classes_but_not_the_loop_check) {
  const auto cfg = load(
      "resolve:\n  \"api.example.com:443\": \"127.0.0.1:8443\"\n"
      "  \"loop.test:80\": \"127.0.0.1:3128\"\n");
  auto c = filter({ep("127.0.0.1", 8443)}, cfg);
  EXPECT_EQ(c.allowed.size(), 1u);
  EXPECT_FALSE(c.refused);
  // The same address without an override is a private one.
  c = filter({ep("127.0.0.1", 8443)}, cfg, authority{"other.test", 443, false});
  ASSERT_TRUE(c.refused);
  EXPECT_EQ(c.refused->rule, "loopback");
  const authority loop{"loop.test", 80, false};
  c = filter({ep("127.0.0.1", 3128)}, cfg, loop);
  ASSERT_TRUE(c.refused);
  EXPECT_EQ(c.refused->rule, "airlock-itself");
  EXPECT_EQ(c.refused->detail,
            "loop.test:80 is airlock's own listener; a request to it would loop");
}

TEST(endpoint_filter, every_spelling_of_airlock_itself_is_a_loop) {
  for (const char* address : {"127.0.0.1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_self(ep(address, 3128), listeners)) << address;
  }
  // A wildcard listener answers on every loopback address, v4 and v6.
  for (const char* address : {"127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_self(ep(address, 9090), listeners)) << address;
  }
  EXPECT_FALSE(is_self(ep("127.0.0.1", 3129), listeners));
  EXPECT_FALSE(is_self(ep("127.0.0.2", 3128), listeners));  // loopback, not the listener's
  EXPECT_FALSE(is_self(ep("93.184.216.34", 9090), listeners));
  EXPECT_FALSE(is_self(ep("127.0.0.1", 3128), {}));
}

}  // namespace
}  // namespace airlock::proxy

// egress: and telemetry: loading, and the host patterns they hold (the address spellings
// themselves are net/host.hpp's, tested in tests/unit/net).

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config/parse_values.hpp"
#include "config/telemetry_defaults.hpp"

namespace airlock::config {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    load_string(yaml, "p.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(parse_host_pattern, forms) {
  const auto p = [](const char* text) { return std::get<0>(parse_host_pattern(text)); };
  EXPECT_EQ(p("API.Example.com.").host, "api.example.com");
  EXPECT_EQ(p("*.example.com").host, "*.example.com");
  EXPECT_EQ(p("example.com:8443").port, 8443);
  EXPECT_EQ(p("2130706433").host, "127.0.0.1");
  EXPECT_EQ(p("[::ffff:10.0.0.1]:443").host, "10.0.0.1");
  EXPECT_EQ(p("[::ffff:10.0.0.1]:443").port, 443);
  EXPECT_EQ(p("example.com").text, "example.com");
  for (const char* bad : {"", "*.", "a b", "example.com:0", "::1", "[::1", "x:99999", "*"}) {
    EXPECT_EQ(parse_host_pattern(bad).index(), 1u) << bad;
  }
}

TEST(parse_cidr, forms) {
  auto c = std::get<0>(parse_cidr("10.0.0.0/8"));
  EXPECT_FALSE(c.v6);
  EXPECT_EQ(c.prefix, 8u);
  c = std::get<0>(parse_cidr("fd00::/8"));
  EXPECT_TRUE(c.v6);
  c = std::get<0>(parse_cidr("169.254.169.254"));
  EXPECT_EQ(c.prefix, 32u);
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "x/8", "::/129", "10/8"}) {
    EXPECT_EQ(parse_cidr(bad).index(), 1u) << bad;
  }
}

TEST(egress_config, loads) {
  const config c = load_string(
      "egress:\n"
      "  default: deny\n"
      "  allow: [api.anthropic.com, \"*.github.com\", \"example.com:8443\"]\n"
      "  deny: [evil.example]\n"
      "  block_private_addresses: true\n"
      "  allow_private: [10.0.0.0/8]\n"
      "  report_only: true\n",
      "p.yaml");
  EXPECT_FALSE(c.egress.default_allow);
  ASSERT_EQ(c.egress.allow.size(), 3u);
  EXPECT_EQ(c.egress.allow[1].host, "*.github.com");
  EXPECT_EQ(c.egress.allow[2].port, 8443);
  ASSERT_EQ(c.egress.deny.size(), 1u);
  ASSERT_EQ(c.egress.allow_private.size(), 1u);
  EXPECT_TRUE(c.egress.report_only);
  const config d = load_string("", "p.yaml");
  EXPECT_TRUE(d.egress.default_allow);
  EXPECT_TRUE(d.egress.block_private_addresses);
  EXPECT_FALSE(d.egress.report_only);
}

TEST(egress_config, mistakes) {
  EXPECT_EQ(error_of("egress:\n  default: maybe\n"),
            "p.yaml:2:12: egress.default: expected allow or deny, got \"maybe\"");
  EXPECT_EQ(error_of("egress:\n  allow: [\"a b\"]\n"),
            "p.yaml:2:11: egress.allow: expected a host name, an IP address or \"*.domain\", "
            "optionally with :port, got \"a b\"");
  EXPECT_EQ(error_of("egress:\n  allow_private: [10.0.0.0/40]\n"),
            "p.yaml:2:19: egress.allow_private: prefix length must be 0 to 32, got "
            "\"10.0.0.0/40\"");
}

TEST(telemetry_config, loads_and_checks_names) {
  const config c = load_string(
      "telemetry:\n"
      "  block_vendor_defaults: true\n"
      "  answer: 403\n"
      "  block: [ { name: acme, host: metrics.acme.test, path: /v1/collect } ]\n"
      "  unblock: [segment]\n",
      "p.yaml");
  EXPECT_EQ(c.telemetry.answer_status, 403);
  ASSERT_EQ(c.telemetry.block.size(), 1u);
  EXPECT_EQ(c.telemetry.block[0].name, "acme");
  EXPECT_EQ(c.telemetry.block[0].path_prefix, "/v1/collect");
  EXPECT_EQ(c.telemetry.unblock, std::vector<std::string>{"segment"});
  EXPECT_EQ(error_of("telemetry:\n  unblock: [no-such-entry]\n"),
            "p.yaml:2:13: telemetry.unblock: \"no-such-entry\" is not a default entry (see "
            "airlock --print-telemetry-defaults)");
  EXPECT_EQ(error_of("telemetry:\n  answer: 200\n"),
            "p.yaml:2:11: telemetry.answer: expected 204 or 403");
  EXPECT_EQ(error_of("telemetry:\n  block: [ { host: x.test, path: nope } ]\n"),
            "p.yaml:2:34: telemetry.block[0].path: a path prefix starts with \"/\", got \"nope\"");
  EXPECT_EQ(error_of("telemetry:\n  block: [ { host: x.test, path: /v1/%63ollect } ]\n"),
            "p.yaml:2:34: telemetry.block[0].path: requests are compared in normal form: write "
            "\"/v1/collect\", got \"/v1/%63ollect\"");
}

TEST(telemetry_defaults, names_are_unique_and_every_entry_has_a_source) {
  const auto& entries = vendor_telemetry_defaults();
  ASSERT_GT(entries.size(), 20u);
  std::set<std::string> names;
  for (const auto& e : entries) {
    EXPECT_TRUE(names.insert(e.name).second) << e.name;
    EXPECT_FALSE(e.source.empty()) << e.name;
    // Hosts that serve real APIs are only ever blocked by path.
    for (const char* api :
         {"api.anthropic.com", "chatgpt.com", "api.openai.com", "generativelanguage.googleapis.com",
          "api.github.com", "sentry.io", "api.datadoghq.com"}) {
      if (e.host.host == api) {
        EXPECT_FALSE(e.path_prefix.empty()) << e.name;
      }
    }
    EXPECT_NE(e.host.host, "*.githubcopilot.com") << "would block the Copilot API";
    EXPECT_NE(e.host.host, "*.datadoghq.com") << "would block the Datadog API";
  }
}

}  // namespace
}  // namespace airlock::config

namespace airlock::config {
namespace {

// Found by fuzzing: yaml-cpp recurses per nesting level, so deep input exhausted the stack.
TEST(load_string, nesting_deeper_than_any_config_is_refused_before_parsing) {
  EXPECT_EQ(error_of(std::string(100, '[')), "p.yaml:1:65: nested deeper than any config needs");
  std::string dashes;
  for (int i = 0; i < 100; ++i) {
    dashes += "- ";
  }
  EXPECT_EQ(error_of(dashes + "x\n"), "p.yaml:1:129: lists nested deeper than any config needs");
  EXPECT_EQ(error_of("proxy: { timeouts: { header: \"[[[[\" } }\n"),
            "p.yaml:1:30: proxy.timeouts.header: expected a positive duration like 250ms, 10s, "
            "5m, got \"[[[[\"");
}

// Found by fuzzing: yaml-cpp never returns when a "," follows a document's first node and
// that node is only a tag or anchor, quoted, or a flow collection.
TEST(load_string, comma_after_the_first_node_is_refused_not_hung) {
  EXPECT_EQ(error_of("!--,"), "p.yaml:1:4: a YAML document cannot start with \",\"");
  EXPECT_EQ(error_of("&a !b ,"), "p.yaml:1:7: a YAML document cannot start with \",\"");
  EXPECT_EQ(error_of("--- !a ,"), "p.yaml:1:8: a YAML document cannot start with \",\"");
  const std::string after = ": a \",\" cannot follow the document's first value here";
  EXPECT_EQ(error_of("\"a\" ,"), "p.yaml:1:5" + after);
  EXPECT_EQ(error_of("'a',"), "p.yaml:1:4" + after);
  EXPECT_EQ(error_of("!a \"b\" # note\n,"), "p.yaml:2:1" + after);
  EXPECT_EQ(error_of("[a, \"b\"] ,"), "p.yaml:1:10" + after);
  EXPECT_EQ(error_of("&x {a: b}\n  ,"), "p.yaml:2:3" + after);
  EXPECT_EQ(error_of("!a \"!a  \"!a,"), "p.yaml:1:12" + after);
  EXPECT_EQ(error_of("\"b a\"! \"b a\"! ,,"), "p.yaml:1:15" + after);
  EXPECT_EQ(error_of("[a] {b: c} 'd' ,"), "p.yaml:1:16" + after);
  EXPECT_EQ(error_of("!ab\" \" ,"), "p.yaml:1:4: a tag or anchor needs a space after it");
  EXPECT_EQ(error_of("&YYa\"\xcc ,"), "p.yaml:1:5: a tag or anchor needs a space after it");
  EXPECT_EQ(error_of("!\x9f[[[\n,"), "p.yaml:1:3: a tag or anchor needs a space after it");
  // Where yaml-cpp copes, the "," is left to it: plain text, or past the first node.
  EXPECT_EQ(error_of("\"proxy\": { workers: 2 }\n"), "no error");
  EXPECT_EQ(error_of("[a]: b ,").find("\",\""), std::string::npos);
  EXPECT_EQ(error_of("a ,").find("\",\""), std::string::npos);
}

// Found by fuzzing: yaml-cpp never returned on "\0,0\xc1],``]\0000". YAML allows no control
// character but tab, LF and CR, so any other is refused where it stands, quoted or not.
TEST(load_string, control_characters_are_refused_where_they_stand) {
  EXPECT_EQ(error_of(std::string("\0,0\xc1],``]\0000", 11)),
            "p.yaml:1:1: a control character (0x00) cannot appear in a config file");
  EXPECT_EQ(error_of("proxy:\n  workers: \"2\x1b[0m\"\n"),
            "p.yaml:2:14: a control character (0x1b) cannot appear in a config file");
  EXPECT_EQ(error_of("# note\x7f\nproxy: {}\n"),
            "p.yaml:1:7: a control character (0x7f) cannot appear in a config file");
  // Tab, CR LF line ends and non-ASCII text are not control characters.
  EXPECT_EQ(error_of("proxy:\r\n  workers: 2\r\n# caf\xc3\xa9\tnote\r\n"), "no error");
}

}  // namespace
}  // namespace airlock::config

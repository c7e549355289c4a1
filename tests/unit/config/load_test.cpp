#include "config/load.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace airlock::config {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;

struct position {
  int line = 0;
  int column = 0;
};

// 1-based line and column of byte `offset` in text.
position position_of(std::string_view text, std::size_t offset) {
  position p{1, 1};
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

// Loads text that must fail; returns the error (and fails the test if nothing was thrown).
config_error load_error(const std::string& yaml, const std::string& name = "test.yaml") {
  try {
    load_string(yaml, name);
  } catch (const config_error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return config_error(name, -1, -1, "no error");
}

void expect_same(const config& a, const config& b) {
  EXPECT_EQ(a.proxy.listen, b.proxy.listen);
  EXPECT_EQ(a.proxy.workers, b.proxy.workers);
  EXPECT_EQ(a.proxy.max_connections, b.proxy.max_connections);
  EXPECT_EQ(a.proxy.max_header_bytes, b.proxy.max_header_bytes);
  EXPECT_EQ(a.proxy.max_header_count, b.proxy.max_header_count);
  EXPECT_EQ(a.proxy.max_pending_head_bytes, b.proxy.max_pending_head_bytes);
  EXPECT_EQ(a.proxy.max_decoding_bytes, b.proxy.max_decoding_bytes);
  EXPECT_EQ(a.proxy.timeouts.header, b.proxy.timeouts.header);
  EXPECT_EQ(a.proxy.timeouts.idle, b.proxy.timeouts.idle);
  EXPECT_EQ(a.proxy.timeouts.connect, b.proxy.timeouts.connect);
  EXPECT_EQ(a.proxy.timeouts.drain, b.proxy.timeouts.drain);
  EXPECT_EQ(a.proxy.pool.max_idle_per_host, b.proxy.pool.max_idle_per_host);
  EXPECT_EQ(a.proxy.pool.idle, b.proxy.pool.idle);
  EXPECT_EQ(a.proxy.via, b.proxy.via);
  EXPECT_EQ(a.admin.socket, b.admin.socket);
  EXPECT_EQ(a.admin.listen, b.admin.listen);
  EXPECT_EQ(a.admin.token_file, b.admin.token_file);
  EXPECT_EQ(a.metrics.listen, b.metrics.listen);
  EXPECT_EQ(a.log.level, b.log.level);
  EXPECT_EQ(a.log.format, b.log.format);
  EXPECT_EQ(a.resolve, b.resolve);
}

// ---------------------------------------------------------------------------------------------
// The embedded default

TEST(embedded_default, parses_to_the_documented_values) {
  const config c = embedded_default();
  EXPECT_EQ(c.proxy.listen, (endpoint{"127.0.0.1", 3128}));
  EXPECT_EQ(c.proxy.workers, 0u);
  EXPECT_EQ(c.proxy.max_connections, 10000u);
  EXPECT_EQ(c.proxy.max_header_bytes, 64u * 1024);
  EXPECT_EQ(c.proxy.max_header_count, 100u);
  EXPECT_EQ(c.proxy.max_pending_head_bytes, 32u * 1024 * 1024);
  EXPECT_EQ(c.proxy.max_decoding_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(c.proxy.timeouts.header, 10s);
  EXPECT_EQ(c.proxy.timeouts.idle, 300s);
  EXPECT_EQ(c.proxy.timeouts.connect, 10s);
  EXPECT_EQ(c.proxy.timeouts.drain, 30s);
  EXPECT_EQ(c.proxy.pool.max_idle_per_host, 1024u);
  EXPECT_EQ(c.proxy.pool.idle, 60s);
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.format, log_format::text);
  EXPECT_TRUE(c.resolve.empty());
}

TEST(embedded_default, agrees_with_the_struct_defaults) {
  // Named, not a temporary: GCC 12 warns falsely (maybe-uninitialized) on config{} here.
  const config defaults;
  expect_same(embedded_default(), defaults);
  expect_same(load_string(embedded_default_yaml(), "copy.yaml"), defaults);
}

// Each key of the default, given a bad value, fails at exactly that value: so every key in the
// shipped file is really read and validated, and positions are right for block and flow style.
struct default_value_case {
  const char* name;
  std::string_view needle;       // unique text in the default, ending in the value
  std::string_view value;        // the value as written, the tail of needle
  std::string_view replacement;  // a bad value
  std::string_view path;         // the dotted path the message must name
};

void PrintTo(const default_value_case& c, std::ostream* os) {
  *os << c.name;
}

class embedded_default_values : public testing::TestWithParam<default_value_case> {};

TEST_P(embedded_default_values, bad_value_is_reported_at_its_position) {
  const auto& c = GetParam();
  std::string yaml(embedded_default_yaml());
  const auto at = yaml.find(c.needle);
  ASSERT_NE(at, std::string::npos) << c.needle;
  ASSERT_EQ(yaml.find(c.needle, at + 1), std::string::npos) << "needle not unique: " << c.needle;
  ASSERT_TRUE(c.needle.ends_with(c.value));
  const auto value_at = at + c.needle.size() - c.value.size();
  yaml.replace(value_at, c.value.size(), c.replacement);
  const auto expected = position_of(yaml, value_at);

  const auto e = load_error(yaml, "default.yaml");
  EXPECT_EQ(e.file(), "default.yaml");
  EXPECT_EQ(e.line(), expected.line) << e.what();
  EXPECT_EQ(e.column(), expected.column) << e.what();
  EXPECT_NE(e.message().find(c.path), std::string::npos) << e.what();
}

INSTANTIATE_TEST_SUITE_P(
    every_key, embedded_default_values,
    testing::Values(
        default_value_case{"listen", "listen: \"127.0.0.1:3128\"", "\"127.0.0.1:3128\"",
                           "\"127.0.0.1\"", "proxy.listen"},
        default_value_case{"workers", "workers: 0", "0", "many", "proxy.workers"},
        default_value_case{"max_connections", "max_connections: 10000", "10000", "0",
                           "proxy.max_connections"},
        default_value_case{"max_header_bytes", "max_header_bytes: 64KiB", "64KiB", "64KB",
                           "proxy.max_header_bytes"},
        default_value_case{"max_pending_head_bytes", "max_pending_head_bytes: 32MiB", "32MiB",
                           "32M", "proxy.max_pending_head_bytes"},
        default_value_case{"max_decoding_bytes", "max_decoding_bytes: 16MiB", "16MiB", "-1",
                           "proxy.max_decoding_bytes"},
        default_value_case{"timeouts_header", "header: 10s", "10s", "10x", "proxy.timeouts.header"},
        default_value_case{"timeouts_idle", "idle: 300s", "300s", "-1s", "proxy.timeouts.idle"},
        default_value_case{"timeouts_connect", "connect: 10s", "10s", "0s",
                           "proxy.timeouts.connect"},
        default_value_case{"timeouts_drain", "drain: 30s", "30s", "30", "proxy.timeouts.drain"},
        default_value_case{"pool_max_idle", "max_idle_per_host: 1024", "1024", "1KiB",
                           "proxy.pool.max_idle_per_host"},
        default_value_case{"pool_idle", "idle: 60s", "60s", "1d", "proxy.pool.idle"},
        default_value_case{"admin_socket", "socket: /run/airlock-admin/admin.sock",
                           "/run/airlock-admin/admin.sock", "admin.sock", "admin.socket"},
        default_value_case{"metrics_listen", "listen: \"127.0.0.1:9464\"", "\"127.0.0.1:9464\"",
                           "\"[::1\"", "metrics.listen"},
        default_value_case{"log_level", "level: info", "info", "loud", "log.level"},
        default_value_case{"log_format", "format: text", "text", "xml", "log.format"},
        // Wrong types in place of the nested maps.
        default_value_case{"timeouts_type", "timeouts: {", "{", "10s #", "proxy.timeouts"},
        default_value_case{"pool_type", "pool: {", "{", "[1] #", "proxy.pool"}),
    [](const auto& info) { return std::string(info.param.name); });

// Each key of the default, misspelt, is an unknown key reported at the key itself.
class embedded_default_keys : public testing::TestWithParam<std::string_view> {};

TEST_P(embedded_default_keys, misspelt_key_is_reported_at_its_position) {
  std::string yaml(embedded_default_yaml());
  const std::string needle = std::string(GetParam());
  const auto at = yaml.find(needle);
  ASSERT_NE(at, std::string::npos) << needle;
  ASSERT_EQ(yaml.find(needle, at + 1), std::string::npos) << "needle not unique: " << needle;
  const auto key_at = at + (needle.front() == '\n' ? 1 : 0);
  const auto colon = yaml.find(':', key_at);
  yaml.insert(colon, "_typo");
  const auto expected = position_of(yaml, key_at);

  const auto e = load_error(yaml);
  EXPECT_EQ(e.line(), expected.line) << e.what();
  EXPECT_EQ(e.column(), expected.column) << e.what();
  EXPECT_NE(e.message().find("unknown key"), std::string::npos) << e.what();
  EXPECT_NE(e.message().find("_typo"), std::string::npos) << e.what();
}

INSTANTIATE_TEST_SUITE_P(
    every_key, embedded_default_keys,
    testing::Values("\nproxy:", "listen: \"127.0.0.1:3128",
                    "workers:", "max_connections:", "max_header_bytes:", "max_pending_head_bytes:",
                    "max_decoding_bytes:", "timeouts:", "header:", "idle: 300s",
                    "connect:", "drain:", "pool:", "max_idle_per_host:", "idle: 60s",
                    "\nadmin:", "socket:", "\nmetrics:", "listen: \"127.0.0.1:9464",
                    "\nlog:", "level:", "format:"));

// ---------------------------------------------------------------------------------------------
// Whole configs

TEST(load_string, every_key_set_away_from_its_default) {
  const config c = load_string(R"(
proxy:
  listen: "[::1]:0"
  workers: 4
  max_connections: 123
  max_header_bytes: 32KiB
  max_header_count: 50
  max_pending_head_bytes: 1MiB
  max_decoding_bytes: 2MiB
  timeouts:
    header: 250ms
    idle: 5m
    connect: 2s
    drain: 1h
  pool:
    max_idle_per_host: 0
    idle: 15s
  via: false
log:
  level: debug
  format: json
resolve:
  "API.Anthropic.com:443": "127.0.0.1:18443"
  "[::1]:80": "[::1]:8080"
)",
                               "full.yaml");
  EXPECT_EQ(c.proxy.listen, (endpoint{"::1", 0}));
  EXPECT_EQ(c.proxy.workers, 4u);
  EXPECT_EQ(c.proxy.max_connections, 123u);
  EXPECT_EQ(c.proxy.max_header_bytes, 32u * 1024);
  EXPECT_EQ(c.proxy.max_header_count, 50u);
  EXPECT_EQ(c.proxy.max_pending_head_bytes, 1024u * 1024);
  EXPECT_EQ(c.proxy.max_decoding_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(c.proxy.timeouts.header, 250ms);
  EXPECT_EQ(c.proxy.timeouts.idle, 5min);
  EXPECT_EQ(c.proxy.timeouts.connect, 2s);
  EXPECT_EQ(c.proxy.timeouts.drain, 1h);
  EXPECT_EQ(c.proxy.pool.max_idle_per_host, 0u);
  EXPECT_EQ(c.proxy.pool.idle, 15s);
  EXPECT_FALSE(c.proxy.via);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, log_format::json);
  ASSERT_EQ(c.resolve.size(), 2u);
  // Keys are canonical: lowercase host, brackets for IPv6.
  EXPECT_EQ(c.resolve.at("api.anthropic.com:443"), (endpoint{"127.0.0.1", 18443}));
  EXPECT_EQ(c.resolve.at("[::1]:80"), (endpoint{"::1", 8080}));
}

TEST(load_string, omitted_keys_keep_their_defaults) {
  const config c = load_string("proxy:\n  workers: 2\n", "partial.yaml");
  config expected;
  expected.proxy.workers = 2;
  expect_same(c, expected);
}

TEST(load_string, empty_documents_give_the_defaults) {
  const config defaults;
  for (const std::string& yaml : {""s, "\n"s, "# only a comment\n"s, "~\n"s, "---\n"s,
                                  "proxy: {}\nlog: {}\nresolve: {}\n"s}) {
    expect_same(load_string(yaml, "empty.yaml"), defaults);
  }
}

TEST(load_string, log_levels_and_formats) {
  for (std::string level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    EXPECT_EQ(load_string("log: {level: " + level + "}", "l.yaml").log.level, level);
  }
  EXPECT_EQ(load_string("log: {format: text}", "l.yaml").log.format, log_format::text);
  EXPECT_EQ(load_string("log: {format: json}", "l.yaml").log.format, log_format::json);
}

TEST(load_string, range_limits_are_inclusive) {
  EXPECT_EQ(load_string("proxy: {workers: 1024}", "r.yaml").proxy.workers, 1024u);
  EXPECT_EQ(load_string("proxy: {max_connections: 1}", "r.yaml").proxy.max_connections, 1u);
  EXPECT_EQ(load_string("proxy: {max_connections: 10000000}", "r.yaml").proxy.max_connections,
            10000000u);
  EXPECT_EQ(load_string("proxy: {max_header_bytes: 1024}", "r.yaml").proxy.max_header_bytes, 1024u);
  EXPECT_EQ(load_string("proxy: {max_header_bytes: 1MiB}", "r.yaml").proxy.max_header_bytes,
            1024u * 1024);
  EXPECT_EQ(load_string("proxy: {max_header_count: 8}", "r.yaml").proxy.max_header_count, 8u);
  EXPECT_EQ(
      load_string("proxy: {max_pending_head_bytes: 0}", "r.yaml").proxy.max_pending_head_bytes, 0u);
  EXPECT_EQ(
      load_string("proxy: {max_pending_head_bytes: 16GiB}", "r.yaml").proxy.max_pending_head_bytes,
      16ull << 30);
  EXPECT_EQ(load_string("proxy: {max_decoding_bytes: 0}", "r.yaml").proxy.max_decoding_bytes, 0u);
  EXPECT_EQ(load_string("proxy: {max_decoding_bytes: 16GiB}", "r.yaml").proxy.max_decoding_bytes,
            16ull << 30);
  EXPECT_EQ(load_string("proxy: {max_header_count: 1000}", "r.yaml").proxy.max_header_count, 1000u);
  EXPECT_EQ(load_string("proxy: {pool: {max_idle_per_host: 100000}}", "r.yaml")
                .proxy.pool.max_idle_per_host,
            100000u);
  EXPECT_EQ(load_string("proxy: {timeouts: {header: 1ms}}", "r.yaml").proxy.timeouts.header, 1ms);
}

// ---------------------------------------------------------------------------------------------
// Errors: exact positions

struct error_case {
  const char* name;
  std::string yaml;
  int line;
  int column;
  std::string_view message;  // a part the message must contain
};

void PrintTo(const error_case& c, std::ostream* os) {
  *os << c.name;
}

class load_string_error : public testing::TestWithParam<error_case> {};

TEST_P(load_string_error, names_file_line_and_column) {
  const auto& c = GetParam();
  const auto e = load_error(c.yaml, "conf/airlock.yaml");
  EXPECT_EQ(e.file(), "conf/airlock.yaml");
  EXPECT_EQ(e.line(), c.line) << e.what();
  EXPECT_EQ(e.column(), c.column) << e.what();
  EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
  EXPECT_EQ(std::string(e.what()), "conf/airlock.yaml:" + std::to_string(c.line) + ":" +
                                       std::to_string(c.column) + ": " + e.message());
}

INSTANTIATE_TEST_SUITE_P(
    all, load_string_error,
    testing::Values(
        // YAML syntax errors (positions as yaml-cpp reports them, made 1-based).
        error_case{"syntax_indentation", "proxy:\n  workers: 1\n   max_connections: 2\n", 3, 19,
                   "illegal map value"},
        error_case{"syntax_tab_indent", "proxy:\n\tworkers: 1\n", 2, 9, "illegal map value"},
        error_case{"syntax_undefined_alias", "log:\n  level: *lvl\n", 2, 10, "anchor"},
        error_case{"syntax_unclosed_flow_map", "proxy: {listen: \"a:1\"\n", 2, 1,
                   "end of map flow not found"},
        // Unknown keys.
        error_case{"unknown_top_level", "log: {}\nproxyy: {}\n", 2, 1,
                   "unknown key \"proxyy\" in the top level"},
        error_case{"unknown_nested", "proxy:\n  timeouts:\n    hedaer: 10s\n", 3, 5,
                   "unknown key \"hedaer\" in proxy.timeouts"},
        error_case{"unknown_in_pool", "proxy:\n  pool: { max_idle: 3 }\n", 2, 11,
                   "unknown key \"max_idle\" in proxy.pool"},
        error_case{"unknown_in_log", "log:\n  level: info\n  colour: true\n", 3, 3,
                   "unknown key \"colour\" in log"},
        error_case{"via_not_a_boolean", "proxy:\n  via: airlock\n", 2, 8,
                   "proxy.via: expected true or false"},
        error_case{"key_case_matters", "Proxy: {}\n", 1, 1, "unknown key \"Proxy\""},
        // Wrong types.
        error_case{"top_level_sequence", "- proxy\n", 1, 1, "the top level: expected a mapping"},
        error_case{"top_level_scalar", "hello\n", 1, 1, "the top level: expected a mapping"},
        error_case{"proxy_scalar", "proxy: fast\n", 1, 8, "proxy: expected a mapping"},
        error_case{"log_scalar", "log: text\n", 1, 6, "log: expected a mapping"},
        error_case{"timeouts_scalar", "proxy:\n  timeouts: 10s\n", 2, 13,
                   "proxy.timeouts: expected a mapping"},
        error_case{"pool_sequence", "proxy:\n  pool: [1, 2]\n", 2, 9,
                   "proxy.pool: expected a mapping"},
        error_case{"workers_sequence", "proxy:\n  workers: [1]\n", 2, 12,
                   "proxy.workers: expected a single value"},
        error_case{"listen_map", "proxy:\n  listen: {host: a}\n", 2, 11,
                   "proxy.listen: expected a single value"},
        error_case{"level_sequence", "log:\n  level: [info]\n", 2, 10,
                   "log.level: expected a single value"},
        // Values.
        error_case{"bad_duration_flow", "proxy:\n  timeouts: { header: 10x }\n", 2, 23,
                   "proxy.timeouts.header: expected a positive duration"},
        error_case{"bad_duration_block", "proxy:\n  timeouts:\n    connect: 1.5s\n", 3, 14,
                   "\"1.5s\""},
        error_case{"zero_duration", "proxy:\n  timeouts: {drain: 0ms}\n", 2, 21,
                   "proxy.timeouts.drain"},
        error_case{"duration_overflow", "proxy:\n  pool: {idle: 99999999999999999999h}\n", 2, 16,
                   "proxy.pool.idle"},
        error_case{"workers_not_a_number", "proxy:\n  workers: four\n", 2, 12,
                   "proxy.workers: expected a whole number, got \"four\""},
        error_case{"workers_with_unit", "proxy:\n  workers: 1KiB\n", 2, 12,
                   "expected a whole number"},
        error_case{"workers_negative", "proxy:\n  workers: -1\n", 2, 12, "expected a whole number"},
        error_case{"workers_empty_string", "proxy:\n  workers: \"\"\n", 2, 12,
                   "expected a whole number"},
        error_case{"workers_overflow", "proxy:\n  workers: 99999999999999999999999\n", 2, 12,
                   "expected a whole number"},
        error_case{"workers_too_many", "proxy:\n  workers: 1025\n", 2, 12,
                   "proxy.workers: must be between 0 and 1024"},
        error_case{"max_connections_zero", "proxy:\n  max_connections: 0\n", 2, 20,
                   "must be between 1 and 10000000"},
        error_case{"header_bytes_small", "proxy:\n  max_header_bytes: 1023\n", 2, 21,
                   "must be between 1024 and 1048576 bytes"},
        error_case{"header_bytes_large", "proxy:\n  max_header_bytes: 2MiB\n", 2, 21,
                   "must be between 1024 and 1048576 bytes"},
        error_case{"pending_head_bytes_large", "proxy:\n  max_pending_head_bytes: 17GiB\n", 2, 27,
                   "proxy.max_pending_head_bytes: must be between 0 and 17179869184 bytes"},
        error_case{"pending_head_bytes_junk", "proxy:\n  max_pending_head_bytes: lots\n", 2, 27,
                   "proxy.max_pending_head_bytes: expected a size"},
        error_case{"header_bytes_junk", "proxy:\n  max_header_bytes: 64kb\n", 2, 21,
                   "expected a size like 65536 or 64KiB, got \"64kb\""},
        error_case{"header_count_small", "proxy:\n  max_header_count: 7\n", 2, 21,
                   "must be between 8 and 1000"},
        error_case{"pool_max_idle_large", "proxy:\n  pool: {max_idle_per_host: 100001}\n", 2, 29,
                   "proxy.pool.max_idle_per_host"},
        error_case{"listen_no_port", "proxy:\n  listen: 127.0.0.1\n", 2, 11,
                   "proxy.listen: expected \"host:port\", got \"127.0.0.1\""},
        error_case{"listen_unbracketed_v6", "proxy:\n  listen: \"::1:80\"\n", 2, 11,
                   "IPv6 addresses need brackets"},
        error_case{"listen_port_range", "proxy:\n  listen: \"h:65536\"\n", 2, 11,
                   "port must be a number from 0 to 65535"},
        error_case{"log_level", "log:\n  level: INFO\n", 2, 10,
                   "log.level: expected one of trace, debug, info, warn, error, critical, off, "
                   "got \"INFO\""},
        error_case{"log_format", "log:\n  format: yaml\n", 2, 11,
                   "log.format: expected text or json, got \"yaml\""},
        error_case{"crlf_line_endings", "proxy:\r\n  workers: x\r\n", 2, 12,
                   "expected a whole number"},
        error_case{"after_a_valid_section",
                   "# comment\n\nlog: {level: warn}\nproxy:\n  listen: \"127.0.0.1:3128\"\n"
                   "  timeouts:\n    idle: 5m\n    header: soon\n",
                   8, 13, "proxy.timeouts.header"},
        // Duplicate keys: the second one is the error.
        error_case{"duplicate_nested", "proxy:\n  workers: 1\n  workers: 2\n", 3, 3,
                   "duplicate key \"workers\" in proxy"},
        error_case{"duplicate_top_level", "proxy:\n  workers: 1\nlog: {}\nproxy:\n  workers: 2\n",
                   4, 1, "duplicate key \"proxy\" in the top level"},
        error_case{"duplicate_flow", "{proxy: {workers: 1}, proxy: {workers: 2}}\n", 1, 23,
                   "duplicate key \"proxy\""},
        error_case{"duplicate_deep", "proxy:\n  timeouts:\n    header: 10s\n    header: 20s\n", 4,
                   5, "duplicate key \"header\" in proxy.timeouts"},
        error_case{"duplicate_same_value", "log:\n  format: json\n  format: json\n", 3, 3,
                   "duplicate key \"format\" in log"},
        // resolve.
        error_case{"resolve_not_a_map", "resolve: [a]\n", 1, 10, "resolve: expected a mapping"},
        error_case{"resolve_key_without_port", "resolve:\n  \"api.example.com\": \"127.0.0.1:1\"\n",
                   2, 3, "resolve: expected \"host:port\", got \"api.example.com\""},
        error_case{"resolve_key_port_zero", "resolve:\n  \"a:0\": \"127.0.0.1:1\"\n", 2, 3,
                   "port must be a number from 1 to 65535"},
        error_case{"resolve_key_unbracketed_v6", "resolve:\n  \"::1:443\": \"127.0.0.1:1\"\n", 2, 3,
                   "IPv6 addresses need brackets"},
        error_case{"resolve_key_not_scalar", "resolve:\n  [a]: \"b:1\"\n", 2, 3,
                   "resolve key: expected a single value"},
        error_case{"resolve_value_without_port", "resolve:\n  \"a:443\": \"127.0.0.1\"\n", 2, 12,
                   "resolve \"a:443\": expected \"host:port\", got \"127.0.0.1\""},
        error_case{"resolve_value_port_zero", "resolve: {\"a:1\": \"b:0\"}\n", 1, 18,
                   "port must be a number from 1 to 65535"},
        error_case{"resolve_value_not_scalar", "resolve:\n  \"a:1\": [x]\n", 2, 10,
                   "resolve \"a:1\": expected a single value"},
        error_case{"resolve_duplicate_after_case_folding",
                   "resolve:\n  A.example:443: \"127.0.0.1:1\"\n  a.example:443: \"127.0.0.1:2\"\n",
                   3, 3, "\"a.example:443\" is listed twice"},
        error_case{"resolve_duplicate_port_spelling",
                   "resolve:\n  \"a:1\": \"b:2\"\n  \"a:01\": \"b:3\"\n", 3, 3,
                   "\"a:01\" is listed twice"},
        error_case{"resolve_exact_duplicate",
                   "resolve:\n  \"a:1\": \"b:2\"\n  \"c:1\": \"b:2\"\n  \"a:1\": \"b:3\"\n", 4, 3,
                   "listed twice"}),
    [](const auto& info) { return std::string(info.param.name); });

// An empty value has no text of its own; yaml-cpp marks it at the next token, which may be the
// next key on another line (here `workers` on line 3) or the end of the file. The error should
// point at the line of the key whose value is missing.
TEST(load_string, missing_value_is_reported_on_its_own_line) {
  auto e = load_error("proxy:\n  listen:\n  workers: 1\n");
  EXPECT_EQ(e.line(), 2) << e.what();
  e = load_error("log: {}\nproxy:\n");
  EXPECT_EQ(e.line(), 2) << e.what();
  e = load_error("proxy:\n  timeouts:\n    header:\n");
  EXPECT_EQ(e.line(), 3) << e.what();
}

// YAML::Load reads only the first document; a second one is never validated, so a file whose
// second half is nonsense (or meant to override the first) passes --check-config.
TEST(load_string, second_document_is_refused) {
  const auto e = load_error("proxy: {workers: 1}\n---\nproxy: {workers: many}\n");
  EXPECT_EQ(e.line(), 3) << e.what();  // where the second document's content starts
  EXPECT_NE(e.message().find("more than one YAML document"), std::string::npos) << e.what();
}

TEST(config_error, carries_its_parts) {
  const config_error e("f.yaml", 3, 7, "something is wrong");
  EXPECT_EQ(e.file(), "f.yaml");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.column(), 7);
  EXPECT_EQ(e.message(), "something is wrong");
  EXPECT_STREQ(e.what(), "f.yaml:3:7: something is wrong");
}

// ---------------------------------------------------------------------------------------------
// load_file

class load_file_test : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "airlock-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(load_file_test, reads_a_valid_file) {
  const auto path = write("ok.yaml", "proxy:\n  listen: \"127.0.0.1:0\"\nlog: {format: json}\n");
  const config c = load_file(path);
  EXPECT_EQ(c.proxy.listen, (endpoint{"127.0.0.1", 0}));
  EXPECT_EQ(c.log.format, log_format::json);
}

TEST_F(load_file_test, errors_name_the_path) {
  const auto path = write("bad.yaml", "proxy:\n  timeouts:\n    idle: forever\n");
  try {
    load_file(path);
    FAIL() << "no error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.column(), 11);
    EXPECT_EQ(std::string(e.what()).rfind(path + ":3:11: ", 0), 0u) << e.what();
  }
}

TEST_F(load_file_test, missing_file_is_line_zero) {
  const auto path = (dir_ / "missing.yaml").string();
  try {
    load_file(path);
    FAIL() << "no error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), 0);
    EXPECT_EQ(e.column(), 0);
    EXPECT_FALSE(e.message().empty());
  }
}

TEST_F(load_file_test, empty_file_gives_the_defaults) {
  const config defaults;
  expect_same(load_file(write("empty.yaml", "")), defaults);
}

// Opening a directory with std::ifstream succeeds on Linux; reading it fails with EISDIR, but
// the failure lands on the ostringstream, not on `in`, so load_file sees an empty document and
// returns the defaults. `airlock --config /etc/airlock/` would then run unconfigured.
TEST_F(load_file_test, directory_is_refused) {
  try {
    load_file(dir_.string());
    FAIL() << "a directory loaded as an empty config";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), dir_.string());
    EXPECT_EQ(e.line(), 0);
  }
}

}  // namespace
}  // namespace airlock::config

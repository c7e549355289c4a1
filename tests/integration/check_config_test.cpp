// The configuration contract: `--check-config` names the exact place of the first
// error as FILE:LINE:COL, unknown keys are errors, and a bad file never starts a proxy.

#include <gtest/gtest.h>

#include <optional>

#include "tests/integration/proxy_fixture.hpp"

namespace airlock::test {
namespace {

struct position {
  int line = 0;
  int column = 0;
  std::string message;
};

// Parses "FILE:LINE:COL: message" for a known FILE (std::regex is avoided: g++ 12
// warns inside it under the sanitizer presets).
std::optional<position> parse_position(const std::string& text, const std::string& file) {
  if (text.rfind(file + ":", 0) != 0) {
    return std::nullopt;
  }
  std::size_t i = file.size() + 1;
  auto number = [&](int& out) {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      ++i;
    }
    if (i == start) {
      return false;
    }
    out = std::stoi(text.substr(start, i - start));
    return true;
  };
  position p;
  if (!number(p.line) || i >= text.size() || text[i++] != ':' || !number(p.column) ||
      text.compare(i, 2, ": ") != 0) {
    return std::nullopt;
  }
  p.message = text.substr(i + 2, text.find('\n', i) - (i + 2));
  return p;
}

class check_config_test : public proxy_test {
 protected:
  command_result check(const std::string& name, const std::string& yaml) {
    const auto path = scratch(name);
    write_file(path, yaml);
    return run_command({airlock_binary(), "--check-config", path.string()}, tmp_.path(),
                       "check-" + name, 10s);
  }

  // The first line of stderr must be FILE:LINE:COL: message.
  static void expect_position(const command_result& r, const std::filesystem::path& file, int line,
                              int column, const std::string& message_part) {
    EXPECT_NE(r.exit_code, 0);
    const auto p = parse_position(r.err, file.string());
    ASSERT_TRUE(p) << r.err;
    EXPECT_EQ(p->line, line) << r.err;
    EXPECT_EQ(p->column, column) << r.err;
    EXPECT_NE(p->message.find(message_part), std::string::npos) << r.err;
  }
};

TEST_F(check_config_test, GoodFileExitsZero) {
  const auto r = check("good.yaml",
                       "proxy:\n"
                       "  listen: \"127.0.0.1:0\"\n"
                       "  timeouts: { header: 500ms, idle: 2s }\n"
                       "log: { level: warn }\n"
                       "resolve: { \"example.com:80\": \"127.0.0.1:8080\" }\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(check_config_test, BadValueReportsFileLineColumn) {
  const auto r = check("bad.yaml",
                       "proxy:\n"
                       "  listen: \"127.0.0.1:0\"\n"
                       "  workers: many\n");
  expect_position(r, scratch("bad.yaml"), 3, 12, "workers");
}

TEST_F(check_config_test, UnknownKeyIsAnError) {
  const auto r = check("unknown.yaml",
                       "proxy:\n"
                       "  listen: \"127.0.0.1:0\"\n"
                       "  lisen: \"127.0.0.1:1\"\n");
  expect_position(r, scratch("unknown.yaml"), 3, 3, "lisen");
}

TEST_F(check_config_test, BadDurationIsAnError) {
  const auto r = check("duration.yaml",
                       "proxy:\n"
                       "  timeouts:\n"
                       "    idle: soon\n");
  expect_position(r, scratch("duration.yaml"), 3, 11, "idle");
}

TEST_F(check_config_test, YamlSyntaxErrorReportsPosition) {
  const auto r = check("syntax.yaml",
                       "proxy:\n"
                       "  listen: [\"127.0.0.1:0\"\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(parse_position(r.err, scratch("syntax.yaml").string())) << r.err;
}

TEST_F(check_config_test, BadConfigNeverListens) {
  const auto path = scratch("run-bad.yaml");
  write_file(path, "proxy:\n  listen: \"127.0.0.1:0\"\n  workers: many\n");
  const auto r =
      run_command({airlock_binary(), "--config", path.string()}, tmp_.path(), "run-bad", 10s);
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find(path.string() + ":3:12: "), std::string::npos) << r.err;
}

// Found by fuzzing: inputs on which yaml-cpp itself never returns, past the shape check
// (tests/fuzz/known-hangs). They are refused after a bounded wait instead of hanging
// --check-config or the start, at the place where the parser starts to fail.
TEST_F(check_config_test, FileTheYamlParserHangsOnIsRefusedInBoundedTimeWithItsPlace) {
  const auto r = check("hang.yaml", "- - x\n, - x\n");
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(scratch("hang.yaml").string() +
                       ":2:1: the YAML parser does not finish once it reaches here"),
            std::string::npos)
      << r.err;
  EXPECT_LT(r.elapsed, 9s);
}

TEST_F(check_config_test, LeadingCommaIsRefusedNotHung) {
  const auto r = check("comma.yaml", ",`A\n");
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(":1:1: a YAML document cannot start with \",\""), std::string::npos)
      << r.err;
}

TEST_F(check_config_test, MissingFileIsAnError) {
  const auto missing = scratch("does-not-exist.yaml");
  const auto r = run_command({airlock_binary(), "--check-config", missing.string()}, tmp_.path(),
                             "check-missing", 10s);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.rfind(missing.string() + ":", 0), 0u) << r.err;
}

}  // namespace
}  // namespace airlock::test

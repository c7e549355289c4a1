// The vendors' telemetry switches telemetry.env sets, and RTK's endpoint among the blocked.

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "config/telemetry_defaults.hpp"
#include "config/telemetry_optouts.hpp"

namespace airlock::config {
namespace {

TEST(telemetry_optouts, each_variable_once_with_a_value_and_a_source) {
  std::set<std::string> variables;
  for (const auto& o : vendor_telemetry_optouts()) {
    EXPECT_FALSE(o.tool.empty());
    EXPECT_FALSE(o.source.empty()) << o.tool;
    if (o.variable.empty()) {
      EXPECT_TRUE(o.value.empty()) << o.tool << ": a value without a variable";
      continue;
    }
    EXPECT_TRUE(variables.insert(o.variable).second) << o.variable << " listed twice";
    EXPECT_FALSE(o.value.empty()) << o.variable;
    // The names go into an env file unquoted, as `export NAME=`.
    EXPECT_EQ(o.variable.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"),
              std::string::npos)
        << o.variable;
  }
  for (const char* wanted :
       {"DISABLE_TELEMETRY", "DISABLE_ERROR_REPORTING", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
        "RTK_TELEMETRY_DISABLED", "GEMINI_TELEMETRY_ENABLED", "DO_NOT_TRACK"}) {
    EXPECT_EQ(variables.count(wanted), 1u) << wanted;
  }
}

TEST(telemetry_optouts, rtk_ping_host_is_blocked_whole) {
  bool found = false;
  for (const auto& e : vendor_telemetry_defaults()) {
    if (e.name == "rtk-telemetry") {
      found = true;
      EXPECT_EQ(e.host.host, "telemetry.rtk-ai.app");
      EXPECT_TRUE(e.path_prefix.empty()) << "a path entry never fires over a blind tunnel";
      EXPECT_NE(e.source.find("telemetry.rtk-ai.app/ping"), std::string::npos);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace airlock::config

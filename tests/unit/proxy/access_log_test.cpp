// Access log lines: every field present, nothing a client sends can forge a field or a
// line, and the query string never appears.

#include "proxy/observe/access_log.hpp"

#include <gtest/gtest.h>

namespace airlock::proxy {
namespace {

access_entry sample() {
  access_entry e;
  e.client = "127.0.0.1:5000";
  e.mode = "intercept";
  e.method = "POST";
  e.authority = "api.anthropic.com:443";
  e.path = "/v1/messages";
  e.status = 200;
  e.bytes_in = 120;
  e.bytes_out = 3400;
  e.ms = 12.5;
  e.upstream_ms = 11.25;
  e.rule = "anthropic";
  return e;
}

TEST(format_access, text_line_has_every_field) {
  EXPECT_EQ(format_access(sample(), config::log_format::text),
            "access client=127.0.0.1:5000 mode=intercept method=POST "
            "authority=api.anthropic.com:443 path=/v1/messages status=200 bytes_in=120 "
            "bytes_out=3400 ms=12.500 upstream_ms=11.250 rule=anthropic reason=-");
}

TEST(format_access, json_line_has_every_field) {
  const std::string line = format_access(sample(), config::log_format::json);
  EXPECT_EQ(line.substr(0, 6), "{\"ts\":");
  EXPECT_NE(line.find(",\"level\":\"info\",\"type\":\"access\",\"client\":\"127.0.0.1:5000\","
                      "\"mode\":\"intercept\",\"method\":\"POST\",\"authority\":"
                      "\"api.anthropic.com:443\",\"path\":\"/v1/messages\",\"status\":200,"
                      "\"bytes_in\":120,\"bytes_out\":3400,\"ms\":12.500,\"upstream_ms\":11.250,"
                      "\"rule\":\"anthropic\"}"),
            std::string::npos)
      << line;
}

TEST(format_access, attacker_path_cannot_forge_a_field_or_a_line) {
  access_entry e = sample();
  e.path = "/x status=999 \"evil\"\n2026 info access forged=1";
  const std::string text = format_access(e, config::log_format::text);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_NE(text.find("path=\"/x status=999 \\\"evil\\\"2026 info access forged=1\""),
            std::string::npos)
      << text;
  const std::string json = format_access(e, config::log_format::json);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_NE(json.find(R"("path":"/x status=999 \"evil\"\n2026 info access forged=1")"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace airlock::proxy

// Invariant 3: secret bytes never reach logs. Every way a secret_value can be formatted must
// print the redacted label and never the value.

#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "secrets/secret_value.hpp"
#include "secure_heap_fixture.hpp"

namespace airlock::secrets {
namespace {

constexpr const char* value_text = "sk-ant-api03-DO-NOT-LOG";

class secret_format_test : public test::with_secure_heap {};

TEST_F(secret_format_test, fmt_prints_only_the_redacted_label) {
  const secret_value value("anthropic", value_text);

  const std::string out = fmt::format("key={}", value);

  EXPECT_EQ(out, "key=[redacted:anthropic]");
  EXPECT_EQ(out.find(value_text), std::string::npos);
  EXPECT_EQ(fmt::to_string(value), "[redacted:anthropic]");
}

TEST_F(secret_format_test, fmt_applies_width_and_alignment_to_the_label) {
  const secret_value value("github", value_text);

  EXPECT_EQ(fmt::format("[{:>20}]", value), "[   [redacted:github]]");
  EXPECT_EQ(fmt::format("[{:<19}]", value), "[[redacted:github]  ]");
}

TEST_F(secret_format_test, fmt_runtime_format_strings_are_redacted_too) {
  const secret_value value("openai", value_text);

  const std::string out = fmt::format(fmt::runtime("{} {}"), value, value);

  EXPECT_EQ(out, "[redacted:openai] [redacted:openai]");
}

TEST_F(secret_format_test, ostream_prints_only_the_redacted_label) {
  const secret_value value("anthropic", value_text);
  std::ostringstream out;

  out << "key=" << value;

  EXPECT_EQ(out.str(), "key=[redacted:anthropic]");
  EXPECT_EQ(out.str().find(value_text), std::string::npos);
}

TEST_F(secret_format_test, wiped_and_moved_from_values_format_without_bytes) {
  secret_value wiped("github", value_text);
  wiped.wipe();
  secret_value source("openai", value_text);
  const secret_value target(std::move(source));
  std::ostringstream out;

  out << source;  // NOLINT(bugprone-use-after-move): formatting a moved-from value must be safe

  EXPECT_EQ(fmt::format("{}", wiped), "[redacted:github]");
  EXPECT_EQ(fmt::format("{}", source), "[redacted:]");
  EXPECT_EQ(out.str(), "[redacted:]");
  EXPECT_EQ(fmt::format("{}", target), "[redacted:openai]");
}

}  // namespace
}  // namespace airlock::secrets

// Rendering a value template: what a credential field or a revoke hook's header carries.
// A missing secret must never be rendered as an empty value (upstream would get a header
// with no credential and answer 401 in the agent's name, or a hook would revoke nothing).

#include "proxy/policy/value_template.hpp"

#include <gtest/gtest.h>

#include <map>

namespace airlock::proxy {
namespace {

config::value_template tmpl(std::vector<config::value_template::part> parts) {
  return config::value_template{std::move(parts)};
}

secret_lookup lookup_in(const std::map<std::string, std::string, std::less<>>& values) {
  return [&values](std::string_view name) -> std::optional<std::string_view> {
    const auto it = values.find(name);
    if (it == values.end()) {
      return std::nullopt;
    }
    return std::string_view(it->second);
  };
}

TEST(render, literal_text_and_secrets_in_order) {
  const std::map<std::string, std::string, std::less<>> values{{"user", "u1"}, {"key", "sk-1"}};
  std::string out = "Authorization: ";
  const auto t = tmpl({{false, "Token "}, {true, "user"}, {false, ":"}, {true, "key"}});
  EXPECT_EQ(render(out, t, lookup_in(values)), std::nullopt);
  EXPECT_EQ(out, "Authorization: Token u1:sk-1");  // appended, nothing before it touched
}

TEST(render, a_template_without_secrets_is_its_text) {
  std::string out;
  EXPECT_EQ(render(out, tmpl({{false, "plain"}}), lookup_in({})), std::nullopt);
  EXPECT_EQ(out, "plain");
  out.clear();
  EXPECT_EQ(render(out, tmpl({}), lookup_in({})), std::nullopt);
  EXPECT_EQ(out, "");
}

TEST(render, a_missing_secret_is_named_and_never_rendered_empty) {
  const std::map<std::string, std::string, std::less<>> values{{"a", "va"}};
  std::string out;
  const auto t = tmpl({{true, "a"}, {false, "-"}, {true, "gone"}, {false, "-tail"}});
  EXPECT_EQ(render(out, t, lookup_in(values)), std::optional<std::string>("gone"));
  // What came before the missing one is there for the caller to wipe; nothing after it.
  EXPECT_EQ(out, "va-");
}

TEST(render, a_value_that_looks_like_a_template_is_not_expanded_again) {
  const std::map<std::string, std::string, std::less<>> values{{"a", "{{b}}"}, {"b", "secret-b"}};
  std::string out;
  EXPECT_EQ(render(out, tmpl({{true, "a"}}), lookup_in(values)), std::nullopt);
  EXPECT_EQ(out, "{{b}}");
}

}  // namespace
}  // namespace airlock::proxy

// The probe table is data: each runtime the issue names has a probe that asks the check
// host with the runtime itself, and the fixes it reports; placeholders and PATH lookup.

#include "proxy/doctor/probes.hpp"

#include <gtest/gtest.h>

#include <set>

#include "proxy/policy/check_host.hpp"

namespace airlock::proxy::doctor {
namespace {

TEST(doctor_probes, every_runtime_has_a_probe_and_both_fixes) {
  std::vector<std::string> names;
  for (const auto& p : runtime_probes()) {
    names.push_back(p.name);
    SCOPED_TRACE(p.name);
    ASSERT_FALSE(p.argv.empty());
    EXPECT_EQ(p.argv.front(), "{exe}");
    EXPECT_FALSE(p.executables.empty());
    EXPECT_FALSE(p.fix_bypass.empty());
    EXPECT_FALSE(p.fix_untrusted.empty());
    EXPECT_GE(p.timeout.count(), 10);
    // The request goes to the check host, over https.
    std::string all;
    for (const auto& a : p.argv) {
      all += a;
    }
    for (const auto& f : p.files) {
      all += f.text;
    }
    EXPECT_NE(all.find("{url}"), std::string::npos);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"curl", "wget", "python3", "node", "bun", "deno", "go",
                                             "java", "git", "npm", "pip"}));
}

TEST(doctor_probes, placeholders_are_filled_and_other_braces_kept) {
  const std::map<std::string, std::string> vars{{"url", "https://h"}, {"ms", "10"}};
  EXPECT_EQ(expand("{url}/x", vars), "https://h/x");
  EXPECT_EQ(expand("fetch(\"{url}/\", { signal: AbortSignal.timeout({ms}) })", vars),
            "fetch(\"https://h/\", { signal: AbortSignal.timeout(10) })");
  EXPECT_EQ(expand("{unknown} {url", vars), "{unknown} {url");
  EXPECT_EQ(expand("}{}{{url}}", vars), "}{}{https://h}");
  // A value is not expanded again.
  EXPECT_EQ(expand("{a}", {{"a", "{url}"}, {"url", "x"}}), "{url}");
}

TEST(doctor_probes, path_lookup_takes_the_first_executable) {
  const std::set<std::string> files{"/b/curl", "/c/curl", "/c/pip3"};
  auto exec = [&](const std::string& p) { return files.count(p) > 0; };
  EXPECT_EQ(find_on_path("/a:/b:/c", "curl", exec), "/b/curl");
  EXPECT_EQ(find_on_path("/a/::/c/", "pip3", exec), "/c/pip3");
  EXPECT_EQ(find_on_path("/a:/b", "pip3", exec), "");
  EXPECT_EQ(find_on_path("", "curl", exec), "");
  // An empty entry (the working directory) is never searched.
  EXPECT_EQ(
      find_on_path(":", "curl", [](const std::string& p) { return p == "/curl" || p == "curl"; }),
      "");
}

}  // namespace
}  // namespace airlock::proxy::doctor

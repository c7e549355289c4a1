// Loading secrets: what is refused (values that could split a header line), what is
// trimmed, and that an env source leaves no trace in the environment.

#include "secrets/store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace airlock::secrets {
namespace {

namespace fs = std::filesystem;

class store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("airlock-store-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static config::secret_source file_source(const std::string& name, const std::string& path,
                                           bool required = true) {
    return {name, config::secret_source::kind::file, path, required};
  }

  fs::path dir_;
};

TEST_F(store_test, file_value_loses_one_trailing_newline) {
  const auto s =
      store::load({file_source("a", write("a", "sk-123\n")),
                   file_source("b", write("b", "tok\r\n")), file_source("c", write("c", "plain"))});
  EXPECT_EQ(s.lookup("a"), "sk-123");
  EXPECT_EQ(s.lookup("b"), "tok");
  EXPECT_EQ(s.lookup("c"), "plain");
  EXPECT_TRUE(s.missing_required().empty());
  EXPECT_TRUE(s.problems().empty());
}

TEST_F(store_test, values_that_would_split_a_header_are_refused_without_echoing_them) {
  const auto s = store::load({file_source("inj", write("inj", "sk-1\r\nX-Evil: 1")),
                              file_source("nul", write("nul", std::string("ab\0cd", 5))),
                              file_source("lf", write("lf", "a\nb\n"))});
  EXPECT_FALSE(s.lookup("inj"));
  EXPECT_FALSE(s.lookup("nul"));
  EXPECT_FALSE(s.lookup("lf"));
  EXPECT_EQ(s.missing_required(), (std::vector<std::string>{"inj", "nul", "lf"}));
  ASSERT_EQ(s.problems().size(), 3u);
  for (const auto& p : s.problems()) {
    EXPECT_EQ(p.find("sk-1"), std::string::npos) << p;
    EXPECT_EQ(p.find("X-Evil"), std::string::npos) << p;
  }
}

TEST_F(store_test, unreadable_or_empty_sources_are_missing) {
  const auto s = store::load({file_source("gone", (dir_ / "nope").string()),
                              file_source("empty", write("empty", "\n")),
                              file_source("optional", (dir_ / "nope2").string(), false)});
  EXPECT_FALSE(s.lookup("gone"));
  EXPECT_FALSE(s.lookup("empty"));
  EXPECT_EQ(s.missing_required(), (std::vector<std::string>{"gone", "empty"}));
  EXPECT_EQ(s.problems().size(), 3u);
}

TEST_F(store_test, env_source_is_read_then_removed_from_the_environment) {
  ::setenv("AIRLOCK_TEST_TOKEN", "ghp_secret", 1);
  const auto s =
      store::load({{"gh", config::secret_source::kind::env, "AIRLOCK_TEST_TOKEN", true}});
  EXPECT_EQ(s.lookup("gh"), "ghp_secret");
  EXPECT_EQ(std::getenv("AIRLOCK_TEST_TOKEN"), nullptr);
  const auto again =
      store::load({{"gh", config::secret_source::kind::env, "AIRLOCK_TEST_TOKEN", true}});
  EXPECT_FALSE(again.lookup("gh"));
  EXPECT_EQ(again.missing_required(), std::vector<std::string>{"gh"});
}

TEST(normalise_secret_text, trims_one_newline_only) {
  std::string a = "x\n\n";
  EXPECT_FALSE(normalise_secret_text(a));  // an inner LF remains
  std::string b = "x\r\n";
  EXPECT_TRUE(normalise_secret_text(b));
  EXPECT_EQ(b, "x");
  std::string c = "x\r";
  EXPECT_FALSE(normalise_secret_text(c));
}

}  // namespace
}  // namespace airlock::secrets

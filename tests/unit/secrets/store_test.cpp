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
    return {name, config::secret_source::kind::file, path, required, std::nullopt};
  }

  fs::path dir_;
};

std::optional<std::string> value_of(const store& s, std::string_view name) {
  const auto v = s.get(name);
  if (!v) {
    return std::nullopt;
  }
  return std::string(v->reveal());
}

TEST_F(store_test, file_value_loses_one_trailing_newline) {
  store s({file_source("a", write("a", "sk-123\n")), file_source("b", write("b", "tok\r\n")),
           file_source("c", write("c", "plain"))});
  EXPECT_EQ(value_of(s, "a"), "sk-123");
  EXPECT_EQ(value_of(s, "b"), "tok");
  EXPECT_EQ(value_of(s, "c"), "plain");
  EXPECT_TRUE(s.missing_required().empty());
  EXPECT_TRUE(s.problems().empty());
}

TEST_F(store_test, values_that_would_split_a_header_are_refused_without_echoing_them) {
  store s({file_source("inj", write("inj", "sk-1\r\nX-Evil: 1")),
           file_source("nul", write("nul", std::string("ab\0cd", 5))),
           file_source("lf", write("lf", "a\nb\n"))});
  EXPECT_FALSE(value_of(s, "inj"));
  EXPECT_FALSE(value_of(s, "nul"));
  EXPECT_FALSE(value_of(s, "lf"));
  EXPECT_EQ(s.missing_required(), (std::vector<std::string>{"inj", "nul", "lf"}));
  ASSERT_EQ(s.problems().size(), 3u);
  for (const auto& p : s.problems()) {
    EXPECT_EQ(p.find("sk-1"), std::string::npos) << p;
    EXPECT_EQ(p.find("X-Evil"), std::string::npos) << p;
  }
}

TEST_F(store_test, unreadable_or_empty_sources_are_missing) {
  store s({file_source("gone", (dir_ / "nope").string()),
           file_source("empty", write("empty", "\n")),
           file_source("optional", (dir_ / "nope2").string(), false)});
  EXPECT_FALSE(value_of(s, "gone"));
  EXPECT_FALSE(value_of(s, "empty"));
  EXPECT_EQ(s.missing_required(), (std::vector<std::string>{"gone", "empty"}));
  EXPECT_EQ(s.problems().size(), 3u);
}

TEST_F(store_test, env_source_is_read_then_removed_from_the_environment) {
  ::setenv("AIRLOCK_TEST_TOKEN", "ghp_secret", 1);
  store s({{"gh", config::secret_source::kind::env, "AIRLOCK_TEST_TOKEN", true, std::nullopt}});
  EXPECT_EQ(value_of(s, "gh"), "ghp_secret");
  EXPECT_EQ(std::getenv("AIRLOCK_TEST_TOKEN"), nullptr);
  store again({{"gh", config::secret_source::kind::env, "AIRLOCK_TEST_TOKEN", true, std::nullopt}});
  EXPECT_FALSE(value_of(again, "gh"));
  EXPECT_EQ(again.missing_required(), std::vector<std::string>{"gh"});
}

// ---------------------------------------------------------------------------------------------
// Lifecycle: push, rotation, phases, revoke

config::secret_source push_source(const std::string& name, bool required = true) {
  return {name, config::secret_source::kind::push, "", required, std::nullopt};
}

store::put_result put(store& s, std::string_view name, std::string value) {
  return s.put(name, std::span<char>(value.data(), value.size()));
}

TEST_F(store_test, push_moves_setup_to_execution) {
  store s({push_source("openai"), push_source("extra", false)});
  EXPECT_EQ(s.current_phase(), phase::setup);
  EXPECT_EQ(s.missing_required(), std::vector<std::string>{"openai"});
  EXPECT_FALSE(s.get("openai"));
  EXPECT_EQ(put(s, "openai", "sk-pushed\n"), store::put_result::ok);
  EXPECT_EQ(value_of(s, "openai"), "sk-pushed");
  EXPECT_EQ(s.current_phase(), phase::execution);  // "extra" is optional
  EXPECT_TRUE(s.missing_required().empty());
}

TEST_F(store_test, no_required_secret_means_execution_at_once) {
  store s({push_source("opt", false)});
  EXPECT_EQ(s.current_phase(), phase::execution);
}

TEST_F(store_test, put_wipes_the_callers_buffer_whatever_the_result) {
  store s({push_source("a")});
  for (std::string input : {"sk-good", "bad\r\nX: 1", ""}) {
    std::string buf = input;
    s.put("a", std::span<char>(buf.data(), buf.size()));
    EXPECT_EQ(buf, std::string(input.size(), '\0'));
  }
  std::string unknown = "sk-unknown";
  EXPECT_EQ(s.put("nope", std::span<char>(unknown.data(), unknown.size())),
            store::put_result::unknown_name);
  EXPECT_EQ(unknown, std::string(10, '\0'));
}

TEST_F(store_test, put_refuses_values_that_would_split_a_header) {
  store s({push_source("a")});
  EXPECT_EQ(put(s, "a", "x\r\nEvil: 1"), store::put_result::invalid_value);
  EXPECT_EQ(put(s, "a", std::string("x\0y", 3)), store::put_result::invalid_value);
  EXPECT_EQ(put(s, "a", "\n"), store::put_result::invalid_value);
  EXPECT_FALSE(s.get("a"));
}

TEST_F(store_test, rotation_leaves_in_flight_holders_with_the_old_value) {
  store s({push_source("a")});
  ASSERT_EQ(put(s, "a", "old-value"), store::put_result::ok);
  const value_ref in_flight = s.get("a");
  ASSERT_EQ(put(s, "a", "new-value"), store::put_result::ok);
  EXPECT_EQ(in_flight->reveal(), "old-value");
  EXPECT_EQ(value_of(s, "a"), "new-value");
}

TEST_F(store_test, reload_replaces_a_file_value_and_keeps_it_when_the_file_is_bad) {
  const auto path = write("key", "first\n");
  store s({file_source("k", path), push_source("p")});
  write("key", "second\n");
  EXPECT_TRUE(s.reload_file("k"));
  EXPECT_EQ(value_of(s, "k"), "second");
  write("key", "bad\nvalue\n");
  EXPECT_FALSE(s.reload_file("k"));
  EXPECT_EQ(value_of(s, "k"), "second");
  EXPECT_EQ(s.problems().size(), 1u);
  // Only file sources are re-read: a push secret has no file to take a value from.
  EXPECT_FALSE(s.reload_file("p"));
  EXPECT_FALSE(s.reload_file("nope"));
}

TEST_F(store_test, revoke_wipes_everything_and_is_final) {
  const auto path = write("key", "file-value");
  store s({file_source("f", path), push_source("p"), push_source("never", false)});
  ASSERT_EQ(put(s, "p", "pushed-value"), store::put_result::ok);
  const auto first = s.revoke();
  EXPECT_FALSE(first.already);
  EXPECT_EQ(first.names, (std::vector<std::string>{"f", "p"}));
  EXPECT_EQ(s.current_phase(), phase::revoked);
  EXPECT_FALSE(s.get("f"));
  EXPECT_FALSE(s.get("p"));
  // Nothing brings a value back: not a push, not a rotated file.
  EXPECT_EQ(put(s, "p", "again"), store::put_result::revoked);
  const auto next = write("key.new", "rotated");
  fs::rename(next, path);
  EXPECT_FALSE(s.reload_file("f"));
  EXPECT_FALSE(s.get("f"));
  const auto second = s.revoke();
  EXPECT_TRUE(second.already);
  EXPECT_EQ(second.names, first.names);
  EXPECT_EQ(second.at, first.at);
}

TEST_F(store_test, revoke_wipes_a_value_once_its_last_holder_lets_go) {
  store s({push_source("p")});
  ASSERT_EQ(put(s, "p", "held-value"), store::put_result::ok);
  value_ref in_flight = s.get("p");
  s.revoke();
  EXPECT_EQ(in_flight->reveal(), "held-value");  // the request being written finishes
  in_flight.reset();                             // and then nothing holds it
  EXPECT_FALSE(s.get("p"));
}

TEST_F(store_test, status_names_sources_without_values) {
  store s({push_source("p"), file_source("f", write("f", "v"), false)});
  const auto st = s.status();
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].name, "p");
  EXPECT_FALSE(st[0].present);
  EXPECT_FALSE(st[0].set_at);
  EXPECT_EQ(st[1].name, "f");
  EXPECT_TRUE(st[1].present);
  EXPECT_TRUE(st[1].set_at);
  EXPECT_FALSE(st[1].required);
}

TEST(phase_name, names_each_phase) {
  EXPECT_EQ(phase_name(phase::setup), "setup");
  EXPECT_EQ(phase_name(phase::execution), "execution");
  EXPECT_EQ(phase_name(phase::revoked), "revoked");
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

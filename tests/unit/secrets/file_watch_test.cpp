// Secret-file rotation: which files are re-read (the pure decision), and what a re-read
// does to the store. A rotation must never lose a good value to a bad file, nor bring a
// value back after revoke.

#include "secrets/file_watch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

namespace airlock::secrets {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using stamps = std::vector<std::optional<file_stamp>>;

TEST(files_to_reread, only_files_there_now_whose_stamp_differs) {
  const file_stamp a{1, 10, 5, 100};
  file_stamp new_inode = a;
  new_inode.ino = 11;
  file_stamp new_size = a;
  new_size.size = 6;
  file_stamp new_mtime = a;
  new_mtime.mtime_ns = 101;
  EXPECT_TRUE(files_to_reread(stamps{a}, stamps{a}).empty());
  EXPECT_EQ(files_to_reread(stamps{a, a, a}, stamps{new_inode, new_size, new_mtime}),
            (std::vector<std::size_t>{0, 1, 2}));
  // Missing now (a volume mid-swap): the value it had stays, nothing is read.
  EXPECT_TRUE(files_to_reread(stamps{a}, stamps{std::nullopt}).empty());
  // Never there before, there now: read it.
  EXPECT_EQ(files_to_reread(stamps{std::nullopt, a}, stamps{a, a}), std::vector<std::size_t>{0});
  EXPECT_TRUE(files_to_reread(stamps{std::nullopt}, stamps{std::nullopt}).empty());
}

class file_watch_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("airlock-watch-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  // The way a Kubernetes Secret volume updates: a new file renamed over the old one.
  void replace(const std::string& path, const std::string& content) {
    fs::rename(write("next", content), path);
  }
  std::vector<config::secret_source> file_source(const std::string& name, const std::string& path) {
    return {{name, config::secret_source::kind::file, path, true, std::nullopt}};
  }
  static std::optional<std::string> value_of(const store& s, std::string_view name) {
    const auto v = s.get(name);
    return v ? std::optional<std::string>(std::string(v->reveal())) : std::nullopt;
  }

  fs::path dir_;
};

TEST_F(file_watch_test, a_changed_file_is_reread_and_an_unchanged_one_is_not) {
  const auto path = write("key", "first\n");
  const auto sources = file_source("k", path);
  file_watch watch(sources);
  store s(sources);
  EXPECT_FALSE(watch.empty());
  EXPECT_TRUE(watch.poll(s).empty());
  replace(path, "second\n");
  EXPECT_EQ(watch.poll(s), std::vector<std::string>{"k"});
  EXPECT_EQ(value_of(s, "k"), "second");
  EXPECT_TRUE(watch.poll(s).empty());
}

TEST_F(file_watch_test, a_file_replaced_while_the_store_reads_it_is_not_missed) {
  const auto path = write("key", "first\n");
  const auto sources = file_source("k", path);
  file_watch watch(sources);  // stamped before the store reads
  replace(path, "second\n");  // replaced in between
  store s(sources);
  EXPECT_EQ(watch.poll(s), std::vector<std::string>{"k"});
  EXPECT_EQ(value_of(s, "k"), "second");
}

TEST_F(file_watch_test, a_file_that_appears_later_is_loaded) {
  const auto path = (dir_ / "late").string();
  const auto sources = file_source("late", path);
  file_watch watch(sources);
  store s(sources);
  EXPECT_EQ(s.current_phase(), phase::setup);
  EXPECT_TRUE(watch.poll(s).empty());
  write("late", "arrived");
  EXPECT_EQ(watch.poll(s), std::vector<std::string>{"late"});
  EXPECT_EQ(s.current_phase(), phase::execution);
}

TEST_F(file_watch_test, a_broken_rewrite_keeps_the_old_value_and_is_reported_once) {
  const auto path = write("key", "good\n");
  const auto sources = file_source("k", path);
  file_watch watch(sources);
  store s(sources);
  replace(path, "bad\nvalue\n");  // would split a header line
  EXPECT_TRUE(watch.poll(s).empty());
  EXPECT_EQ(value_of(s, "k"), "good");
  EXPECT_EQ(s.problems().size(), 1u);
  EXPECT_TRUE(watch.poll(s).empty());
  EXPECT_EQ(s.problems().size(), 1u);  // once per change, not once per poll
}

TEST_F(file_watch_test, nothing_comes_back_after_revoke) {
  const auto path = write("key", "before\n");
  const auto sources = file_source("k", path);
  file_watch watch(sources);
  store s(sources);
  s.revoke();
  replace(path, "after\n");
  EXPECT_TRUE(watch.poll(s).empty());
  EXPECT_FALSE(s.get("k"));
}

TEST_F(file_watch_test, no_file_source_means_nothing_to_watch) {
  const std::vector<config::secret_source> sources = {
      {"p", config::secret_source::kind::push, "", true, std::nullopt}};
  EXPECT_TRUE(file_watch(sources).empty());
}

TEST_F(file_watch_test, the_thread_polls_and_stops_promptly) {
  const auto path = write("key", "first\n");
  const auto sources = file_source("k", path);
  file_watch watch(sources);
  store s(sources);
  std::mutex m;
  std::vector<std::string> rotated;
  const auto started = std::chrono::steady_clock::now();
  {
    file_watch_thread poller(watch, s, 20ms, [&](const std::string& name) {
      std::lock_guard lock(m);
      rotated.push_back(name);
    });
    replace(path, "second\n");
    for (int i = 0; i < 200 && value_of(s, "k") != "second"; ++i) {
      std::this_thread::sleep_for(10ms);
    }
  }
  EXPECT_EQ(value_of(s, "k"), "second");
  EXPECT_EQ(rotated, std::vector<std::string>{"k"});
  // A long interval does not hold up the stop.
  const auto stop_at = std::chrono::steady_clock::now();
  {
    file_watch_thread idle(watch, s, std::chrono::hours(1), [](const std::string&) {});
  }
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 1s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

}  // namespace
}  // namespace airlock::secrets

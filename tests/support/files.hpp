#pragma once
// Scratch files for tests: a temporary directory that cleans up after itself, and
// bodies of known content whose hash a test can compare with what a server saw.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace airlock::test {

// A fresh directory under $TMPDIR (or /tmp), removed on destruction unless the
// environment sets AIRLOCK_TEST_KEEP_TMP (to look at logs after a failure).
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Whole file as bytes; empty when it does not exist. Throws on read errors.
std::string read_file(const std::filesystem::path& path);

// Creates or replaces path with content; throws on failure.
void write_file(const std::filesystem::path& path, std::string_view content);

// size bytes where every 8-byte word holds its own offset (mixed), so a body with
// lost, repeated or reordered pieces has a different hash. Written in 1 MiB steps.
void write_patterned_file(const std::filesystem::path& path, std::uint64_t size);

// A file of size zero bytes that takes no disk space (sparse).
void write_sparse_file(const std::filesystem::path& path, std::uint64_t size);

// 64-bit FNV-1a, fed in pieces: the same value whichever way a body was split.
class fnv1a {
 public:
  void update(std::string_view bytes);
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// FNV-1a of a file's content.
std::uint64_t fnv1a_file(const std::filesystem::path& path);

// Lowercase hex with leading zeros, as the sink server reports hashes.
std::string to_hex(std::uint64_t value);

}  // namespace airlock::test

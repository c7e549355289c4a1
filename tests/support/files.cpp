#include "tests/support/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace airlock::test {

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/airlock-itest.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = pattern;
}

temp_dir::~temp_dir() {
  if (std::getenv("AIRLOCK_TEST_KEEP_TMP") != nullptr) {
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return {};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

void write_patterned_file(const std::filesystem::path& path, std::uint64_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  constexpr std::size_t step = 1 << 20;
  std::vector<char> block(step);
  for (std::uint64_t offset = 0; offset < size; offset += step) {
    for (std::size_t i = 0; i < step; i += 8) {
      // A multiplicative mix of the offset: no two words alike, no long runs.
      const std::uint64_t word = (offset + i) * 0x9e3779b97f4a7c15ULL;
      std::memcpy(block.data() + i, &word, 8);
    }
    const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(step, size - offset));
    out.write(block.data(), n);
  }
  out.close();
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

void write_sparse_file(const std::filesystem::path& path, std::uint64_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const int e = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(e));
  }
  ::close(fd);
}

void fnv1a::update(std::string_view bytes) {
  std::uint64_t h = hash_;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  hash_ = h;
}

std::uint64_t fnv1a_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path.string());
  }
  fnv1a h;
  std::vector<char> block(1 << 20);
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    h.update(std::string_view(block.data(), static_cast<std::size_t>(in.gcount())));
  }
  return h.value();
}

std::string to_hex(std::uint64_t value) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = digits[value & 15];
    value >>= 4;
  }
  return out;
}

}  // namespace airlock::test

#include "tests/support/curl.hpp"

#include <atomic>
#include <sstream>

namespace airlock::test {

namespace {

// Each run's output files get their own name within a test's scratch directory.
std::string next_name() {
  static std::atomic<int> counter{0};
  return "curl-" + std::to_string(counter.fetch_add(1));
}

}  // namespace

std::vector<std::string> curl_argv(std::vector<std::string> args) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-q", "-sS", "--noproxy", "",
                                   "--max-time",    "80"};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  return argv;
}

command_result run_curl(const std::filesystem::path& scratch_dir, std::vector<std::string> args,
                        std::chrono::milliseconds timeout) {
  return run_command(curl_argv(std::move(args)), scratch_dir, next_name(), timeout);
}

std::unique_ptr<background_command> start_curl(const std::filesystem::path& scratch_dir,
                                               std::vector<std::string> args) {
  return std::make_unique<background_command>(curl_argv(std::move(args)), scratch_dir, next_name());
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) {
    out.push_back(w);
  }
  return out;
}

}  // namespace airlock::test

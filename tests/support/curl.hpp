#pragma once
// curl as the real client: every run gets `-q` (no ~/.curlrc), `--noproxy ''` (no
// environment can bypass the proxy), `-sS` and a hard --max-time, then the test's own
// arguments. Tests read results from `-w` output and curl's exit code.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace airlock::test {

// The fixed leading arguments plus args, ready for background_command.
std::vector<std::string> curl_argv(std::vector<std::string> args);

// Runs curl to completion; output files go to scratch_dir.
command_result run_curl(const std::filesystem::path& scratch_dir, std::vector<std::string> args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(90));

// Starts curl in the background (for requests that must be in flight during a test).
std::unique_ptr<background_command> start_curl(const std::filesystem::path& scratch_dir,
                                               std::vector<std::string> args);

// Splits text on whitespace: `-w '%{http_code} %{num_connects}\n'` output into fields.
std::vector<std::string> words(const std::string& text);

}  // namespace airlock::test

#include "tests/integration/kit_fixture.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace airlock::test {

void kit_test::start_kit(const std::string& proxy_yaml, const std::string& extra_yaml) {
  up_ = start_upstream(mint_leaf(pki_, "api", {"DNS:api.test"}));
  authority_ = "api.test:" + std::to_string(up_->port());
  airlock_settings s;
  s.resolve[authority_] = up_->address();
  s.proxy_yaml = proxy_yaml;
  s.extra_yaml = tls_yaml() + "routes:\n  - { prefix: /echo, upstream: \"https://" + authority_ +
                 "\" }\n" + extra_yaml;
  start_intercepting("  anthropic: { env: ANTHROPIC_KEY }\n",
                     "  - { host: api.test, port: " + std::to_string(up_->port()) +
                         ", headers: { x-api-key: \"{{anthropic}}\" } }\n",
                     {{"ANTHROPIC_KEY", api_key}}, s);
}

command_result kit_test::run_with_kit(std::vector<std::string> argv, const std::string& name,
                                      std::vector<std::string> env,
                                      std::chrono::milliseconds timeout) {
  const auto home = scratch("home");
  std::filesystem::create_directories(home);
  std::vector<std::string> full{"/usr/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin",
                                "HOME=" + home.string()};
  full.insert(full.end(), env.begin(), env.end());
  full.insert(full.end(),
              {"/bin/sh", "-c", ". \"$0\" && exec \"$@\"", kit_file("airlock.env").string()});
  full.insert(full.end(), argv.begin(), argv.end());
  return run_command(std::move(full), tmp_.path(), name, timeout);
}

::testing::AssertionResult kit_test::injected(const std::string& line) const {
  const auto requests = up_->requests();
  if (requests.empty()) {
    return ::testing::AssertionFailure() << "no request reached the upstream";
  }
  const std::string& got = requests.back();
  if (request_line(got) != line) {
    return ::testing::AssertionFailure() << "the newest request is not " << line << ":\n" << got;
  }
  if (field_values(got, "x-api-key") != std::vector<std::string>{api_key}) {
    return ::testing::AssertionFailure() << "not exactly the injected key:\n" << got;
  }
  return ::testing::AssertionSuccess();
}

std::string find_program(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/" + program;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

}  // namespace airlock::test

#pragma once
// The agent's kit against real clients: airlock intercepting an echo upstream named
// api.test (not loopback by name, so NO_PROXY does not send clients around airlock), and
// clients run with an empty environment plus `. EXPORT/airlock.env`: no flag, no variable
// of the test's own tells them about the proxy or the CA.

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/intercept_fixture.hpp"

namespace airlock::test {

class kit_test : public intercept_test {
 protected:
  // Starts the upstream and airlock: a credential rule injecting api_key as x-api-key on
  // api.test:PORT, a /echo route to it, and proxy_yaml and extra_yaml beside.
  void start_kit(const std::string& proxy_yaml = "", const std::string& extra_yaml = "");

  // Runs argv (argv[0] an absolute path) under `env -i` with PATH, HOME (a scratch folder)
  // and `env` only, after sourcing airlock.env.
  command_result run_with_kit(std::vector<std::string> argv, const std::string& name,
                              std::vector<std::string> env = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(90));

  // Success when the upstream's newest request has this request line and carries the real
  // key, once (a client's placeholder stripped); else says what arrived.
  ::testing::AssertionResult injected(const std::string& line) const;

  // "https://api.test:PORT" + path.
  std::string url(const std::string& path) const { return "https://" + authority_ + path; }

  std::filesystem::path kit_file(const std::string& name) const { return export_dir() / name; }

  std::unique_ptr<tls_echo_server> up_;
  std::string authority_;  // api.test:PORT
};

// Absolute path of `program` in the test process's PATH; empty when it is not there.
std::string find_program(const std::string& program);

}  // namespace airlock::test

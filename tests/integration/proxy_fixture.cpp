#include "tests/integration/proxy_fixture.hpp"

#include <iostream>
#include <sstream>

namespace airlock::test {

namespace {

std::string tail(const std::string& text, std::size_t max_bytes) {
  return text.size() <= max_bytes ? text : "...\n" + text.substr(text.size() - max_bytes);
}

}  // namespace

void proxy_test::TearDown() {
  if (HasFailure() && airlock_) {
    std::cerr << "---- airlock stderr (tail) ----\n"
              << tail(airlock_->stderr_text(), 4000) << "---- end of airlock stderr ----\n";
  }
}

airlock_process& proxy_test::start_airlock(const airlock_settings& settings) {
  airlock_ = std::make_unique<airlock_process>(tmp_.path(), settings);
  return *airlock_;
}

command_result proxy_test::curl(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  args.insert(args.begin(), {"-x", airlock_->proxy_url()});
  return run_curl(tmp_.path(), std::move(args), timeout);
}

double proxy_test::metric(std::string_view series) {
  const auto r = run_curl(
      tmp_.path(), {"http://127.0.0.1:" + std::to_string(airlock_->metrics_port()) + "/metrics"});
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    const auto space = line.rfind(' ');
    if (space != std::string::npos && std::string_view(line).substr(0, space) == series) {
      return std::stod(line.substr(space + 1));
    }
  }
  return -1;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void expect_unresolvable(int status, std::string_view answer, std::string_view host) {
  if (status == 504) {
    EXPECT_NE(answer.find("error=dns_timeout"), std::string_view::npos) << answer;
    return;
  }
  EXPECT_EQ(status, 502) << answer;
  EXPECT_NE(answer.find("error=dns_error; details=\"cannot resolve " + std::string(host) + "\""),
            std::string_view::npos)
      << answer;
}

}  // namespace airlock::test

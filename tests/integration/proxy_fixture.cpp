#include "tests/integration/proxy_fixture.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

namespace airlock::test {

namespace {

std::string tail(const std::string& text, std::size_t max_bytes) {
  return text.size() <= max_bytes ? text : "...\n" + text.substr(text.size() - max_bytes);
}

// Where a sanitizer report starts in airlock's stderr, npos if there is none. A report that
// came after the test's last request would otherwise go unseen: the fixture kills airlock.
std::size_t sanitizer_report(const std::string& text) {
  std::size_t first = std::string::npos;
  for (const char* marker : {"WARNING: ThreadSanitizer:", "ERROR: AddressSanitizer:",
                             "ERROR: LeakSanitizer:", ": runtime error: "}) {
    first = std::min(first, text.find(marker));
  }
  return first;
}

}  // namespace

void proxy_test::check_airlock_stderr() {
  if (!airlock_) {
    return;
  }
  const std::string text = airlock_->stderr_text();
  if (const auto at = sanitizer_report(text); at != std::string::npos) {
    ADD_FAILURE() << "airlock reported a sanitizer error:\n" << text.substr(at, 6000);
  } else if (HasFailure()) {
    std::cerr << "---- airlock stderr (tail) ----\n"
              << tail(text, 4000) << "---- end of airlock stderr ----\n";
  }
}

void proxy_test::TearDown() {
  check_airlock_stderr();
}

airlock_process& proxy_test::start_airlock(const airlock_settings& settings) {
  check_airlock_stderr();  // a restart must not discard the first process's report
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

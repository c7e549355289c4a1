// The other real clients an agent container runs through airlock: python3-requests
// (urllib3: absolute-form for http, CONNECT for https) and git over HTTP.

#include <gtest/gtest.h>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/nginx_upstream.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

// GET argv[2] through proxy argv[1], verifying TLS with argv[3] if given; prints
// "STATUS BODY". trust_env off: only the proxy given here may be used.
constexpr const char* requests_get = R"(
import sys, requests
s = requests.Session()
s.trust_env = False
verify = sys.argv[3] if len(sys.argv) > 3 else True
r = s.get(sys.argv[2], proxies={"http": sys.argv[1], "https": sys.argv[1]}, verify=verify,
          timeout=20)
sys.stdout.write("%d %s" % (r.status_code, r.text))
)";

// Small POSTs on one reused connection, direct to argv[2] and through proxy argv[1]; prints
// the two medians in ms. urllib3 sends a proxied request's head and body in two writes.
constexpr const char* requests_post_latency = R"(
import sys, time, statistics, requests
def median_ms(proxies):
    s = requests.Session()
    s.trust_env = False
    times = []
    for i in range(25):
        t = time.perf_counter()
        r = s.post(sys.argv[2], data=b'{"model":"m","n":1}', proxies=proxies, timeout=20)
        assert r.status_code == 200, r.status_code
        times.append(time.perf_counter() - t)
    return statistics.median(times[3:]) * 1000
direct = median_ms({})
proxied = median_ms({"http": sys.argv[1]})
sys.stdout.write("%.3f %.3f" % (direct, proxied))
)";

class clients_test : public proxy_test {
 protected:
  command_result python_get(const std::string& url, const std::string& ca = "") {
    std::vector<std::string> argv = {"/usr/bin/python3", "-c", requests_get, airlock().proxy_url(),
                                     url};
    if (!ca.empty()) {
      argv.push_back(ca);
    }
    return run_command(std::move(argv), tmp_.path(), "python-" + std::to_string(++runs_), 30s);
  }

  command_result git(std::vector<std::string> args, const std::string& name) {
    args.insert(args.begin(), {"/usr/bin/git", "-c", "user.name=airlock test", "-c",
                               "user.email=test@airlock.invalid", "-c", "init.defaultBranch=main"});
    return run_command(std::move(args), tmp_.path(), "git-" + name, 30s);
  }

  int runs_ = 0;
};

TEST_F(clients_test, PythonRequestsOverHttp) {
  nginx_upstream nginx(scratch("nginx"));
  write_file(nginx.www() / "hello", "hello requests\n");
  start_airlock();

  const auto r = python_get(nginx.url("/hello"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 hello requests\n");
}

// issue 19, failure 7: python-requests through airlock added ~44 ms to every small POST on
// a reused connection (its head and body in two writes, Nagle waiting on airlock's delayed
// ACK). The figure goes to make bench; here only the gross regression is caught: with the
// delayed ACK back, the proxied median is 40 ms above direct.
TEST_F(clients_test, PythonRequestsSmallPostAddsNoDelayedAckWait) {
  recording_server upstream;
  start_airlock();
  const auto r = run_command({"/usr/bin/python3", "-c", requests_post_latency,
                              airlock().proxy_url(), upstream.url("/v1/messages")},
                             tmp_.path(), "python-post-latency", 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double direct = 0;
  double proxied = 0;
  ASSERT_EQ(std::sscanf(r.out.c_str(), "%lf %lf", &direct, &proxied), 2) << r.out;
  EXPECT_LT(proxied, direct + 20.0)
      << "direct " << direct << " ms, through airlock " << proxied << " ms";
}

TEST_F(clients_test, PythonRequestsOverHttpsTunnel) {
  nginx_upstream nginx(scratch("nginx"), true);
  write_file(nginx.www() / "hello", "hello tls requests\n");
  const std::string target = "localhost:" + std::to_string(nginx.tls_port());
  airlock_settings settings;
  settings.resolve[target] = "127.0.0.1:" + std::to_string(nginx.tls_port());
  start_airlock(settings);

  const auto r = python_get("https://" + target + "/hello", nginx.ca_cert().string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 hello tls requests\n");
}

TEST_F(clients_test, GitCloneOverHttp) {
  nginx_upstream nginx(scratch("nginx"));
  // A repository with one commit, published for git's "dumb" HTTP protocol (static files).
  const auto work = scratch("work");
  ASSERT_EQ(git({"init", "-q", work.string()}, "init").exit_code, 0);
  write_file(work / "README", "cloned through airlock\n");
  ASSERT_EQ(git({"-C", work.string(), "add", "README"}, "add").exit_code, 0);
  const auto commit = git({"-C", work.string(), "commit", "-q", "-m", "first"}, "commit");
  ASSERT_EQ(commit.exit_code, 0) << commit.err;
  const auto published = nginx.www() / "repo.git";
  ASSERT_EQ(git({"clone", "-q", "--bare", work.string(), published.string()}, "bare").exit_code, 0);
  ASSERT_EQ(git({"-C", published.string(), "update-server-info"}, "info").exit_code, 0);
  start_airlock();

  const auto clone = scratch("clone");
  const auto r = git({"-c", "http.proxy=" + airlock().proxy_url(), "clone", "-q",
                      nginx.url("/repo.git"), clone.string()},
                     "clone");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(clone / "README"), "cloned through airlock\n");
}

}  // namespace
}  // namespace airlock::test

// Two workers share one secret store, one leaf cache, the metrics and the access log, while
// the admin thread rotates and then revokes the secret. Every request must carry exactly one
// whole pushed value (never a torn, stale-after-revoke or placeholder one), and once the
// revoke receipt is back nothing carries any. Under `make tsan` this is the data-race check
// of those shared parts.

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/integration/intercept_fixture.hpp"
#include "tests/support/recording_server.hpp"

namespace airlock::test {
namespace {

constexpr const char* admin_token = "tok-ADMIN-5e1b7c9a20f4d683";

class multi_worker_test : public intercept_test {
 protected:
  fetched admin(std::vector<std::string> args, const std::string& path) {
    args.insert(args.begin(), {"-H", std::string("Authorization: Bearer ") + admin_token});
    args.push_back("http://127.0.0.1:" + std::to_string(airlock().admin_port()) + path);
    return fetch_direct(std::move(args));
  }
};

std::string pushed_value(int i) {
  return "sk-ROTATING-" + std::to_string(1000 + i) + "-c0ffee";
}

TEST_F(multi_worker_test, SharedStoreRotationAndRevokeAcrossWorkers) {
  auto up = start_upstream();
  recording_server plain;
  write_file(scratch("admin-token"), std::string(admin_token) + "\n");
  airlock_settings settings;
  settings.workers = 2;
  settings.admin_token_file = scratch("admin-token").string();
  start_intercepting("  rot: { push: true, required: true }\n",
                     "  - { host: localhost, port: " + std::to_string(up->port()) +
                         ", headers: { Authorization: \"Bearer {{rot}}\" } }\n",
                     {}, settings);
  ASSERT_EQ(admin({"-X", "PUT", "--data-binary", pushed_value(0)}, "/v1/secrets/rot").status, 200);

  // Load: several curl processes (new connections land on either worker), each making
  // keep-alive requests through interception, plus plain forwards and metric scrapes.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> other{0};
  std::vector<std::thread> load;
  // A failed ASSERT below returns early: the load threads are stopped and joined either way.
  struct join_all {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~join_all() {
      stop = true;
      for (auto& th : threads) {
        if (th.joinable()) {
          th.join();
        }
      }
    }
  } joiner{stop, load};
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&] {
      while (!stop.load()) {
        std::vector<std::string> args{"-s",
                                      "-o",
                                      "/dev/null",
                                      "-w",
                                      "%{http_code}\n",
                                      "-H",
                                      "Authorization: Bearer placeholder"};
        for (int i = 0; i < 10; ++i) {
          args.push_back(https_url(*up, "/v1/x"));
        }
        const auto r = curl_via_ca(args);
        for (std::size_t at = 0; at + 3 <= r.out.size(); at += 4) {
          (r.out.compare(at, 3, "200") == 0 ? ok : other)++;
        }
      }
    });
  }
  load.emplace_back([&] {
    while (!stop.load()) {
      curl({"-s", "-o", "/dev/null", plain.url("/plain"), plain.url("/plain2")});
      run_curl(tmp_.path(),
               {"-s", "-o", "/dev/null",
                "http://127.0.0.1:" + std::to_string(airlock().metrics_port()) + "/metrics"});
    }
  });

  // Rotation from the admin thread while both workers read.
  int pushes = 1;
  for (; pushes < 40; ++pushes) {
    ASSERT_EQ(admin({"-X", "PUT", "--data-binary", pushed_value(pushes)}, "/v1/secrets/rot").status,
              200);
    std::this_thread::sleep_for(25ms);
  }
  const auto receipt = admin({"-X", "POST"}, "/v1/revoke");
  ASSERT_EQ(receipt.status, 200) << receipt.body;
  const std::size_t before_revoke_done = up->requests().size();
  std::this_thread::sleep_for(500ms);  // requests after the receipt are all refused
  stop = true;
  for (auto& th : load) {
    th.join();
  }
  load.clear();

  std::set<std::string> allowed;
  for (int i = 0; i < pushes; ++i) {
    allowed.insert("Bearer " + pushed_value(i));
  }
  const auto requests = up->requests();
  EXPECT_GT(requests.size(), 20u) << "too little load to mean anything";
  std::set<std::string> seen;
  for (const auto& req : requests) {
    const auto values = field_values(req, "authorization");
    ASSERT_EQ(values.size(), 1u) << req;
    EXPECT_EQ(allowed.count(values[0]), 1u) << "not a pushed value: " << values[0];
    seen.insert(values[0]);
  }
  EXPECT_GT(seen.size(), 1u) << "rotation was never observed";
  // Nothing new reached the upstream after the receipt: at most the one request each
  // load thread had in flight, its head built with the value pinned before the wipe.
  EXPECT_LE(requests.size(), before_revoke_done + 4);
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(other.load(), 0) << "no request was refused after revoke";
  EXPECT_GT(plain.requests().size(), 0u);
  for (int i = 0; i < pushes; ++i) {
    EXPECT_EQ(airlock_output().find(pushed_value(i)), std::string::npos);
  }
}

}  // namespace
}  // namespace airlock::test

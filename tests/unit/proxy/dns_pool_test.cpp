#include "proxy/flow/dns_pool.hpp"

#include <netdb.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace airlock::proxy {
namespace {

using namespace std::chrono_literals;
using result = dns_pool::result;

// A name service the test controls: every name answers 127.0.0.1 on the asked port, except
// "bad.test" (no such name) and stalled names, which block until released. Shared with the
// pool's detached threads, which may still be inside it when a test ends.
class fake_names {
 public:
  static dns_pool::resolver resolver_of(const std::shared_ptr<fake_names>& names) {
    return [names](const std::string& host, const std::string& port) {
      return names->resolve(host, port);
    };
  }

  void stall(const std::string& name) {
    const std::lock_guard<std::mutex> lock(mutex_);
    stalled_.insert(name);
  }
  void release() {
    const std::lock_guard<std::mutex> lock(mutex_);
    stalled_.clear();
    changed_.notify_all();
  }
  std::vector<std::string> asked() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return asked_;
  }
  std::size_t times_asked(const std::string& name) {
    const auto all = asked();
    return static_cast<std::size_t>(std::count(all.begin(), all.end(), name));
  }
  bool wait_until_asked(std::size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return asked_.size() >= n; });
  }

 private:
  result resolve(const std::string& host, const std::string& port) {
    std::unique_lock<std::mutex> lock(mutex_);
    asked_.push_back(host);
    changed_.notify_all();
    changed_.wait(lock, [&] { return stalled_.count(host) == 0; });
    if (host == "bad.test") {
      return {{}, EAI_NONAME};
    }
    return {{tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                           static_cast<std::uint16_t>(std::stoi(port)))},
            0};
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::string> stalled_;
  std::vector<std::string> asked_;
};

class dns_pool_test : public testing::Test {
 protected:
  std::shared_ptr<dns_pool::lookup> ask(dns_pool& pool, const std::string& host,
                                        std::uint16_t port = 443) {
    auto l = std::make_shared<dns_pool::lookup>(io_.get_executor());
    pool.start(l, host, port);
    return l;
  }

  // Asks for busy.test, which stalls, and returns once a thread is inside that lookup: with
  // one thread, everything asked after it queues.
  std::shared_ptr<dns_pool::lookup> hold_a_thread(dns_pool& pool) {
    names_->stall("busy.test");
    auto l = ask(pool, "busy.test");
    EXPECT_TRUE(names_->wait_until_asked(1));
    return l;
  }

  // Runs posted answers until pred holds, for at most `max`.
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds max = 5s) {
    const auto until = std::chrono::steady_clock::now() + max;
    while (std::chrono::steady_clock::now() < until) {
      io_.poll();
      io_.restart();
      if (pred()) {
        return true;
      }
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
  bool answered(const std::shared_ptr<dns_pool::lookup>& l, std::chrono::milliseconds max = 5s) {
    return run_until([&] { return l->answer.has_value(); }, max);
  }

  std::shared_ptr<fake_names> names_ = std::make_shared<fake_names>();
  asio::io_context io_;
};

TEST_F(dns_pool_test, EveryoneAskingForANameSharesOneLookup) {
  dns_pool pool(2, 2, 64, fake_names::resolver_of(names_));
  names_->stall("a.test");
  std::vector<std::shared_ptr<dns_pool::lookup>> asks;
  for (int i = 0; i < 5; ++i) {
    asks.push_back(ask(pool, "a.test"));
  }
  const auto other_port = ask(pool, "a.test", 80);
  ASSERT_TRUE(names_->wait_until_asked(2));
  names_->release();
  for (const auto& l : asks) {
    ASSERT_TRUE(answered(l));
    EXPECT_EQ(l->answer->error, 0);
    ASSERT_EQ(l->answer->endpoints.size(), 1u);
    EXPECT_EQ(l->answer->endpoints[0].port(), 443);
  }
  // A port is part of what is asked: the other port got its own lookup and its own answer.
  ASSERT_TRUE(answered(other_port));
  ASSERT_EQ(other_port->answer->endpoints.size(), 1u);
  EXPECT_EQ(other_port->answer->endpoints[0].port(), 80);
  EXPECT_EQ(names_->times_asked("a.test"), 2u);
}

// The failure this guards against: an agent retrying a host whose name server is down. With
// a lookup per ask, two retries would hold both threads and good.test would wait behind
// them until its own deadline.
TEST_F(dns_pool_test, AStalledNameHoldsOneThreadHoweverOftenItIsAsked) {
  dns_pool pool(2, 2, 256, fake_names::resolver_of(names_));
  names_->stall("down.test");
  std::vector<std::shared_ptr<dns_pool::lookup>> retries;
  for (int i = 0; i < 50; ++i) {
    retries.push_back(ask(pool, "down.test"));
  }
  ASSERT_TRUE(names_->wait_until_asked(1));
  const auto good = ask(pool, "good.test");
  ASSERT_TRUE(answered(good, 2s)) << "another name waited behind the retries of a stalled one";
  EXPECT_EQ(good->answer->error, 0);
  EXPECT_EQ(names_->times_asked("down.test"), 1u);
  EXPECT_FALSE(retries.front()->answer.has_value());
  names_->release();
  for (const auto& l : retries) {
    ASSERT_TRUE(answered(l));
  }
  EXPECT_EQ(names_->times_asked("down.test"), 1u);
}

// Distinct stalled names each hold a thread: while all are busy the pool grows, up to its
// cap, so a few dead names do not stall every new host.
TEST_F(dns_pool_test, ThreadsAreAddedWhileAllAreBusyUpToTheCap) {
  dns_pool pool(1, 4, 64, fake_names::resolver_of(names_));
  std::vector<std::shared_ptr<dns_pool::lookup>> stalled;
  for (const char* name : {"d1.test", "d2.test", "d3.test"}) {
    names_->stall(name);
    stalled.push_back(ask(pool, name));
  }
  ASSERT_TRUE(names_->wait_until_asked(3)) << "three stalled names should run side by side";
  const auto good = ask(pool, "good.test");
  ASSERT_TRUE(answered(good, 2s)) << "a fourth thread should have taken good.test";
  // At the cap: with four stalled names, the next one waits for a thread.
  names_->stall("d4.test");
  stalled.push_back(ask(pool, "d4.test"));
  ASSERT_TRUE(names_->wait_until_asked(5));
  const auto late = ask(pool, "late.test");
  EXPECT_FALSE(answered(late, 200ms));
  names_->release();
  ASSERT_TRUE(answered(late));
  for (const auto& l : stalled) {
    ASSERT_TRUE(answered(l));
  }
}

TEST_F(dns_pool_test, ALookupEveryoneGaveUpOnIsNeverMade) {
  dns_pool pool(1, 1, 64, fake_names::resolver_of(names_));
  const auto busy = hold_a_thread(pool);
  // Queued behind busy.test; both askers give up (their sessions' deadlines passed).
  ask(pool, "gone.test");
  ask(pool, "gone.test");
  const auto kept = ask(pool, "kept.test");
  names_->release();
  ASSERT_TRUE(answered(busy));
  ASSERT_TRUE(answered(kept));
  EXPECT_EQ(names_->times_asked("gone.test"), 0u);
  EXPECT_EQ(names_->asked(), (std::vector<std::string>{"busy.test", "kept.test"}));
}

TEST_F(dns_pool_test, AsksBeyondTheLimitAreRefusedAtOnceAndGivenUpAsksMakeRoom) {
  dns_pool pool(1, 1, 3, fake_names::resolver_of(names_));
  const auto busy = hold_a_thread(pool);
  auto second = ask(pool, "x.test");
  const auto third = ask(pool, "x.test");
  const auto refused = ask(pool, "y.test");
  ASSERT_TRUE(answered(refused, 1s)) << "an ask over the limit must be answered at once";
  EXPECT_EQ(refused->answer->error, EAI_AGAIN);
  EXPECT_FALSE(busy->answer.has_value());
  // One asker gives up: its place is free again, though the pool was never told.
  second.reset();
  const auto room = ask(pool, "z.test");
  names_->release();
  ASSERT_TRUE(answered(room));
  EXPECT_EQ(room->answer->error, 0);
  ASSERT_TRUE(answered(third));
  EXPECT_EQ(third->answer->error, 0);
  EXPECT_EQ(names_->times_asked("y.test"), 0u);
}

TEST_F(dns_pool_test, AFailedLookupIsTheAnswerForEveryAsker) {
  dns_pool pool(1, 1, 64, fake_names::resolver_of(names_));
  names_->stall("bad.test");
  const auto one = ask(pool, "bad.test");
  const auto two = ask(pool, "bad.test");
  ASSERT_TRUE(names_->wait_until_asked(1));
  names_->release();
  ASSERT_TRUE(answered(one));
  ASSERT_TRUE(answered(two));
  EXPECT_EQ(one->answer->error, EAI_NONAME);
  EXPECT_EQ(two->answer->error, EAI_NONAME);
  EXPECT_TRUE(two->answer->endpoints.empty());
}

// Answers are not kept: a name asked again after its answer is looked up again, so a
// record that changed (or was rebound to a private address) is seen as it is now.
TEST_F(dns_pool_test, ANameAskedAfterItsAnswerIsLookedUpAgain) {
  dns_pool pool(1, 1, 64, fake_names::resolver_of(names_));
  ASSERT_TRUE(answered(ask(pool, "a.test")));
  ASSERT_TRUE(answered(ask(pool, "a.test")));
  EXPECT_EQ(names_->times_asked("a.test"), 2u);
}

TEST_F(dns_pool_test, AfterShutdownNobodyIsAnswered) {
  dns_pool pool(1, 1, 64, fake_names::resolver_of(names_));
  const auto running = hold_a_thread(pool);
  const auto queued = ask(pool, "queued.test");
  pool.shutdown();
  const auto late = ask(pool, "late.test");
  names_->release();
  EXPECT_FALSE(run_until([&] { return running->answer || queued->answer || late->answer; }, 300ms));
  EXPECT_EQ(names_->times_asked("queued.test"), 0u);
}

}  // namespace
}  // namespace airlock::proxy

// The head budget (proxy.max_pending_head_bytes) and the buffers that draw on it: a head
// that fits a connection's first buffer never asks, a larger one reserves the excess or is
// refused, and every reservation comes back.

#include "proxy/flow/head_budget.hpp"

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/flow/byte_buffer.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/observe/metrics.hpp"

namespace airlock::proxy {
namespace {

constexpr std::size_t kib = 1024;

// Writes n bytes of 'x' into b the way a read would; returns how many fitted.
std::size_t fill(byte_buffer& b, std::size_t n, std::size_t want) {
  std::size_t done = 0;
  while (done < n) {
    const auto room = b.prepare(want);
    if (room.size() == 0) {
      break;
    }
    const std::size_t take = std::min(room.size(), n - done);
    std::memset(room.data(), 'x', take);
    b.commit(take);
    done += take;
  }
  return done;
}

TEST(head_budget, reserves_up_to_the_limit_and_never_past_it) {
  head_budget budget(100);
  EXPECT_TRUE(budget.try_reserve(60));
  EXPECT_FALSE(budget.try_reserve(41));
  EXPECT_EQ(budget.used(), 60u);
  EXPECT_TRUE(budget.try_reserve(40));
  EXPECT_EQ(budget.used(), 100u);
  EXPECT_FALSE(budget.try_reserve(1));
  budget.release(100);
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_TRUE(budget.try_reserve(0));
}

TEST(head_budget, a_zero_budget_refuses_every_growth) {
  head_budget budget(0);
  EXPECT_FALSE(budget.try_reserve(1));
  EXPECT_TRUE(budget.try_reserve(0));
}

TEST(head_budget, threads_racing_never_overshoot_and_account_exactly) {
  constexpr std::size_t limit = 64 * kib;
  head_budget budget(limit);
  std::atomic<std::size_t> peak{0};
  std::atomic<bool> over{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (budget.try_reserve(3 * kib)) {
          const std::size_t now = budget.used();
          over = over || now > limit;
          std::size_t seen = peak.load();
          while (now > seen && !peak.compare_exchange_weak(seen, now)) {
          }
          budget.release(3 * kib);
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_FALSE(over.load());
  EXPECT_LE(peak.load(), limit);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(byte_buffer_budget, a_head_within_the_first_buffer_never_asks) {
  head_budget budget(0);  // exhausted: any request would be refused
  byte_buffer b(16 * kib, 80 * kib, &budget);
  EXPECT_EQ(fill(b, 16 * kib, 1), 16 * kib);
  EXPECT_EQ(b.capacity(), 16 * kib);
  EXPECT_FALSE(b.over_budget());
  EXPECT_EQ(b.reserved(), 0u);
}

TEST(byte_buffer_budget, room_left_is_used_before_growing) {
  head_budget budget(1024 * kib);
  byte_buffer b(16 * kib, 80 * kib, &budget);
  fill(b, 100, 1);
  // A half-sent head (one read so far) does not grow the buffer for the next read.
  const auto room = b.prepare(1);
  EXPECT_EQ(room.size(), 16 * kib - 100);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(byte_buffer_budget, growth_reserves_the_excess_and_shrink_returns_it) {
  head_budget budget(1024 * kib);
  byte_buffer b(16 * kib, 80 * kib, &budget);
  EXPECT_EQ(fill(b, 60 * kib, 1), 60 * kib);
  EXPECT_EQ(b.capacity(), 64 * kib);
  EXPECT_EQ(b.reserved(), 48 * kib);
  EXPECT_EQ(budget.used(), 48 * kib);

  // The head is consumed; what follows it (a body's first bytes) survives the shrink.
  b.consume(60 * kib - 10);
  b.shrink();
  EXPECT_EQ(b.capacity(), 16 * kib);
  EXPECT_EQ(b.size(), 10u);
  EXPECT_EQ(budget.used(), 0u);

  fill(b, 70 * kib, 16 * kib);
  EXPECT_EQ(b.capacity(), 80 * kib);  // the ceiling, not the next power of two
  EXPECT_EQ(budget.used(), 64 * kib);
  b.consume(b.size());
  b.release_if_empty();
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(byte_buffer_budget, shrink_keeps_a_large_remainder) {
  head_budget budget(1024 * kib);
  byte_buffer b(16 * kib, 80 * kib, &budget);
  fill(b, 40 * kib, 1);
  b.consume(10 * kib);
  b.shrink();  // 30 KiB left does not fit the first buffer
  EXPECT_EQ(b.capacity(), 64 * kib);
  EXPECT_EQ(b.size(), 30 * kib);
  EXPECT_EQ(budget.used(), 48 * kib);
}

TEST(byte_buffer_budget, refused_growth_leaves_the_buffer_and_says_why) {
  head_budget budget(20 * kib);
  byte_buffer first(16 * kib, 80 * kib, &budget);
  byte_buffer second(16 * kib, 80 * kib, &budget);
  EXPECT_EQ(fill(first, 20 * kib, 1), 20 * kib);  // 32 KiB: 16 KiB reserved
  EXPECT_EQ(budget.used(), 16 * kib);

  // The attacker's second large head finds 4 KiB left: not enough to double.
  EXPECT_EQ(fill(second, 40 * kib, 1), 16 * kib);
  EXPECT_TRUE(second.over_budget());
  EXPECT_EQ(second.capacity(), 16 * kib);
  EXPECT_EQ(second.size(), 16 * kib);
  EXPECT_EQ(budget.used(), 16 * kib);

  // A later prepare that needs no growth clears the flag.
  second.consume(second.size());
  EXPECT_GT(second.prepare(1).size(), 0u);
  EXPECT_FALSE(second.over_budget());
}

TEST(byte_buffer_budget, destruction_returns_the_reservation) {
  head_budget budget(1024 * kib);
  {
    byte_buffer b(16 * kib, 80 * kib, &budget);
    fill(b, 50 * kib, 1);
    EXPECT_GT(budget.used(), 0u);
  }
  EXPECT_EQ(budget.used(), 0u);
}

TEST(byte_buffer_budget, a_buffer_without_budget_grows_to_its_ceiling) {
  byte_buffer b(16 * kib, 80 * kib);
  EXPECT_EQ(fill(b, 100 * kib, 1), 80 * kib);
  EXPECT_FALSE(b.over_budget());
  EXPECT_EQ(b.reserved(), 0u);
}

TEST(head_hold, follows_what_its_holder_needs_and_gives_all_back) {
  head_budget budget(100);
  {
    head_hold copies(budget);
    EXPECT_TRUE(copies.cover(0));  // the common case: nothing asked, nothing held
    EXPECT_EQ(budget.used(), 0u);
    EXPECT_TRUE(copies.cover(60));
    EXPECT_TRUE(copies.cover(80));  // grows by the difference
    EXPECT_EQ(budget.used(), 80u);
    head_hold other(budget);
    EXPECT_FALSE(other.cover(30));  // only 20 left
    EXPECT_EQ(other.held(), 0u);
    EXPECT_FALSE(copies.cover(101));
    EXPECT_EQ(copies.held(), 80u);  // a refused cover keeps what was held
    EXPECT_TRUE(copies.cover(10));
    EXPECT_EQ(budget.used(), 10u);
    EXPECT_TRUE(other.cover(90));
  }
  EXPECT_EQ(budget.used(), 0u);
}

TEST(head_budget_refusal, is_a_503_with_a_reason_the_agent_can_read) {
  const refusal r = head_budget_refusal(32 * 1024 * kib, false);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(classify(r), refusal_kind::head_budget);
  const std::string text = make_error_response(r, true);
  EXPECT_EQ(text.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << text;
  EXPECT_NE(text.find("X-Airlock-Reason: head_budget_exhausted\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Proxy-Status: airlock; error=proxy_internal_error; details=\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("proxy.max_pending_head_bytes (33554432 bytes)"), std::string::npos) << text;
  EXPECT_NE(text.find("Connection: close\r\n"), std::string::npos) << text;
  EXPECT_NE(head_budget_refusal(1, true).detail.find("response"), std::string::npos);
}

}  // namespace
}  // namespace airlock::proxy

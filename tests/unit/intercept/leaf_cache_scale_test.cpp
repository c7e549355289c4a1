// The leaf cache under load: many threads, many names, and the cost of one mint. Figures are
// printed (and recorded as test properties) but never asserted on time, so a slow or
// instrumented build cannot make these flaky.

#include <malloc.h>

#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/tls/leaf_cache.hpp"
#include "tests/support/sanitizers.hpp"
#include "tests/unit/intercept/pki_helpers.hpp"

namespace airlock::proxy::intercept {
namespace {

constexpr bool instrumented = test::sanitized_build;

// "<prefix><i>.example.com", appended piecewise: GCC 12 at -O3 raises a false -Wrestrict on
// `"literal" + std::string&&`.
std::string numbered_host(const char* prefix, int i) {
  std::string out = prefix;
  out += std::to_string(i);
  out += ".example.com";
  return out;
}

struct memory_sample {
  long rss_kib = 0;
  long heap_kib = 0;  // bytes the allocator has handed out and not had back
};

memory_sample sample_memory() {
  const struct mallinfo2 info = ::mallinfo2();
  return {test_support::rss_kib(), static_cast<long>((info.uordblks + info.hblkhd) / 1024)};
}

TEST(leaf_cache_threads, concurrent_lookups_share_one_context_per_host) {
  const auto ca = workspace_ca::generate();
  leaf_cache cache(ca, 1000);
  constexpr int threads = 8;
  constexpr int hosts = 40;
  constexpr int rounds = 5;
  std::vector<std::map<int, SSL_CTX*>> seen(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        for (int i = 0; i < hosts; ++i) {
          const int h = (i * 7 + t * 13) % hosts;  // each thread walks the hosts differently
          const auto ctx = cache.server_context(numbered_host("h", h));
          auto [it, fresh] = seen[t].emplace(h, ctx.get());
          if (!fresh && it->second != ctx.get()) {
            it->second = nullptr;  // mark: the cache handed this thread two contexts
          }
        }
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  for (int h = 0; h < hosts; ++h) {
    SSL_CTX* first = seen[0].at(h);
    ASSERT_NE(first, nullptr);
    for (int t = 1; t < threads; ++t) {
      EXPECT_EQ(seen[t].at(h), first) << "host " << h << " thread " << t;
    }
  }
  EXPECT_EQ(cache.size(), static_cast<std::size_t>(hosts));
  EXPECT_EQ(cache.hits() + cache.misses(), static_cast<std::uint64_t>(threads * hosts * rounds));
  EXPECT_GE(cache.misses(), static_cast<std::uint64_t>(hosts));
}

TEST(leaf_cache_scale, mean_mint_time) {
  const auto ca = workspace_ca::generate();
  constexpr int mints = 1000;
  leaf_cache cache(ca, mints);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < mints; ++i) {
    ASSERT_TRUE(cache.server_context(numbered_host("mint-", i)));
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const double mean_us = std::chrono::duration<double, std::micro>(elapsed).count() / mints;

  const auto hit_start = std::chrono::steady_clock::now();
  for (int i = 0; i < mints; ++i) {
    ASSERT_TRUE(cache.server_context(numbered_host("mint-", i)));
  }
  const double hit_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - hit_start)
          .count() /
      mints;
  EXPECT_EQ(cache.misses(), static_cast<std::uint64_t>(mints));
  EXPECT_EQ(cache.hits(), static_cast<std::uint64_t>(mints));
  std::cout << "[ figures  ] mean mint (leaf + SSL_CTX) over " << mints << ": " << mean_us
            << " us; mean hit: " << hit_us << " us" << (instrumented ? " (sanitized build)" : "")
            << "\n";
  ::testing::Test::RecordProperty("mean_mint_us", std::to_string(mean_us));
}

TEST(leaf_cache_scale, ten_thousand_names_stay_within_capacity_and_memory) {
  const auto ca = workspace_ca::generate();
  constexpr std::size_t capacity = 1000;
  constexpr int names = 10000;
  leaf_cache cache(ca, capacity);
  const auto host = [](int i) { return numbered_host("host-", i); };
  const memory_sample start = sample_memory();
  memory_sample full{};
  for (int i = 0; i < names; ++i) {
    ASSERT_TRUE(cache.server_context(host(i)));
    ASSERT_LE(cache.size(), capacity);
    if (i + 1 == static_cast<int>(capacity)) {
      full = sample_memory();
    }
  }
  const memory_sample end = sample_memory();
  EXPECT_EQ(cache.size(), capacity);
  EXPECT_EQ(cache.misses(), static_cast<std::uint64_t>(names));
  EXPECT_EQ(cache.evictions(), static_cast<std::uint64_t>(names) - capacity);
  // The oldest names are gone and come back as fresh mints; the newest are still there.
  const auto hits = cache.hits();
  ASSERT_TRUE(cache.server_context(host(names - 1)));
  EXPECT_EQ(cache.hits(), hits + 1);
  ASSERT_TRUE(cache.server_context(host(0)));
  EXPECT_EQ(cache.misses(), static_cast<std::uint64_t>(names) + 1);

  const long fill_heap = full.heap_kib - start.heap_kib;
  const long churn_heap = end.heap_kib - full.heap_kib;
  std::cout << "[ figures  ] " << names << " names, capacity " << capacity << ": heap in use +"
            << fill_heap << " KiB after the first " << capacity << " ("
            << fill_heap * 1024 / static_cast<long>(capacity) << " B/entry), then +" << churn_heap
            << " KiB over " << names - static_cast<int>(capacity) << " evicting mints; RSS +"
            << full.rss_kib - start.rss_kib << " KiB, then +" << end.rss_kib - full.rss_kib
            << " KiB (total +" << end.rss_kib - start.rss_kib << " KiB)"
            << (instrumented ? " (sanitized build: figures not checked)" : "") << "\n";
  ::testing::Test::RecordProperty("heap_per_entry_bytes",
                                  std::to_string(fill_heap * 1024 / static_cast<long>(capacity)));
  ::testing::Test::RecordProperty("rss_growth_kib", std::to_string(end.rss_kib - start.rss_kib));
  if (!instrumented) {
    // Once full, each mint replaces one entry: the heap must stay flat. Leaking even one
    // context per hundred evictions would add ~90 x 16 KiB, more than a twentieth of the fill.
    EXPECT_GT(fill_heap, 0);
    EXPECT_LT(churn_heap, fill_heap / 20) << "heap kept growing after the cache was full";
    // RSS includes allocator slack, so only a loose bound: unbounded growth would be ~10x fill.
    EXPECT_LT(end.rss_kib - start.rss_kib, 3 * fill_heap + 16 * 1024);
  }
}

}  // namespace
}  // namespace airlock::proxy::intercept

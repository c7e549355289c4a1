// The control listeners' connection cap: a flood of idle connections evicts the oldest
// idle one instead of locking real callers out; busy connections are never evicted.

#include "proxy/admin/connection_slots.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace airlock::proxy::control {
namespace {

TEST(connection_slots, a_full_listener_closes_its_oldest_idle_connection) {
  connection_slots slots(3);
  std::vector<int> closed;
  std::vector<connection_slots::handle> handles;
  for (int i = 0; i < 3; ++i) {
    auto h = slots.admit([&closed, i] { closed.push_back(i); });
    ASSERT_TRUE(h);
    handles.push_back(*h);
  }
  EXPECT_EQ(slots.size(), 3u);
  handles[0]->busy = true;  // answering a request: not to be cut off
  const auto newcomer = slots.admit([] {});
  ASSERT_TRUE(newcomer);
  EXPECT_EQ(closed, std::vector<int>{1});
  EXPECT_EQ(slots.size(), 3u);  // the evicted one no longer counts
  EXPECT_EQ(slots.evicted(), 1u);
  slots.release(handles[1]);  // its coroutine ends
  EXPECT_EQ(slots.size(), 3u);
}

TEST(connection_slots, every_connection_busy_refuses_the_newcomer) {
  connection_slots slots(2);
  auto a = slots.admit([] {});
  auto b = slots.admit([] {});
  ASSERT_TRUE(a && b);
  (*a)->busy = true;
  (*b)->busy = true;
  EXPECT_FALSE(slots.admit([] {}));
  (*b)->busy = false;
  EXPECT_TRUE(slots.admit([] {}));
}

TEST(connection_slots, a_flood_never_holds_more_than_the_cap) {
  connection_slots slots(4);
  int closes = 0;
  std::vector<connection_slots::handle> live;
  for (int i = 0; i < 1000; ++i) {
    auto h = slots.admit([&closes] { ++closes; });
    ASSERT_TRUE(h);
    live.push_back(*h);
    ASSERT_LE(slots.size(), 4u);
    // Evicted connections end on the next turn of the loop.
    for (auto it = live.begin(); it != live.end();) {
      if ((*it)->evicted) {
        slots.release(*it);
        it = live.erase(it);
      } else {
        ++it;
      }
    }
  }
  EXPECT_EQ(closes, 996);
}

TEST(connection_slots, evicted_before_it_started_is_not_closed_twice) {
  connection_slots slots(1);
  auto first = slots.admit(nullptr);  // its coroutine has not set a close yet
  ASSERT_TRUE(first);
  auto second = slots.admit([] {});
  ASSERT_TRUE(second);
  EXPECT_TRUE((*first)->evicted);
}

}  // namespace
}  // namespace airlock::proxy::control

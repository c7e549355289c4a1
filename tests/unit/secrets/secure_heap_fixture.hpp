#pragma once
// Tests that allocate secrets need the arena; without it OpenSSL quietly uses the ordinary heap
// and the assertions about secure allocation would test nothing.

#include <gtest/gtest.h>

#include "secrets/secure_memory.hpp"

namespace airlock::secrets::test {

class with_secure_heap : public ::testing::Test {
 protected:
  // Creates the arena once per process (later calls are no-ops); fails the test if there is none.
  void SetUp() override {
    const secure_heap_status status = init_secure_heap();
    ASSERT_NE(status.protection, secure_heap_protection::unavailable) << status.detail;
  }
};

}  // namespace airlock::secrets::test

#include "secrets/secret_value.hpp"

#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "secrets/secure_memory.hpp"
#include "secure_heap_fixture.hpp"

namespace airlock::secrets {
namespace {

using namespace std::string_view_literals;

// A copy would be a second, untracked place the bytes live; a conversion would let them slip
// into a std::string or a log call unnoticed.
static_assert(!std::is_copy_constructible_v<secret_value>);
static_assert(!std::is_copy_assignable_v<secret_value>);
static_assert(std::is_nothrow_move_constructible_v<secret_value>);
static_assert(std::is_nothrow_move_assignable_v<secret_value>);
static_assert(!std::is_convertible_v<secret_value, std::string_view>);
static_assert(!std::is_convertible_v<secret_value, std::string>);

// Larger than the whole default arena, so no allocation can satisfy it.
constexpr std::size_t oversize = 2 * default_secure_heap_bytes;

bool all_zero(const char* data, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] != 0) {
      return false;
    }
  }
  return true;
}

class secret_value_test : public test::with_secure_heap {};

TEST_F(secret_value_test, copies_value_into_the_secure_arena) {
  const std::string source = "sk-ant-api03-abcdef";
  const secret_value value("anthropic", source);

  EXPECT_EQ(value.name(), "anthropic");
  EXPECT_EQ(value.reveal(), source);
  EXPECT_EQ(value.size(), source.size());
  EXPECT_FALSE(value.empty());
  EXPECT_TRUE(value.in_secure_heap());
  EXPECT_EQ(CRYPTO_secure_allocated(value.reveal().data()), 1);
  EXPECT_NE(value.reveal().data(), source.data());
}

TEST_F(secret_value_test, keeps_embedded_nul_bytes) {
  const std::string_view raw = "ab\0cd\0"sv;
  const secret_value value("binary", raw);

  EXPECT_EQ(value.size(), 6U);
  EXPECT_EQ(value.reveal(), raw);
}

TEST_F(secret_value_test, empty_value_takes_no_arena_memory) {
  const std::size_t before = secure_heap_used();
  const auto value = secret_value::try_copy("unset", "");

  ASSERT_TRUE(value.has_value());
  EXPECT_TRUE(value->empty());
  EXPECT_EQ(value->reveal(), ""sv);
  EXPECT_FALSE(value->in_secure_heap());
  EXPECT_EQ(secure_heap_used(), before);
}

TEST_F(secret_value_test, arena_usage_grows_while_alive_and_returns_after) {
  const std::size_t before = secure_heap_used();
  {
    const secret_value value("github", std::string(100, 'g'));
    EXPECT_GE(secure_heap_used(), before + 100);
  }
  EXPECT_EQ(secure_heap_used(), before);
}

TEST_F(secret_value_test, wipe_frees_now_keeps_name_and_is_idempotent) {
  const std::size_t before = secure_heap_used();
  secret_value value("openai", "sk-proj-0123456789");
  ASSERT_GT(secure_heap_used(), before);

  value.wipe();
  EXPECT_EQ(secure_heap_used(), before);
  EXPECT_EQ(value.size(), 0U);
  EXPECT_TRUE(value.empty());
  EXPECT_EQ(value.reveal(), ""sv);
  EXPECT_FALSE(value.in_secure_heap());
  EXPECT_EQ(value.name(), "openai");

  value.wipe();
  EXPECT_EQ(secure_heap_used(), before);
}

// The bytes must not survive in the arena after a wipe, where the next allocation (ours or
// OpenSSL's) would receive them. Reading them back through a fresh allocation of the same block
// checks that without touching freed memory.
TEST_F(secret_value_test, wiped_block_reads_back_as_zero) {
  constexpr std::size_t size = 64;
  std::uintptr_t old_address = 0;
  {
    secret_value value("github", std::string(size, 'S'));
    old_address = reinterpret_cast<std::uintptr_t>(value.reveal().data());
    value.wipe();
  }
  auto* block = static_cast<char*>(OPENSSL_secure_malloc(size));
  ASSERT_NE(block, nullptr);
  const bool same_block = reinterpret_cast<std::uintptr_t>(block) == old_address;
  const bool zero = all_zero(block, size);
  OPENSSL_secure_free(block);
  if (!same_block) {
    GTEST_SKIP() << "allocator handed out a different block; nothing to inspect";
  }
  EXPECT_TRUE(zero);
}

TEST_F(secret_value_test, moved_from_value_is_empty_and_unnamed) {
  secret_value source("anthropic", "sk-ant-xyz");
  const char* bytes = source.reveal().data();

  const secret_value target(std::move(source));

  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(source.reveal(), ""sv);
  EXPECT_EQ(source.name(), "");
  EXPECT_EQ(target.reveal(), "sk-ant-xyz");
  EXPECT_EQ(target.name(), "anthropic");
  // Ownership moved; the bytes were not copied anywhere on the way.
  EXPECT_EQ(target.reveal().data(), bytes);
}

TEST_F(secret_value_test, move_assignment_wipes_the_previous_value) {
  const std::size_t before = secure_heap_used();
  secret_value target("old", std::string(200, 'o'));
  secret_value source("new", std::string(20, 'n'));
  const std::size_t source_block =
      CRYPTO_secure_actual_size(const_cast<char*>(source.reveal().data()));

  target = std::move(source);

  EXPECT_EQ(secure_heap_used(), before + source_block);
  EXPECT_EQ(target.name(), "new");
  EXPECT_EQ(target.reveal(), std::string(20, 'n'));
  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move)
}

TEST_F(secret_value_test, self_move_assignment_keeps_the_value) {
  secret_value value("github", "ghp_token");
  secret_value& alias = value;

  value = std::move(alias);

  EXPECT_EQ(value.reveal(), "ghp_token");
  EXPECT_EQ(value.name(), "github");
}

TEST_F(secret_value_test, adopt_span_cleanses_the_source) {
  char buffer[] = "ghp_0123456789abcdef";
  const std::size_t length = std::strlen(buffer);

  const auto value = secret_value::adopt("github", std::span<char>(buffer, length));

  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->reveal(), "ghp_0123456789abcdef");
  EXPECT_TRUE(value->in_secure_heap());
  EXPECT_TRUE(all_zero(buffer, length));
}

TEST_F(secret_value_test, adopt_string_cleanses_and_clears_it) {
  std::string body = "sk-live-request-body";
  // Read the buffer while it still belongs to the string; clear() keeps the allocation.
  const char* storage = body.data();
  const std::size_t length = body.size();

  const auto value = secret_value::adopt("openai", body);

  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->reveal(), "sk-live-request-body");
  EXPECT_TRUE(body.empty());
  ASSERT_EQ(body.data(), storage);
  // clear() wrote the terminator; everything after it must have been cleansed.
  EXPECT_TRUE(all_zero(storage + 1, length - 1));
}

TEST_F(secret_value_test, adopt_cleanses_the_source_even_when_the_arena_is_full) {
  std::vector<char> huge(oversize, 'x');

  const auto value = secret_value::adopt("huge", std::span<char>(huge));

  EXPECT_FALSE(value.has_value());
  EXPECT_TRUE(all_zero(huge.data(), huge.size()));
}

TEST_F(secret_value_test, try_copy_reports_exhaustion_and_leaves_no_openssl_error) {
  ERR_clear_error();
  const std::size_t before = secure_heap_used();

  const auto value = secret_value::try_copy("huge", std::string(oversize, 'x'));

  EXPECT_FALSE(value.has_value());
  EXPECT_EQ(ERR_peek_error(), 0UL);
  EXPECT_EQ(secure_heap_used(), before);
}

TEST_F(secret_value_test, constructor_throws_bad_alloc_when_the_arena_is_full) {
  const std::string huge(oversize, 'x');
  EXPECT_THROW(secret_value("huge", huge), std::bad_alloc);
}

TEST_F(secret_value_test, equals_constant_time_compares_bytes_and_length) {
  const secret_value token("admin", "s3cr3t-admin-token");

  EXPECT_TRUE(token.equals_constant_time("s3cr3t-admin-token"));
  EXPECT_FALSE(token.equals_constant_time("s3cr3t-admin-tokeN"));
  EXPECT_FALSE(token.equals_constant_time("X3cr3t-admin-token"));
  EXPECT_FALSE(token.equals_constant_time("s3cr3t-admin-toke"));
  EXPECT_FALSE(token.equals_constant_time("s3cr3t-admin-token2"));
  EXPECT_FALSE(token.equals_constant_time(""));

  const secret_value empty;
  EXPECT_TRUE(empty.equals_constant_time(""));
  EXPECT_FALSE(empty.equals_constant_time("a"));
}

}  // namespace
}  // namespace airlock::secrets

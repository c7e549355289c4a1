// What a client may make a server handshake hold: the ClientHello's announced length and
// the bytes read before the handshake ends.

#include "proxy/tls/handshake_limit.hpp"

#include <string>

#include <gtest/gtest.h>

namespace airlock::proxy {
namespace {

// Record header and handshake header of a ClientHello announcing `announced` bytes in a
// first record of `record` bytes.
std::string hello_start(std::size_t announced, std::size_t record = 512, char type = '\x01',
                        char content = '\x16') {
  return {content,
          '\x03',
          '\x01',
          static_cast<char>(record >> 8),
          static_cast<char>(record & 0xff),
          type,
          static_cast<char>(announced >> 16),
          static_cast<char>((announced >> 8) & 0xff),
          static_cast<char>(announced & 0xff)};
}

std::array<unsigned char, 9> first_of(const std::string& s) {
  std::array<unsigned char, 9> a{};
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<unsigned char>(s[i]);
  }
  return a;
}

TEST(acceptable_client_hello_start, a_real_sized_client_hello_passes) {
  EXPECT_TRUE(acceptable_client_hello_start(first_of(hello_start(1800, 1804)), 32 * 1024));
  EXPECT_TRUE(acceptable_client_hello_start(first_of(hello_start(32 * 1024, 16384)), 32 * 1024));
}

TEST(acceptable_client_hello_start, what_would_make_openssl_buffer_more_is_refused) {
  const std::size_t max = 32 * 1024;
  EXPECT_FALSE(acceptable_client_hello_start(first_of(hello_start(max + 1)), max));
  EXPECT_FALSE(acceptable_client_hello_start(first_of(hello_start(131396)), max));
  // A first record too short to hold the message header: the length read would be another's.
  EXPECT_FALSE(acceptable_client_hello_start(first_of(hello_start(100, 3)), max));
  EXPECT_FALSE(acceptable_client_hello_start(first_of(hello_start(100, 512, '\x02')), max));
  EXPECT_FALSE(acceptable_client_hello_start(first_of(hello_start(100, 512, '\x01', '\x17')), max));
}

TEST(handshake_limit, checks_the_start_however_it_is_split_and_caps_the_total) {
  handshake_limit limit;
  limit.start();
  const std::string good = hello_start(2000);
  EXPECT_TRUE(limit.take(good.data(), 4));
  EXPECT_TRUE(limit.take(good.data() + 4, 5));
  EXPECT_EQ(limit.allow(100000), handshake_limit::max_input - 9);
  const std::string filler(handshake_limit::max_input - 9, 'a');
  EXPECT_TRUE(limit.take(filler.data(), filler.size()));
  EXPECT_EQ(limit.allow(1), 0u);
  limit.stop();  // after the handshake: application data is not limited here
  EXPECT_EQ(limit.allow(100000), 100000u);

  handshake_limit bad;
  bad.start();
  const std::string huge = hello_start(100000);
  EXPECT_TRUE(bad.take(huge.data(), 8));
  EXPECT_FALSE(bad.take(huge.data() + 8, 1));
}

TEST(handshake_limit, an_inactive_limit_takes_anything) {
  handshake_limit limit;
  const std::string junk(100, '\xff');
  EXPECT_TRUE(limit.take(junk.data(), junk.size()));
  EXPECT_EQ(limit.allow(1 << 20), 1u << 20);
}

}  // namespace
}  // namespace airlock::proxy

// 100 MiB each way: bodies are streamed through fixed buffers, so airlock's memory
// must not grow with the size of what passes through it.

#include <gtest/gtest.h>

#include "tests/integration/proxy_fixture.hpp"
#include "tests/support/nginx_upstream.hpp"
#include "tests/support/sanitizers.hpp"
#include "tests/support/sink_server.hpp"

namespace airlock::test {
namespace {

constexpr std::uint64_t body_size = 100ULL * 1024 * 1024;
constexpr std::uint64_t max_growth_kib = 30 * 1024;

using large_body_test = proxy_test;

TEST_F(large_body_test, Download100MiBWithFlatMemory) {
  nginx_upstream nginx(scratch("nginx"));
  write_sparse_file(nginx.www() / "big", body_size);
  write_file(nginx.www() / "small", "warm");
  start_airlock();

  // Warm up first, so buffers and thread stacks a first request needs are counted before.
  ASSERT_EQ(curl({"-o", "/dev/null", nginx.url("/small")}).exit_code, 0);
  const std::uint64_t before = airlock().rss_kib();
  ASSERT_GT(before, 0u);

  const auto r =
      curl({"-o", "/dev/null", "-w", "%{http_code} %{size_download}", nginx.url("/big")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 " + std::to_string(body_size));

  // The high-water mark covers the whole transfer, not just its end.
  const std::uint64_t peak = airlock().peak_rss_kib();
  RecordProperty("rss_before_kib", std::to_string(before));
  RecordProperty("rss_peak_kib", std::to_string(peak));
  if (!sanitized_build) {
    EXPECT_LT(peak - std::min(peak, before), max_growth_kib)
        << "RSS before " << before << " KiB, peak " << peak << " KiB";
  }
}

TEST_F(large_body_test, Upload100MiBWithFlatMemory) {
  sink_server sink;
  const auto file = scratch("upload");
  write_patterned_file(file, body_size);
  const std::string expected =
      "bytes=" + std::to_string(body_size) + " fnv1a=" + to_hex(fnv1a_file(file)) + " chunked=0\n";
  start_airlock();

  ASSERT_EQ(curl({"-o", "/dev/null", sink.url("/warm")}).exit_code, 0);
  const std::uint64_t before = airlock().rss_kib();
  ASSERT_GT(before, 0u);

  // -T streams the file from disk with a Content-Length (and Expect: 100-continue).
  const auto r = curl({"-T", file.string(), sink.url("/upload")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);

  const std::uint64_t peak = airlock().peak_rss_kib();
  RecordProperty("rss_before_kib", std::to_string(before));
  RecordProperty("rss_peak_kib", std::to_string(peak));
  if (!sanitized_build) {
    EXPECT_LT(peak - std::min(peak, before), max_growth_kib)
        << "RSS before " << before << " KiB, peak " << peak << " KiB";
  }
}

}  // namespace
}  // namespace airlock::test

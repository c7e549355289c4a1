// Attack review of response scrubbing (issue 18): what an agent steering an upstream on a
// credential host tries through the scrubbing path, beyond the cases the other scrub_* tests
// cover.

#include <gtest/gtest.h>

#include "tests/integration/scrub_fixture.hpp"

namespace airlock::test {
namespace {

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

std::string long_text() {
  std::string t;
  for (int i = 0; i < 4000; ++i) {
    t += "line " + std::to_string(i) + " of an answer the agent must not take as whole\n";
  }
  return t;
}

// A gzip body whose second half is not gzip: airlock decodes the first half, masks and relays
// it, then finds the coding broken. To an HTTP/1.0 client the decoded body is delimited by the
// close, so an orderly close would tell it the cut-off body was whole: it must be a reset. Sent
// as plain http:// (upgraded to TLS upstream), so the client's leg tells a FIN from a reset.
TEST_F(scrub_test, AttackerBrokenCodingToAnHttp10ClientIsNotAnOrderlyEnd) {
  const std::string gz = compress(long_text(), zformat::gzip);
  const std::string broken = gz.substr(0, gz.size() / 2) + std::string(gz.size() / 2, '\xff');
  auto up = start_scripted(
      [&](const std::string&) {
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
                                 std::to_string(broken.size()) + "\r\n\r\n";
        return strings{head + broken.substr(0, broken.size() / 4),
                       broken.substr(broken.size() / 4)};
      },
      100ms);
  start_scrubbing(key_rule("coded", up->port()));

  const std::string authority = "localhost:" + std::to_string(up->port());
  auto client = connect();
  ASSERT_TRUE(
      client->send("GET http://" + authority + "/old HTTP/1.0\r\nHost: " + authority + "\r\n\r\n"));
  ASSERT_TRUE(client->read_until("\r\n\r\n", 5s));
  EXPECT_NE(client->buffered().find("200 OK"), std::string::npos) << client->buffered();
  EXPECT_TRUE(client->wait_closed(5s));
  EXPECT_TRUE(client->reset()) << "a cut-off body ended like a whole one";
}

}  // namespace
}  // namespace airlock::test

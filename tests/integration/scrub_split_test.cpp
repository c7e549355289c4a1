// Response scrubbing across reads (issue 18): every spelling of the key, with the response
// cut in two writes at every byte boundary of its body, for each framing: Content-Length,
// two chunks, and one chunk whose data is cut (a TLS record, or TCP segment, boundary inside
// a chunk). Whatever the cut, the agent gets exactly what the reference scrubber makes of the
// whole body. One airlock, one intercepted keep-alive connection, a request a case.

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/integration/scrub_fixture.hpp"

namespace airlock::test {
namespace {

// Short, so that cutting every spelling at every byte stays a few thousand requests; long
// enough (8 bytes or more) for its hex and base64 forms to count.
constexpr const char* split_secret = "Kq/7+x=&Z 3";

enum class framing { sized, two_chunks, cut_chunk };

struct split_case {
  std::string what;  // for failure messages
  std::string body;
  std::vector<std::string> writes;
};

std::vector<std::string> cut_writes(const std::string& body, std::size_t k, framing f) {
  const std::string sized_head =
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  const std::string chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string first = body.substr(0, k);
  const std::string rest = body.substr(k);
  switch (f) {
    case framing::sized:
      return {sized_head + first, rest};
    case framing::two_chunks:
      return {chunked_head + chunk(first), chunk(rest) + "0\r\n\r\n"};
    case framing::cut_chunk: {
      const std::string whole = chunk(body);
      const std::size_t data_at = whole.find("\r\n") + 2;
      return {chunked_head + whole.substr(0, data_at + k), whole.substr(data_at + k) + "0\r\n\r\n"};
    }
  }
  return {};
}

std::vector<split_case> every_cut() {
  auto spellings = spellings_of(split_secret);
  std::sort(spellings.begin(), spellings.end());
  spellings.erase(std::unique(spellings.begin(), spellings.end()), spellings.end());
  std::vector<split_case> cases;
  for (const std::string& s : spellings) {
    const std::string body = "<" + s + ">";
    for (const framing f : {framing::sized, framing::two_chunks, framing::cut_chunk}) {
      for (std::size_t k = 1; k < body.size(); ++k) {
        cases.push_back({"body " + body + " cut after " + std::to_string(k) + " bytes, framing " +
                             std::to_string(static_cast<int>(f)),
                         body, cut_writes(body, k, f)});
      }
    }
  }
  return cases;
}

TEST_F(scrub_test, EverySpellingCutAtEveryByteIsMasked) {
  const std::vector<split_case> cases = every_cut();
  auto up = start_scripted(
      [&cases](const std::string& request) {
        const std::string target = request_target(request);
        return cases.at(std::stoul(target.substr(target.rfind('/') + 1))).writes;
      },
      1ms);
  start_intercepting(scrub_secrets_yaml, key_rule("split", up->port()),
                     {{"SCRUB_KEY", split_secret}, {"OTHER_KEY", other_secret}});

  auto tunnel = open_tunnel(up->port());
  ASSERT_TRUE(tunnel);
  std::vector<std::string> failures;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto r = get(*tunnel, up->port(), "/case/" + std::to_string(i));
    if (!r) {
      failures.push_back(cases[i].what + ": no response");
      break;  // the connection is gone
    }
    const std::string expected = masked(cases[i].body, {split_secret});
    if (r->status != 200 || r->body != expected) {
      failures.push_back(cases[i].what + ": got " + std::to_string(r->status) + " " + r->body +
                         ", want " + expected);
    }
  }
  std::string first;
  for (std::size_t i = 0; i < failures.size() && i < 8; ++i) {
    first += failures[i] + "\n";
  }
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << cases.size()
                                << " cases failed; the first:\n"
                                << first;
}

}  // namespace
}  // namespace airlock::test

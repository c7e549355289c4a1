#pragma once
// Runs part of a test in a network namespace that has nothing but loopback, for tests
// that ask airlock to reach an address off this machine (SSRF refusals): should the
// refusal ever regress, the dial finds no route instead of sending a packet out.

#include <chrono>
#include <functional>
#include <string>

namespace airlock::test {

// Forks; the child enters a new network namespace (in a new user namespace when not
// root), brings lo up and runs body there, then exits. body returns an empty string on
// success, else what went wrong; it must not use gtest assertions (they would be
// recorded in the child).
struct netns_result {
  bool ran = false;     // false: the kernel refused a namespace; text says why (skip)
  std::string failure;  // body's answer, or "timed out" when the child did not finish
};
netns_result run_in_loopback_netns(const std::function<std::string()>& body,
                                   std::chrono::seconds timeout);

}  // namespace airlock::test

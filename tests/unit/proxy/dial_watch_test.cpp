// The connection's deadline ends a dial through dial_watch: a connect over several addresses
// must stop at once, not go on to the next address (Asio's range connect treats a cancelled
// attempt as a failed one and tries the next; only a closed socket ends it).

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <vector>

#include <boost/asio/connect.hpp>

#include "proxy/flow/dialer.hpp"

namespace airlock::proxy {
namespace {

using namespace std::chrono_literals;

// A listener on addr whose accept queue is full: a further connect to it hangs, as to a
// blackholed address, without leaving loopback.
struct full_listener {
  explicit full_listener(asio::io_context& io, const char* addr) : acceptor(io) {
    const tcp::endpoint at(asio::ip::make_address(addr), 0);
    acceptor.open(at.protocol());
    acceptor.bind(at);
    acceptor.listen(0);
    for (int i = 0; i < 3; ++i) {
      auto& s = fillers.emplace_back(io);
      s.open(at.protocol());
      s.non_blocking(true);
      // connect(2) itself: Asio's synchronous connect would wait for the one that hangs.
      const tcp::endpoint listening = acceptor.local_endpoint();
      ::connect(s.native_handle(), listening.data(), listening.size());
    }
  }
  tcp::acceptor acceptor;
  std::vector<tcp::socket> fillers;
};

TEST(dial_watch, the_deadline_ends_a_connect_over_several_hanging_addresses) {
  asio::io_context io;
  full_listener first(io, "127.0.0.1");
  full_listener second(io, "127.0.0.2");
  const std::vector<tcp::endpoint> to{first.acceptor.local_endpoint(),
                                      second.acceptor.local_endpoint()};
  tcp::socket sock(io);
  dial_watch watch;
  watch.socket = &sock;
  bool done = false;
  error_code result;
  const auto started = std::chrono::steady_clock::now();
  asio::async_connect(sock, to, [&](const error_code& ec, const tcp::endpoint&) {
    done = true;
    result = ec;
  });
  asio::steady_timer deadline(io, 200ms);
  deadline.async_wait([&](const error_code&) { watch.cancel(); });
  asio::steady_timer give_up(io, 3s);
  give_up.async_wait([&](const error_code&) { io.stop(); });
  while (!done && io.run_one() != 0) {
  }
  ASSERT_TRUE(done) << "the connect went on to the next address past the deadline";
  EXPECT_TRUE(result);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

}  // namespace
}  // namespace airlock::proxy

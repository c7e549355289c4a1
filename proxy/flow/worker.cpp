#include "proxy/flow/worker.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <vector>

#include "proxy/http/responses.hpp"
#include "proxy/observe/access_log.hpp"

namespace airlock::proxy {

worker::worker(const config::config& cfg, stats& counters, std::atomic<std::size_t>& connections,
               tls_state* tls, secrets::store& secrets, const policy& egress, metrics& series)
    : cfg_(cfg),
      stats_(counters),
      connections_(connections),
      tls_(tls),
      secrets_(secrets),
      policy_(egress),
      metrics_(series),
      pool_(cfg.proxy.pool.max_idle_per_host, cfg.proxy.pool.idle) {}

tcp::endpoint worker::listen(const tcp::endpoint& at) {
  acceptor_.open(at.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  const int one = 1;
  if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    throw boost::system::system_error(error_code(errno, boost::system::system_category()),
                                      "SO_REUSEPORT");
  }
  acceptor_.bind(at);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  return acceptor_.local_endpoint();
}

void worker::run() {
  context_.emplace(flow_context{cfg_, stats_, metrics_, policy_, tls_, secrets_, *heads_, *dns_,
                                pool_, tls_sessions_, *scrubs_, *self_, draining_});
  asio::co_spawn(io_, accept_loop(), asio::detached);
  asio::co_spawn(io_, sweep_loop(), asio::detached);
  // Access lines go out once per run of ready handlers: under load that is one write(2)
  // for many requests, when idle it is at once.
  const access_batch lines;
  while (io_.run_one() != 0) {
    io_.poll();
    flush_access();
  }
}

void worker::remove(connection* c) {
  connections_live_.erase(c);
  connections_.fetch_sub(1, std::memory_order_relaxed);
}

awaitable<void> worker::accept_loop() {
  auto backoff = std::chrono::milliseconds(10);
  asio::steady_timer pause(io_);
  for (;;) {
    auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
    if (draining_ || !acceptor_.is_open()) {
      co_return;
    }
    if (ec) {
      // Out of descriptors or memory: accepting again at once would spin on the same
      // error, so wait (up to a second) and let existing connections finish.
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
          ec == asio::error::no_memory || ec.value() == ENFILE) {
        spdlog::warn("accept: {} (backing off {} ms)", ec.message(), backoff.count());
        pause.expires_after(backoff);
        co_await pause.async_wait(use_tuple);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      }
      continue;
    }
    backoff = std::chrono::milliseconds(10);
    if (connections_.fetch_add(1, std::memory_order_relaxed) >= cfg_.proxy.max_connections) {
      connections_.fetch_sub(1, std::memory_order_relaxed);
      refuse(std::move(sock));
      continue;
    }
    connection_set& set = *this;
    auto c = std::make_shared<connection>(std::move(sock), *context_, set);
    c->start();
  }
}

void worker::refuse(tcp::socket sock) {
  stats::add(stats_.connections_refused);
  // Best effort and never blocking: the client learns why instead of seeing a reset.
  static const std::string response = make_error_response(
      refusal{503, "proxy_internal_error", "too many connections (proxy.max_connections)"}, true);
  error_code ec;
  sock.non_blocking(true, ec);
  sock.write_some(asio::buffer(response), ec);
  sock.close(ec);
}

awaitable<void> worker::sweep_loop() {
  while (!draining_) {
    sweep_timer_.expires_after(std::chrono::seconds(5));
    auto [ec] = co_await sweep_timer_.async_wait(use_tuple);
    if (ec || draining_) {
      break;
    }
    pool_.sweep(clock::now());
  }
}

void worker::begin_drain() {
  asio::post(io_, [this] {
    draining_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    sweep_timer_.cancel();
    pool_.close();
    // drain() may end a connection, which removes it from the set: iterate a copy.
    std::vector<connection*> current(connections_live_.begin(), connections_live_.end());
    for (connection* s : current) {
      if (connections_live_.count(s) != 0) {
        s->drain();
      }
    }
  });
}

std::size_t worker::close_credentialed() {
  std::size_t closed = pool_.close_credentialed();
  std::vector<connection*> current(connections_live_.begin(), connections_live_.end());
  for (connection* s : current) {
    if (connections_live_.count(s) != 0 && s->carried_credential()) {
      s->abort();
      ++closed;
    }
  }
  return closed;
}

void worker::force_close() {
  asio::post(io_, [this] {
    std::vector<connection*> current(connections_live_.begin(), connections_live_.end());
    for (connection* s : current) {
      if (connections_live_.count(s) != 0) {
        s->abort();
      }
    }
  });
}

}  // namespace airlock::proxy

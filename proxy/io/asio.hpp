#pragma once
// The Asio names the data plane uses, in one place. Every operation completes with
// as_tuple(use_awaitable): errors are values to branch on, never exceptions.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace airlock::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using clock = std::chrono::steady_clock;

template <typename T = void>
using awaitable = asio::awaitable<T>;

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace airlock::proxy

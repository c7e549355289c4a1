#include "proxy/flow/tunnel.hpp"

#include <cerrno>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <spdlog/spdlog.h>

#include "proxy/flow/kernel_pipe.hpp"
#include "proxy/observe/stats.hpp"

namespace airlock::proxy {

namespace {

constexpr std::size_t read_chunk = 16 * 1024;
// A direction that has carried this much, and whose last read filled the whole chunk (the
// sender is ahead of us), is a bulk transfer: it moves on to splice(2), socket to pipe to
// socket, with no copy through user space. API calls, TLS handshakes and event streams,
// however long, read less than a chunk at a time and keep the pipe's two descriptors and
// its kernel buffer for themselves.
constexpr std::uint64_t splice_after = 256 * 1024;
constexpr std::size_t splice_pipe_size = 1024 * 1024;

}  // namespace

awaitable<void> tunnel::run() {
  using namespace asio::experimental::awaitable_operators;
  auto& counters = ctx_.counters;
  stats::add(counters.tunnels_total);
  stats::add(counters.tunnels_active);
  const stream_ref client = client_.leg();
  co_await (pump(client, client_.pending(), upstream_, true) &&
            pump(upstream_, up_buf_, client, false));
  stats::add(counters.tunnels_active, -1);
  error_code ignored;
  upstream_.socket().close(ignored);
}

awaitable<bool> tunnel::write_all(stream_ref to, std::string_view bytes, bool upward) {
  const std::array<asio::const_buffer, 1> bufs{asio::buffer(bytes.data(), bytes.size())};
  auto [ec, n] = co_await to.write(bufs);
  if (!upward) {
    client_.count_out(n);
  }
  co_return !ec;
}

awaitable<std::optional<std::size_t>> tunnel::pass_on(byte_buffer& buf, stream_ref to,
                                                      bool upward) {
  deadline_.arm(ctx_.cfg.proxy.timeouts.idle);
  if (upward || frames_ == nullptr) {
    const bool ok = co_await write_all(to, buf.data(), upward);
    co_return ok ? std::optional<std::size_t>(buf.size()) : std::nullopt;
  }
  framed_.clear();
  if (memo_ != nullptr) {
    frames_->rekey(memo_->get(ctx_.scrubs, *scope_));
  }
  const ws_filter::result r = frames_->feed(buf.data(), framed_);
  if (r.error) {
    // Frames airlock cannot scan (compressed, masked, malformed) never reach the agent; the
    // whole frames before them do, then a close frame saying why (1002, protocol error).
    spdlog::info("websocket from a scrubbed host closed: {}", r.reason);
    if (!frames_->closed()) {
      ws_filter::append_close(framed_, 1002, "airlock: " + std::string(r.reason));
    }
    const bool sent = co_await write_all(to, framed_, upward);
    static_cast<void>(sent);
    co_return std::nullopt;
  }
  if (!framed_.empty() && !co_await write_all(to, framed_, upward)) {
    co_return std::nullopt;
  }
  co_return r.consumed;
}

awaitable<void> tunnel::pump(stream_ref from, byte_buffer& buf, stream_ref to, bool upward) {
  const auto idle = ctx_.cfg.proxy.timeouts.idle;
  auto& counter = upward ? ctx_.counters.tunnel_bytes_up : ctx_.counters.tunnel_bytes_down;
  const bool plain = !from.is_tls() && !to.is_tls();
  bool may_splice = plain && (upward || frames_ == nullptr);
  std::uint64_t moved = 0;
  bool last_read_full = false;
  for (;;) {
    if (!buf.empty()) {
      const std::optional<std::size_t> passed = co_await pass_on(buf, to, upward);
      if (!passed) {
        break;
      }
      stats::add(counter, *passed);
      moved += *passed;
      buf.consume(*passed);
    }
    if (may_splice && last_read_full && moved >= splice_after) {
      kernel_pipe pipe(splice_pipe_size);
      if (pipe.valid()) {
        stats::add(ctx_.counters.tunnel_splices);
        const splice_end end = co_await splice_pump(from, pipe, to, upward);
        if (end == splice_end::half_closed) {
          co_return;
        }
        break;
      }
      may_splice = false;  // out of descriptors: go on copying
    }
    deadline_.arm(idle);
    buf.shrink();
    auto [ec, n] = co_await from.read_some(buf.prepare(read_chunk));
    if (ec == asio::error::eof && plain) {
      // Half-close: the peer finished sending; the other direction may still be busy.
      error_code ignored;
      to.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (ec) {
      break;
    }
    buf.commit(n);
    last_read_full = n >= read_chunk;
    if (upward) {
      client_.count_in(n);
    }
  }
  // A reset, a timeout, a failed write or the end of a TLS leg ends both directions.
  error_code ignored;
  from.socket().close(ignored);
  to.socket().close(ignored);
}

awaitable<tunnel::splice_end> tunnel::splice_pump(stream_ref from, kernel_pipe& pipe, stream_ref to,
                                                  bool upward) {
  const auto idle = ctx_.cfg.proxy.timeouts.idle;
  auto& counters = ctx_.counters;
  auto& counter = upward ? counters.tunnel_bytes_up : counters.tunnel_bytes_down;
  tcp::socket& src = from.socket();
  tcp::socket& dst = to.socket();
  error_code ec;
  // splice(2) on a socket blocks unless the socket itself is non-blocking.
  src.native_non_blocking(true, ec);
  if (!ec) {
    dst.native_non_blocking(true, ec);
  }
  if (ec) {
    co_return splice_end::failed;
  }
  bool input_ended = false;
  for (;;) {
    const splice_result in = pipe.fill_from(src.native_handle(), splice_pipe_size);
    if (in.bytes > 0) {
      if (upward) {
        client_.count_in(in.bytes);
      }
    } else if (in.error == 0) {
      input_ended = true;
    } else if (in.error == EAGAIN && pipe.buffered() == 0) {
      deadline_.arm(idle);
      auto [wait_ec] = co_await src.async_wait(tcp::socket::wait_read, use_tuple);
      if (wait_ec) {
        co_return splice_end::failed;
      }
      continue;
    } else if (in.error != EAGAIN) {
      co_return splice_end::failed;
    }
    // Everything in the pipe goes out before more comes in: the pipe is the only buffer,
    // so a slow reader holds the sender back (TCP backpressure), and memory stays bounded.
    while (pipe.buffered() > 0) {
      const splice_result out = pipe.drain_to(dst.native_handle());
      if (out.bytes > 0) {
        stats::add(counter, out.bytes);
        if (!upward) {
          client_.count_out(out.bytes);
        }
        continue;
      }
      if (out.error != EAGAIN) {
        co_return splice_end::failed;
      }
      deadline_.arm(idle);
      auto [wait_ec] = co_await dst.async_wait(tcp::socket::wait_write, use_tuple);
      if (wait_ec) {
        co_return splice_end::failed;
      }
    }
    if (input_ended) {
      dst.shutdown(tcp::socket::shutdown_send, ec);
      co_return splice_end::half_closed;
    }
  }
}

}  // namespace airlock::proxy

// CONNECT: a blind byte relay between the client and the authority it named, both
// directions at once, half-close passed through, bounded by the idle deadline.

#include <spdlog/spdlog.h>

#include <cerrno>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "proxy/flow/kernel_pipe.hpp"
#include "proxy/flow/session.hpp"
#include "proxy/flow/worker.hpp"
#include "proxy/policy/inject.hpp"
#include "proxy/tls/tls_state.hpp"

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
constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";

}  // namespace

awaitable<bool> session::serve_connect(std::size_t head_len) {
  mode_ = traffic_mode::tunnel;
  auto target = parse_authority_form(req_.target);
  if (!target) {
    refusal_ = refusal{400, "http_request_error", "CONNECT target must be host:port"};
    co_await respond_error(true);
    co_return false;
  }
  if (req_info_.host != nullptr) {
    auto host = parse_host_header(req_info_.host->value, target->port);
    if (!host || *host != *target) {
      refusal_ =
          refusal{400, "http_request_error", "Host header disagrees with the CONNECT target"};
      co_await respond_error(true);
      co_return false;
    }
  }
  if (req_info_.body != http::body_kind::none) {
    refusal_ = refusal{400, "http_request_error", "CONNECT request with a body"};
    co_await respond_error(true);
    co_return false;
  }
  access_target(*target, {});
  if (policy_refuses(*target, std::nullopt)) {
    co_await respond_error(true);
    co_return false;
  }
  // The pool key of a blind tunnel; requests inside an intercepted one set their own.
  key_ = target->to_string();
  in_.consume(head_len);  // bytes after the head are the client's first tunnel bytes
  in_.shrink();
  if (!cover_copies()) {
    refusal_ = head_budget_refusal(worker_.heads().limit(), false);
    co_await respond_error(true);
    co_return false;
  }
  tls_state* tls = worker_.tls();
  if (tls != nullptr && has_rule_for(worker_.cfg().credentials, target->host, target->port)) {
    co_return co_await intercept(*target);
  }
  const refusal failed = co_await dial(*target, false);
  if (failed.status != 0) {
    refusal_ = failed;
    co_await respond_error(true);
    co_return false;
  }
  deadline_.arm(worker_.cfg().proxy.timeouts.idle);
  worker_.series().request(traffic_mode::tunnel, 200);
  if (!co_await write_all(client(), established)) {
    co_return false;
  }
  co_await tunnel(upstream());
  access_end(200, "");
  co_return false;
}

awaitable<bool> session::intercept(const authority& target) {
  // The upstream is dialed per request, after the agent's request is known: a host
  // that is down still gets its requests answered with a reason, inside the tunnel.
  deadline_.arm(worker_.cfg().proxy.timeouts.header);
  if (!co_await write_all(client(), established)) {
    co_return false;
  }
  std::shared_ptr<SSL_CTX> ctx = worker_.tls()->leaves.server_context(target.host);
  SSL* ssl = ctx ? SSL_new(ctx.get()) : nullptr;
  if (ssl == nullptr) {
    spdlog::warn("intercept {}: no certificate could be made", target.to_string());
    co_return false;
  }
  client_tls_.emplace(client_, ssl);
  // Bytes the client sent right after CONNECT (its ClientHello) are already buffered; most
  // clients wait for the 200, so this is usually empty. The read buffer is not held through
  // the handshake, whose own buffers OpenSSL keeps meanwhile.
  const std::string early(in_.data());
  in_.consume(in_.size());
  in_.release_if_empty();
  const error_code ec = co_await client_tls_->handshake(tls_role::server, early);
  if (ec) {
    spdlog::debug("intercept {}: client TLS handshake failed: {}", target.to_string(),
                  ec.message());
    co_return false;
  }
  intercepted_ = target;
  first_request_ = true;  // the next head gets the header timeout, not idle
  stats::add(worker_.counters().tunnels_total);
  co_return true;
}

awaitable<void> session::tunnel(stream_ref upstream) {
  using namespace asio::experimental::awaitable_operators;
  auto& counters = worker_.counters();
  stats::add(counters.tunnels_total);
  stats::add(counters.tunnels_active);
  co_await (pump(client(), in_, upstream, true) && pump(upstream, up_in_, client(), false));
  stats::add(counters.tunnels_active, -1);
  error_code ignored;
  upstream.socket().close(ignored);
}

awaitable<void> session::pump(stream_ref from, byte_buffer& buf, stream_ref to, bool upward) {
  const auto idle = worker_.cfg().proxy.timeouts.idle;
  auto& counter =
      upward ? worker_.counters().tunnel_bytes_up : worker_.counters().tunnel_bytes_down;
  const bool plain = !from.is_tls() && !to.is_tls();
  bool may_splice = plain;
  std::uint64_t moved = 0;
  bool last_read_full = false;
  for (;;) {
    if (!buf.empty()) {
      deadline_.arm(idle);
      const std::size_t n = buf.size();
      if (!co_await write_all(to, buf.data())) {
        break;
      }
      stats::add(counter, n);
      moved += n;
      buf.consume(n);
    }
    if (may_splice && last_read_full && moved >= splice_after) {
      kernel_pipe pipe(splice_pipe_size);
      if (pipe.valid()) {
        stats::add(worker_.counters().tunnel_splices);
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
      stats::add(worker_.counters().bytes_from_client, n);
      in_total_ += n;
    }
  }
  // A reset, a timeout, a failed write or the end of a TLS leg ends both directions.
  error_code ignored;
  from.socket().close(ignored);
  to.socket().close(ignored);
}

awaitable<session::splice_end> session::splice_pump(stream_ref from, kernel_pipe& pipe,
                                                    stream_ref to, bool upward) {
  const auto idle = worker_.cfg().proxy.timeouts.idle;
  auto& counters = worker_.counters();
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
        stats::add(counters.bytes_from_client, in.bytes);
        in_total_ += in.bytes;
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
          stats::add(counters.bytes_to_client, out.bytes);
          out_total_ += out.bytes;
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

#include "proxy/flow/connection.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <functional>

#include "proxy/observe/access_log.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/observe/stats.hpp"
#include "proxy/tls/tls_state.hpp"

namespace airlock::proxy {

namespace {

// Reads are sized for throughput, and a connection's first buffer is one read: a head
// that outgrows it (up to the limit) takes the rest from the process's head budget.
constexpr std::size_t read_chunk = 16 * 1024;
constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
// How long a closing intercepted connection may take to write its close_notify.
constexpr auto close_notify_wait = std::chrono::seconds(1);

}  // namespace

connection::connection(tcp::socket client, flow_context& ctx, connection_set& set)
    : client_(std::move(client)),
      ctx_(ctx),
      set_(set),
      deadline_(client_.get_executor()),
      in_(read_chunk, ctx.cfg.proxy.max_header_bytes + read_chunk, &ctx.heads),
      exchange_(ctx, client_.get_executor(), *this, deadline_, record_) {
  set_.add(this);
  stats::add(ctx_.counters.connections_total);
  stats::add(ctx_.counters.connections_active);
}

connection::~connection() {
  stats::add(ctx_.counters.connections_active, -1);
  set_.remove(this);
}

void connection::start() {
  error_code ignored;
  client_.set_option(tcp::no_delay(true), ignored);
  if (access_log_enabled()) {
    const auto ep = client_.remote_endpoint(ignored);
    if (!ignored) {
      peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
  }
  auto self = shared_from_this();
  asio::co_spawn(
      client_.get_executor(), [self]() -> awaitable<void> { co_await self->run(); },
      asio::detached);
  asio::co_spawn(
      client_.get_executor(),
      [self]() -> awaitable<void> {
        const std::function<void()> on_expiry = [&self] { self->on_deadline(); };
        co_await self->deadline_.watch(on_expiry);
      },
      asio::detached);
}

void connection::drain() {
  draining_ = true;
  if (phase_ == phase::idle) {
    close_all();
  }
}

void connection::abort() {
  close_all();
}

void connection::on_deadline() {
  // Cancel, not close: the exchange still answers 504/408 where it can.
  error_code ignored;
  client_.cancel(ignored);
  exchange_.cancel();
}

void connection::close_all() {
  error_code ignored;
  client_.close(ignored);
  exchange_.close();
}

awaitable<void> connection::run() {
  for (;;) {
    std::size_t head_len = 0;
    const head_status st = co_await read_request_head(head_len);
    if (st != head_status::ok) {
      break;
    }
    phase_ = phase::busy;
    begin_request();
    const exchange::request request{req_, req_info_, head_len, intercepted_};
    const exchange::outcome next = co_await exchange_.serve(request);
    bool keep_going = next.keep;
    if (next.intercept) {
      keep_going = co_await intercept(*next.intercept);
    }
    exchange_.shed_copies();
    if (!keep_going || closing()) {
      break;
    }
  }
  co_await close_tls();
  close_all();
  deadline_.stop();
}

// Without close_notify the end of a close-delimited body inside TLS cannot be told from a
// close forged or forced by anyone on the path (RFC 8446 6.1, RFC 9112 9.8), and strict
// clients (Go, OpenSSL's s_client, Python's ssl with suppress_ragged_eofs off) report a
// whole answer as an error. A reset that announces a cut-short body gets none, so it still
// reads as cut short. One write at most, and bounded: a client that reads nothing more
// does not hold the connection.
awaitable<void> connection::close_tls() {
  if (!client_tls_ || resetting_) {
    co_return;
  }
  deadline_.arm(close_notify_wait);
  const error_code ec = co_await client_tls_->shutdown();
  if (ec) {
    spdlog::trace("close_notify not sent: {}", ec.message());
  }
}

void connection::begin_request() {
  stats::add(ctx_.counters.requests_total);
  record_.start = clock::now();
  record_.mode = intercepted_ ? traffic_mode::intercept : traffic_mode::forward;
  record_.prefer_json = false;
  for (const auto& h : req_.headers) {
    record_.prefer_json =
        record_.prefer_json || (http::iequals(h.name, "accept") && accepts_json(h.value));
  }
  if (!access_log_enabled()) {
    return;
  }
  record_.method.assign(req_.method);
  record_.authority_text.clear();
  record_.path.clear();
  record_.rule.clear();
  record_.upstream_ms = -1;
  record_.scrubbed = -1;
  // The bytes of this head are already counted; they belong to this request.
  record_.in_mark = in_total_ - std::min<std::uint64_t>(in_total_, in_.size());
  record_.out_mark = out_total_;
}

awaitable<bool> connection::intercept(const authority& target) {
  // The upstream is dialed per request, after the agent's request is known: a host
  // that is down still gets its requests answered with a reason, inside the tunnel.
  deadline_.arm(ctx_.cfg.proxy.timeouts.header);
  if (!co_await send(established)) {
    co_return false;
  }
  std::shared_ptr<SSL_CTX> ctx = ctx_.tls->leaves.server_context(target.host);
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
  stats::add(ctx_.counters.tunnels_total);
  co_return true;
}

void connection::count_in(std::size_t n) {
  stats::add(ctx_.counters.bytes_from_client, n);
  in_total_ += n;
}

void connection::count_out(std::size_t n) {
  stats::add(ctx_.counters.bytes_to_client, n);
  out_total_ += n;
}

awaitable<bool> connection::send(std::string_view a, std::string_view b) {
  const std::array<asio::const_buffer, 2> bufs{asio::buffer(a.data(), a.size()),
                                               asio::buffer(b.data(), b.size())};
  auto [ec, n] = co_await leg().write(bufs);
  count_out(n);
  co_return !ec;
}

void connection::reset_on_close() {
  resetting_ = true;
  error_code ignored;
  client_.set_option(asio::socket_base::linger(true, 0), ignored);
}

awaitable<void> connection::refuse(const refusal& r, bool close) {
  stats::add(r.status < 500 ? ctx_.counters.requests_rejected : ctx_.counters.upstream_errors);
  spdlog::debug("answered {} ({}): {}", r.status, r.error_type, r.detail);
  ctx_.series.refused(r.kind);
  ctx_.series.request(record_.mode, r.status);
  if (!r.rule.empty() && access_log_enabled()) {
    record_.rule = r.rule;
  }
  const int status = r.status;
  const refusal_kind kind = r.kind;
  const std::string response = make_error_response(r, close, record_.prefer_json);
  // A client that does not read its error gets the short header deadline, not idle.
  deadline_.arm(ctx_.cfg.proxy.timeouts.header);
  co_await send(response);
  log_line(status, refusal_kind_names[static_cast<std::size_t>(kind)]);
}

void connection::log_line(int status, std::string_view reason) {
  if (!access_log_enabled()) {
    return;
  }
  access_entry e;
  e.client = peer_;
  e.mode = traffic_mode_names[static_cast<std::size_t>(record_.mode)];
  e.method = record_.method;
  e.authority = record_.authority_text;
  e.path = record_.path;
  e.status = status;
  e.bytes_in = in_total_ - std::min(in_total_, record_.in_mark);
  e.bytes_out = out_total_ - record_.out_mark;
  e.ms = std::chrono::duration<double, std::milli>(clock::now() - record_.start).count();
  e.upstream_ms = record_.upstream_ms;
  e.rule = record_.rule;
  e.reason = reason;
  e.scrubbed = record_.scrubbed;
  write_access(e);
}

}  // namespace airlock::proxy

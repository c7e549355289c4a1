#include "proxy/flow/session.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "proxy/flow/worker.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/observe/access_log.hpp"

namespace airlock::proxy {

namespace {

// Reads are sized for throughput, and a connection's first buffer is one read: a head
// that outgrows it (up to the limit) takes the rest from the process's head budget.
constexpr std::size_t read_chunk = 16 * 1024;
// What a connection's copies of its current heads may hold without asking the budget (a
// few KiB in the common case), and the size past which one is freed after the request.
constexpr std::size_t copies_allowance = 16 * 1024;
constexpr std::size_t copy_kept = 1024;

}  // namespace

session::session(tcp::socket client, worker& owner)
    : client_(std::move(client)),
      worker_(owner),
      deadline_(client_.get_executor()),
      in_(read_chunk, owner.cfg().proxy.max_header_bytes + read_chunk, &owner.heads()),
      up_in_(read_chunk, owner.cfg().proxy.max_header_bytes + read_chunk, &owner.heads()),
      copies_(owner.heads()) {
  worker_.add(this);
  stats::add(worker_.counters().connections_total);
  stats::add(worker_.counters().connections_active);
}

session::~session() {
  stats::add(worker_.counters().connections_active, -1);
  worker_.remove(this);
}

void session::start() {
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
        co_await self->deadline_.watch([&self] { self->on_deadline(); });
      },
      asio::detached);
}

void session::drain() {
  draining_ = true;
  if (phase_ == phase::idle) {
    close_all();
  }
}

void session::abort() {
  close_all();
}

bool session::carried_credential() const {
  return carried_credential_ || (upstream_ && upstream_->carried_credential);
}

void session::on_deadline() {
  // Cancel, not close: the session still answers 504/408 where it can.
  error_code ignored;
  client_.cancel(ignored);
  if (upstream_) {
    upstream_->sock.cancel(ignored);
  }
  if (lookup_) {
    lookup_->done.cancel();  // the session stops waiting; the answer, if it comes, is dropped
  }
}

void session::close_all() {
  error_code ignored;
  client_.close(ignored);
  if (upstream_) {
    upstream_->sock.close(ignored);
  }
  if (lookup_) {
    lookup_->done.cancel();  // the session stops waiting; the answer, if it comes, is dropped
  }
}

awaitable<void> session::run() {
  for (;;) {
    std::size_t head_len = 0;
    const head_status st = co_await read_request_head(head_len);
    if (st != head_status::ok) {
      break;
    }
    phase_ = phase::busy;
    client_version_ = req_.ver;
    stats::add(worker_.counters().requests_total);
    prefer_json_ = false;
    req_start_ = clock::now();
    mode_ = intercepted_ ? traffic_mode::intercept : traffic_mode::forward;
    access_begin();
    for (const auto& h : req_.headers) {
      prefer_json_ = prefer_json_ || (http::iequals(h.name, "accept") && accepts_json(h.value));
    }
    bool keep_going = false;
    if (http::iequals(req_.method, "CONNECT") && !intercepted_) {
      keep_going = co_await serve_connect(head_len);
    } else {
      keep_going = co_await serve_forward(head_len);
    }
    shed_copies();
    if (!keep_going || draining_ || worker_.draining()) {
      break;
    }
  }
  close_all();
  if (upstream_) {
    upstream_.reset();
  }
  deadline_.stop();
}

awaitable<session::head_status> session::read_request_head(std::size_t& head_len) {
  const auto& cfg = worker_.cfg().proxy;
  const http::head_limits limits{cfg.max_header_bytes, cfg.max_header_count};
  std::size_t resume = 0;
  // A new connection gets the header timeout at once; a kept-alive one may sit idle
  // first, and gets the header timeout only once a request has started to arrive.
  const bool waiting_idle = !first_request_ && in_.empty();
  deadline_.arm(waiting_idle ? cfg.timeouts.idle : cfg.timeouts.header);
  phase_ = in_.empty() ? phase::idle : phase::reading;
  if (in_.empty()) {
    in_.release_if_empty();
  }
  bool header_clock_started = !waiting_idle;
  for (;;) {
    if (!in_.empty()) {
      const auto scan = http::scan_head(in_.data(), resume, limits);
      if (scan.st == http::head_scan::state::complete) {
        in_.consume(scan.skip);
        head_len = scan.length;
        const std::string_view head = in_.data().substr(0, head_len);
        if (auto err = http::parse_request(head, limits, req_)) {
          co_await reject_request(err.status, err.reason);
          co_return head_status::rejected;
        }
        if (auto err = http::analyze_request(req_, req_info_)) {
          co_await reject_request(err.status, err.reason);
          co_return head_status::rejected;
        }
        first_request_ = false;
        co_return head_status::ok;
      }
      if (scan.st == http::head_scan::state::error) {
        co_await reject_request(scan.error.status, scan.error.reason);
        co_return head_status::rejected;
      }
      resume = scan.scanned;
      if (!header_clock_started) {
        deadline_.arm(cfg.timeouts.header);
        header_clock_started = true;
      }
    }
    // Room that is left is used before the buffer grows: only a head larger than the
    // first buffer ever asks the budget.
    const asio::mutable_buffer room = in_.prepare(1);
    if (in_.over_budget()) {
      refusal_ = head_budget_refusal(worker_.heads().limit(), false);
      co_await respond_error(true);
      co_return head_status::rejected;
    }
    auto [ec, n] = co_await client().read_some(room);
    if (ec) {
      if (deadline_.fired() && !in_.empty()) {
        co_await reject_request(408, "request head not received in time");
      }
      co_return head_status::closed;
    }
    phase_ = phase::reading;
    in_.commit(n);
    stats::add(worker_.counters().bytes_from_client, n);
    in_total_ += n;
    if (draining_ || worker_.draining()) {
      // Drain began while this connection was idle: this new request still gets served.
      draining_ = true;
    }
  }
}

awaitable<void> session::reject_request(int status, std::string_view reason) {
  std::string_view type = "http_request_error";
  if (status == 431) {
    type = "http_request_denied";
  } else if (status == 408) {
    type = "http_request_error";
  }
  refusal_ = refusal{status, type, std::string(reason)};
  co_await respond_error(true);
}

bool session::policy_refuses(const authority& target, std::optional<std::string_view> path) {
  const policy& p = worker_.egress();
  const verdict v = p.decide(target.host, target.port, path);
  if (v.report_only) {
    stats::add(worker_.counters().egress_report_only);
    spdlog::info("egress report-only: {} would be refused by {}", target.to_string(), v.rule);
    return false;
  }
  if (v.what == verdict::kind::allow) {
    return false;
  }
  const std::string where = target.to_string();
  if (v.what == verdict::kind::telemetry) {
    p.count_blocked(v.entry);
    stats::add(worker_.counters().telemetry_blocked);
    // A CONNECT cannot be answered with "done": 403 ends it at once. A request can, so
    // the configured answer (204 by default) stops clients from retrying.
    const int status = path ? p.telemetry_answer() : 403;
    refusal_ =
        refusal{status, "http_request_denied",
                "vendor telemetry to " + where + " is blocked by airlock (entry " +
                    std::string(v.rule) + "); retrying or bypassing the proxy will not help"};
    refusal_.reason = "telemetry_blocked";
  } else {
    stats::add(worker_.counters().egress_denied);
    refusal_ =
        refusal{403, "destination_ip_prohibited",
                "egress to " + where + " is not allowed by this workspace's policy (" +
                    std::string(v.rule) + "); retrying or bypassing the proxy will not help"};
    refusal_.reason = "egress_denied";
  }
  refusal_.rule = std::string(v.rule);
  spdlog::debug("policy: {} refused ({} {})", where, refusal_.reason, refusal_.rule);
  return true;
}

void session::access_begin() {
  if (!access_log_enabled()) {
    return;
  }
  log_method_.assign(req_.method);
  log_authority_.clear();
  log_path_.clear();
  log_rule_.clear();
  upstream_ms_ = -1;
  // The bytes of this head are already counted; they belong to this request.
  in_mark_ = in_total_ - std::min<std::uint64_t>(in_total_, in_.size());
  out_mark_ = out_total_;
}

void session::access_target(const authority& auth, std::string_view origin_form) {
  if (access_log_enabled()) {
    log_authority_ = auth.to_string();
    log_path_.assign(origin_form.substr(0, origin_form.find('?')));
  }
}

void session::access_end(int status, std::string_view reason) {
  if (!access_log_enabled()) {
    return;
  }
  access_entry e;
  e.client = peer_;
  e.mode = traffic_mode_names[static_cast<std::size_t>(mode_)];
  e.method = log_method_;
  e.authority = log_authority_;
  e.path = log_path_;
  e.status = status;
  e.bytes_in = in_total_ - std::min(in_total_, in_mark_);
  e.bytes_out = out_total_ - out_mark_;
  e.ms = std::chrono::duration<double, std::milli>(clock::now() - req_start_).count();
  e.upstream_ms = upstream_ms_;
  e.rule = log_rule_;
  e.reason = reason;
  write_access(e);
}

awaitable<void> session::respond_error(bool close) {
  const refusal& r = refusal_;
  stats::add(r.status < 500 ? worker_.counters().requests_rejected
                            : worker_.counters().upstream_errors);
  spdlog::debug("answered {} ({}): {}", r.status, r.error_type, r.detail);
  const refusal_kind kind = classify(r);
  worker_.series().refused(kind);
  worker_.series().request(mode_, r.status);
  if (!r.rule.empty()) {
    log_rule_ = r.rule;
  }
  const int status = r.status;
  const std::string response = make_error_response(r, close, prefer_json_);
  // A client that does not read its error gets the short header deadline, not idle.
  deadline_.arm(worker_.cfg().proxy.timeouts.header);
  co_await write_all(client(), response);
  access_end(status, refusal_kind_names[static_cast<std::size_t>(kind)]);
}

awaitable<bool> session::write_all(stream_ref to, std::string_view a, std::string_view b) {
  const std::array<asio::const_buffer, 2> bufs{asio::buffer(a.data(), a.size()),
                                               asio::buffer(b.data(), b.size())};
  auto [ec, n] = co_await to.write(bufs);
  if (&to.socket() == &client_) {
    stats::add(worker_.counters().bytes_to_client, n);
    out_total_ += n;
  }
  co_return !ec;
}

std::size_t session::copies_bytes() const {
  std::size_t n = 0;
  for (const std::string* s : {&out_, &req_out_, &host_text_, &route_path_, &key_, &log_method_,
                               &log_authority_, &log_path_, &log_rule_}) {
    n += s->capacity();
  }
  return n;
}

bool session::cover_copies() {
  const std::size_t n = copies_bytes();
  return copies_.cover(n > copies_allowance ? n - copies_allowance : 0);
}

void session::shed_copies() {
  if (copies_.held() == 0 && copies_bytes() <= copies_allowance) {
    return;  // the common case: nothing large was made
  }
  // req_out_ was wiped when its request ended; the others carry no secret.
  for (std::string* s : {&out_, &req_out_, &host_text_, &route_path_, &key_, &log_method_,
                         &log_authority_, &log_path_, &log_rule_}) {
    if (s->capacity() > copy_kept) {
      std::string().swap(*s);
    }
  }
  copies_.cover(0);
}

void session::release_upstream(bool reusable) {
  if (!upstream_) {
    return;
  }
  if (upstream_->tls) {
    worker_.tls_sessions().remember(key_, upstream_->tls->native_handle());
  }
  upstream_->carried_credential = upstream_->carried_credential || carried_credential_;
  if (reusable && up_in_.empty() && !draining_) {
    worker_.pool().put(key_, std::move(upstream_));
  } else {
    error_code ignored;
    upstream_->sock.close(ignored);
  }
  upstream_.reset();
  up_in_.consume(up_in_.size());
}

}  // namespace airlock::proxy

// An exchange's first steps: the route decision (refuse, answer here, tunnel, intercept or
// forward), then for a forward the upstream head with its credential and the body's start.

#include "proxy/flow/exchange.hpp"

#include <spdlog/spdlog.h>

#include <openssl/crypto.h>

#include "proxy/flow/upstream_pool.hpp"
#include "proxy/observe/access_log.hpp"
#include "proxy/observe/metrics.hpp"
#include "proxy/observe/stats.hpp"
#include "proxy/policy/inject.hpp"
#include "proxy/policy/policy.hpp"
#include "proxy/policy/rewrite.hpp"
#include "proxy/tls/tls_session_cache.hpp"
#include "proxy/tls/tls_state.hpp"

namespace airlock::proxy {

namespace {

constexpr std::size_t read_chunk = 16 * 1024;
// What an exchange's copies of its current heads may hold without asking the budget (a
// few KiB in the common case), and the size past which one is freed after the request.
constexpr std::size_t copies_allowance = 16 * 1024;
constexpr std::size_t copy_kept = 1024;

bool is_idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    if (method == m) {
      return true;
    }
  }
  return false;
}

// The data plane dials with everything: its pool, counters, TLS session cache, the
// private-address classes and the connect timeout.
dial_context data_plane_dial(flow_context& ctx) {
  dial_context d{ctx.dns, ctx.tls != nullptr ? ctx.tls->upstream.native_handle() : nullptr,
                 &ctx.cfg.resolve};
  d.egress = &ctx.cfg.egress;
  d.self = ctx.self;
  d.connect_timeout = ctx.cfg.proxy.timeouts.connect;
  d.counters = &ctx.counters;
  d.pool = &ctx.pool;
  d.sessions = &ctx.tls_sessions;
  return d;
}

refusal bad_request(std::string detail) {
  return refusal{refusal_kind::bad_request, 400, "http_request_error", std::move(detail)};
}

}  // namespace

exchange::exchange(flow_context& ctx, const asio::any_io_executor& ex, client_side& client,
                   io_deadline& deadline, request_record& record)
    : ctx_(ctx),
      client_(client),
      deadline_(deadline),
      record_(record),
      dialer_(data_plane_dial(ctx), ex, deadline, watch_),
      copies_(ctx.heads),
      decoding_(ctx.scrubs.decodes()),
      up_in_(read_chunk, ctx.cfg.proxy.max_header_bytes + read_chunk, &ctx.heads) {}

awaitable<exchange::outcome> exchange::serve(const request& r) {
  client_version_ = r.head.ver;
  const request_view view = view_of(r.head, r.info);
  const decision_inputs inputs{ctx_.cfg, ctx_.egress, ctx_.tls != nullptr};
  route_decision d = decide_route(view, r.intercepted ? &*r.intercepted : nullptr, inputs);
  record_.mode = d.mode;
  if (d.to) {
    record_.target(d.to->auth, d.to->origin_form());
  }
  count_policy(d);
  if (const refusal* refused = std::get_if<refusal>(&d.action)) {
    co_await refuse(*refused, true);
    co_return outcome{};
  }
  if (std::holds_alternative<route_decision::answer_options>(d.action)) {
    const bool keep = co_await answer_options(r);
    co_return outcome{keep, std::nullopt};
  }
  if (std::holds_alternative<route_decision::answer_check>(d.action)) {
    const bool keep = co_await answer_check_host(r, *d.to);
    co_return outcome{keep, std::nullopt};
  }
  if (const auto* fwd = std::get_if<route_decision::forward>(&d.action)) {
    const bool keep = co_await forward(r, *d.to, fwd->rule);
    co_return outcome{keep, std::nullopt};
  }
  const outcome tunnelled = co_await connect(r, *d.to, d.action);
  co_return tunnelled;
}

awaitable<bool> exchange::forward(const request& r, destination& to,
                                  std::optional<std::size_t> rule_index) {
  const config::credential_rule* rule = rule_index ? &ctx_.cfg.credentials[*rule_index] : nullptr;
  // The decision's own strings move into the exchange's (counted by the copies budget).
  host_text_.swap(to.host_owned);
  route_path_.swap(to.target_owned);
  const absolute_target target{std::move(to.auth),
                               host_text_.empty() ? to.host_written : host_text_,
                               route_path_.empty() ? to.target_written : route_path_, to.tls};
  struct wipe_guard {
    std::string& s;
    ~wipe_guard() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe{req_out_};
  body_state body;
  body.is_head = http::iequals(r.head.method, "HEAD");
  body.idempotent = is_idempotent(r.head.method);
  choose_scrub(target.auth, rule);
  std::optional<refusal> refused = build_head(r, target, rule);
  if (!refused) {
    key_.clear();
    if (to.tls) {
      key_ = "tls:";
    }
    key_ += target.auth.to_string();
    client_.pending().consume(r.head_len);  // the head's views are unusable from here on
    client_.pending().shrink();             // the buffer's share goes back; the copies take theirs
    if (!cover_copies()) {
      refused = head_budget_refusal(ctx_.heads.limit(), false);
    } else {
      refused = start_body(r, rule, body);
    }
  }
  if (refused) {
    co_await refuse(*refused, true);
    co_return false;
  }
  const bool keep = co_await send_and_relay(r, target.auth, to.tls, rule, body);
  co_return keep;
}

void exchange::count_policy(const route_decision& d) {
  if (!d.egress) {
    return;
  }
  const verdict& v = *d.egress;
  if (v.report_only) {
    stats::add(ctx_.counters.egress_report_only);
    spdlog::info("egress report-only: {} would be refused by {}", d.to->auth.to_string(), v.rule);
  } else if (v.what == verdict::kind::telemetry) {
    ctx_.egress.count_blocked(v.entry);
    stats::add(ctx_.counters.telemetry_blocked);
  } else if (v.what != verdict::kind::allow) {
    stats::add(ctx_.counters.egress_denied);
  }
}

std::optional<refusal> exchange::build_head(const request& r, const absolute_target& target,
                                            const config::credential_rule* rule) {
  // Each value read stays pinned (not wiped by a rotation or revoke on another thread)
  // until the head holding it is built; the head itself is wiped once sent.
  secrets::store& store = ctx_.secrets;
  pins_.clear();
  const secret_lookup lookup = [this, &store](std::string_view name) {
    // The head is sized, then written, from the same pinned value: one store read each.
    for (const auto& [pinned, value] : pins_) {
      if (pinned == name) {
        return std::optional<std::string_view>(value->reveal());
      }
    }
    secrets::value_ref v = store.get(name);
    if (!v) {
      return std::optional<std::string_view>();
    }
    pins_.emplace_back(name, std::move(v));
    return std::optional<std::string_view>(pins_.back().second->reveal());
  };
  // A large head's copy is sized once, not doubled as it grows (nor the budget's share with
  // it); the room for injected fields is write_upstream_request's own.
  if (r.head_len > 4096) {
    req_out_.reserve(r.head_len + 4096 + 256);
  }
  auto missing = http::write_upstream_request(req_out_, r.head, r.info, target, rule,
                                              rule != nullptr ? &lookup : nullptr,
                                              ctx_.cfg.proxy.via, scrub_ != nullptr);
  pins_.clear();
  if (missing) {
    return missing_secret_refusal(*missing, rule->name, store.current_phase());
  }
  if (rule == nullptr) {
    return std::nullopt;
  }
  // Set in the step that read the secret: a revoke running next on this thread sees it.
  carried_credential_ = true;
  spdlog::debug("inject: rule {} for {}", rule->name, target.auth.to_string());
  ctx_.series.injected(static_cast<std::size_t>(rule - ctx_.cfg.credentials.data()));
  if (access_log_enabled()) {
    record_.rule = rule->name;
  }
  std::size_t stripped = stripped_param_count(target.origin_form, *rule);
  for (const auto& h : r.head.headers) {
    stripped += rule_strips_field(*rule, h.name) || http::iequals(h.name, "proxy-authorization");
  }
  if (stripped > 0) {
    ctx_.series.client_auth_stripped(stripped);
  }
  return std::nullopt;
}

std::optional<refusal> exchange::start_body(const request& r, const config::credential_rule* rule,
                                            body_state& body) {
  byte_buffer& in = client_.pending();
  if (r.info.body == http::body_kind::length) {
    body.buffered =
        static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), r.info.content_length));
    body.remaining = r.info.content_length - body.buffered;
    body.complete = body.remaining == 0;
  } else if (r.info.body == http::body_kind::chunked) {
    chunks_.reset();
    if (rule != nullptr) {
      chunks_.reject_trailers();
    }
    const auto fed = chunks_.feed(in.data());
    if (fed.error) {
      return bad_request("malformed chunked request body");
    }
    body.buffered = fed.consumed;
    body.complete = fed.done;
  }
  // Body bytes that came with the head go up with it even when the client asked to
  // wait for 100 Continue (RFC 9110 10.1.1 lets it send them anyway).
  body.expect_pending = r.info.expect_continue && !body.complete;
  body.replayable = body.complete && !r.info.upgrade;
  return std::nullopt;
}

void exchange::cancel() {
  error_code ignored;
  if (upstream_) {
    upstream_->sock.cancel(ignored);
  }
  watch_.cancel();
}

void exchange::close() {
  error_code ignored;
  if (upstream_) {
    upstream_->sock.close(ignored);
  }
  watch_.close();
}

bool exchange::carried_credential() const {
  return carried_credential_ || (upstream_ && upstream_->carried_credential);
}

void exchange::release_upstream(bool reusable) {
  if (!upstream_) {
    return;
  }
  if (upstream_->tls) {
    ctx_.tls_sessions.remember(key_, upstream_->tls->native_handle());
  }
  upstream_->carried_credential = upstream_->carried_credential || carried_credential_;
  if (reusable && up_in_.empty() && !client_.closing()) {
    ctx_.pool.put(key_, std::move(upstream_));
  } else {
    error_code ignored;
    upstream_->sock.close(ignored);
  }
  upstream_.reset();
  up_in_.consume(up_in_.size());
}

std::size_t exchange::copies_bytes() const {
  std::size_t n = record_.capacity();
  for (const std::string* s : {&out_, &req_out_, &host_text_, &route_path_, &key_}) {
    n += s->capacity();
  }
  return n;
}

bool exchange::cover_copies() {
  const std::size_t n = copies_bytes();
  return copies_.cover(n > copies_allowance ? n - copies_allowance : 0);
}

void exchange::shed_copies() {
  filter_.shed();
  decoding_.cover(0);
  if (copies_.held() == 0 && copies_bytes() <= copies_allowance) {
    return;  // the common case: nothing large was made
  }
  // req_out_ was wiped when its request ended; the others carry no secret.
  for (std::string* s : {&out_, &req_out_, &host_text_, &route_path_, &key_}) {
    if (s->capacity() > copy_kept) {
      std::string().swap(*s);
    }
  }
  record_.shed(copy_kept);
  copies_.cover(0);
}

}  // namespace airlock::proxy

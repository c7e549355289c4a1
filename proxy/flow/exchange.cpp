// An exchange's first steps: where the request goes, whether policy lets it, whether
// airlock answers it itself, and the upstream head with its credential.

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
#include "proxy/policy/routes.hpp"
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
      dialer_(ctx, ex, deadline, watch_),
      copies_(ctx.heads),
      up_in_(read_chunk, ctx.cfg.proxy.max_header_bytes + read_chunk, &ctx.heads) {}

awaitable<bool> exchange::serve(const request& r) {
  client_version_ = r.head.ver;
  plan p;
  std::optional<refusal> refused = resolve_target(r, p);
  if (!refused) {
    record_.target(p.target.auth, p.target.origin_form);
    refused = check_policy(p.target.auth, p.target.origin_form);
  }
  if (refused) {
    co_await refuse(*refused, true);
    co_return false;
  }
  const std::optional<bool> answered = co_await answer_here(r, p.target.auth);
  if (answered) {
    co_return *answered;
  }
  const config::credential_rule* rule =
      p.tls ? find_rule(ctx_.cfg.credentials, p.target.auth.host, p.target.auth.port, r.head.method,
                        p.target.origin_form)
            : nullptr;
  struct wipe_guard {
    std::string& s;
    ~wipe_guard() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe{req_out_};
  body_state body;
  body.is_head = http::iequals(r.head.method, "HEAD");
  body.idempotent = is_idempotent(r.head.method);
  refused = build_head(r, p, rule);
  const authority auth = std::move(p.target.auth);
  if (!refused) {
    key_.clear();
    if (p.tls) {
      key_ = "tls:";
    }
    key_ += auth.to_string();
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
  const bool keep = co_await send_and_relay(r, auth, p.tls, rule, body);
  co_return keep;
}

std::optional<refusal> exchange::resolve_target(const request& r, plan& p) {
  const auto& req = r.head;
  const auto& info = r.info;
  if (r.intercepted) {
    // Inside an intercepted tunnel the authority is the CONNECT's; the Host field may
    // only repeat it, never redirect the request (and its credential) elsewhere.
    if (req.target.empty() || req.target.front() != '/') {
      return bad_request("requests inside a CONNECT tunnel use origin-form");
    }
    if (info.host != nullptr) {
      // A Host without a port names https's default, 443 (RFC 9110 4.2.2).
      auto host = parse_host_header(info.host->value, 443);
      if (!host || *host != *r.intercepted) {
        return refusal{
            refusal_kind::host_mismatch, 421, "http_request_denied",
            "Host header does not match the CONNECT authority " + r.intercepted->to_string()};
      }
    }
    host_text_ = r.intercepted->host_text(443);
    p.target = absolute_target{*r.intercepted, host_text_, req.target};
    p.tls = true;
  } else if (!req.target.empty() && req.target.front() == '/' && !ctx_.cfg.routes.empty()) {
    const auto& routes = ctx_.cfg.routes;
    const auto routed = match_route(routes, req.target);
    if (!routed) {
      return refusal{refusal_kind::route_not_found, 404, "http_request_error",
                     "no reverse route for this path; routes: " + list_prefixes(routes)};
    }
    bool has_origin = false;
    for (const auto& h : req.headers) {
      has_origin = has_origin || http::iequals(h.name, "origin");
    }
    refusal checked = check_routed_request(
        routed->rest, info.host != nullptr ? info.host->value : std::string_view(),
        info.host != nullptr, has_origin, ctx_.cfg.proxy.route_hosts);
    if (checked.status != 0) {
      return checked;
    }
    record_.mode = traffic_mode::route;
    const config::route& rt = *routed->route;
    route_path_ = route_origin_form(rt, routed->rest);
    p.target = absolute_target{authority{rt.host, rt.port, rt.ipv6}, {}, route_path_};
    host_text_ = p.target.auth.host_text(rt.tls ? 443 : 80);
    p.target.authority_text = host_text_;
    p.tls = rt.tls;  // the server builds the TLS state when any route is https
  } else {
    auto target = parse_absolute_http(req.target);
    if (!target) {
      std::string detail = "malformed request target";
      if (!req.target.empty() && req.target.front() == '/') {
        detail =
            "airlock is a forward proxy: send absolute-form requests (http://host/path) "
            "or use CONNECT";
      } else if (req.target.size() > 8 && http::iequals(req.target.substr(0, 8), "https://")) {
        detail = "https:// URLs must be requested through CONNECT";
      }
      return bad_request(std::move(detail));
    }
    // The credential and routing decision follows the URI; a Host field saying
    // something else is an attempt to make two parsers disagree.
    if (info.host != nullptr) {
      auto host = parse_host_header(info.host->value, 80);
      if (!host || *host != target->auth) {
        return bad_request("Host header disagrees with the request target");
      }
    }
    p.target = std::move(*target);
  }
  // A credential only travels over verified TLS: plain http:// to a credential host
  // goes upstream as https (port 80 becomes 443).
  if (!p.tls && ctx_.tls != nullptr &&
      upgrades_plain_http(ctx_.cfg.credentials, p.target.auth.host, p.target.auth.port)) {
    p.tls = true;
    if (p.target.auth.port == 80) {
      p.target.auth.port = 443;
      host_text_ = p.target.auth.host_text(443);
      p.target.authority_text = host_text_;
    }
  }
  return std::nullopt;
}

std::optional<refusal> exchange::check_policy(const authority& target,
                                              std::optional<std::string_view> path) {
  const policy& p = ctx_.egress;
  const verdict v = p.decide(target.host, target.port, path);
  if (v.report_only) {
    stats::add(ctx_.counters.egress_report_only);
    spdlog::info("egress report-only: {} would be refused by {}", target.to_string(), v.rule);
    return std::nullopt;
  }
  if (v.what == verdict::kind::allow) {
    return std::nullopt;
  }
  const std::string where = target.to_string();
  refusal r;
  if (v.what == verdict::kind::telemetry) {
    p.count_blocked(v.entry);
    stats::add(ctx_.counters.telemetry_blocked);
    // A CONNECT cannot be answered with "done": 403 ends it at once. A request can, so
    // the configured answer (204 by default) stops clients from retrying.
    const int status = path ? p.telemetry_answer() : 403;
    r = refusal{refusal_kind::telemetry, status, "http_request_denied",
                "vendor telemetry to " + where + " is blocked by airlock (entry " +
                    std::string(v.rule) + "); retrying or bypassing the proxy will not help"};
    r.reason = "telemetry_blocked";
  } else {
    stats::add(ctx_.counters.egress_denied);
    r = refusal{refusal_kind::egress_denied, 403, "destination_ip_prohibited",
                "egress to " + where + " is not allowed by this workspace's policy (" +
                    std::string(v.rule) + "); retrying or bypassing the proxy will not help"};
    r.reason = "egress_denied";
  }
  r.rule = std::string(v.rule);
  spdlog::debug("policy: {} refused ({} {})", where, r.reason, r.rule);
  return r;
}

std::optional<refusal> exchange::build_head(const request& r, const plan& p,
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
  auto missing =
      http::write_upstream_request(req_out_, r.head, r.info, p.target, rule,
                                   rule != nullptr ? &lookup : nullptr, ctx_.cfg.proxy.via);
  pins_.clear();
  if (missing) {
    return missing_secret_refusal(*missing, rule->name, store.current_phase());
  }
  if (rule == nullptr) {
    return std::nullopt;
  }
  // Set in the step that read the secret: a revoke running next on this thread sees it.
  carried_credential_ = true;
  spdlog::debug("inject: rule {} for {}", rule->name, p.target.auth.to_string());
  ctx_.series.injected(static_cast<std::size_t>(rule - ctx_.cfg.credentials.data()));
  if (access_log_enabled()) {
    record_.rule = rule->name;
  }
  std::size_t stripped = 0;
  for (const auto& h : r.head.headers) {
    stripped += rule_sets_field(*rule, h.name) || http::iequals(h.name, "proxy-authorization");
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

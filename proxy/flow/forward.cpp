// The forward path: an absolute-form request relayed to its upstream over a pooled
// keep-alive connection, bodies streamed both ways as they arrive.

#include <spdlog/spdlog.h>

#include <openssl/crypto.h>

#include "proxy/flow/session.hpp"
#include "proxy/flow/worker.hpp"
#include "proxy/http/intermediary.hpp"
#include "proxy/observe/access_log.hpp"
#include "proxy/observe/json.hpp"
#include "proxy/policy/inject.hpp"
#include "proxy/policy/rewrite.hpp"
#include "proxy/policy/routes.hpp"
#include "proxy/tls/tls_state.hpp"

namespace airlock::proxy {

namespace {

// How long a request with "Expect: 100-continue" waits for the upstream's interim
// answer before airlock tells the client to go ahead (curl's own wait is 1 s).
constexpr auto expect_window = std::chrono::milliseconds(1000);
constexpr std::string_view continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    if (method == m) {
      return true;
    }
  }
  return false;
}

refusal bad_request(std::string detail) {
  return refusal{400, "http_request_error", std::move(detail)};
}

}  // namespace

awaitable<bool> session::serve_forward(std::size_t head_len) {
  std::optional<absolute_target> target;
  tls_state* tls = worker_.tls();
  bool upstream_tls = false;
  if (intercepted_) {
    // Inside an intercepted tunnel the authority is the CONNECT's; the Host field may
    // only repeat it, never redirect the request (and its credential) elsewhere.
    if (req_.target.empty() || req_.target.front() != '/') {
      refusal_ = bad_request("requests inside a CONNECT tunnel use origin-form");
      co_await respond_error(true);
      co_return false;
    }
    if (req_info_.host != nullptr) {
      // A Host without a port names https's default, 443 (RFC 9110 4.2.2).
      auto host = parse_host_header(req_info_.host->value, 443);
      if (!host || *host != *intercepted_) {
        refusal_ = refusal{
            421, "http_request_denied",
            "Host header does not match the CONNECT authority " + intercepted_->to_string()};
        co_await respond_error(true);
        co_return false;
      }
    }
    host_text_ = intercepted_->host_text(443);
    target = absolute_target{*intercepted_, host_text_, req_.target};
    upstream_tls = true;
  } else if (!req_.target.empty() && req_.target.front() == '/' && !worker_.cfg().routes.empty()) {
    const auto& routes = worker_.cfg().routes;
    const auto routed = match_route(routes, req_.target);
    if (!routed) {
      refusal_ = refusal{404, "http_request_error",
                         "no reverse route for this path; routes: " + list_prefixes(routes)};
      co_await respond_error(true);
      co_return false;
    }
    bool has_origin = false;
    for (const auto& h : req_.headers) {
      has_origin = has_origin || http::iequals(h.name, "origin");
    }
    refusal_ = check_routed_request(
        routed->rest, req_info_.host != nullptr ? req_info_.host->value : std::string_view(),
        req_info_.host != nullptr, has_origin, worker_.cfg().proxy.route_hosts);
    if (refusal_.status != 0) {
      co_await respond_error(true);
      co_return false;
    }
    mode_ = traffic_mode::route;
    const config::route& rt = *routed->route;
    route_path_ = route_origin_form(rt, routed->rest);
    target = absolute_target{authority{rt.host, rt.port, rt.ipv6}, {}, route_path_};
    host_text_ = target->auth.host_text(rt.tls ? 443 : 80);
    target->authority_text = host_text_;
    upstream_tls = rt.tls;  // the server builds the TLS state when any route is https
  } else {
    target = parse_absolute_http(req_.target);
    if (!target) {
      std::string detail = "malformed request target";
      if (!req_.target.empty() && req_.target.front() == '/') {
        detail =
            "airlock is a forward proxy: send absolute-form requests (http://host/path) "
            "or use CONNECT";
      } else if (req_.target.size() > 8 && http::iequals(req_.target.substr(0, 8), "https://")) {
        detail = "https:// URLs must be requested through CONNECT";
      }
      refusal_ = bad_request(std::move(detail));
      co_await respond_error(true);
      co_return false;
    }
    // The credential and routing decision follows the URI; a Host field saying
    // something else is an attempt to make two parsers disagree.
    if (req_info_.host != nullptr) {
      auto host = parse_host_header(req_info_.host->value, 80);
      if (!host || *host != target->auth) {
        refusal_ = bad_request("Host header disagrees with the request target");
        co_await respond_error(true);
        co_return false;
      }
    }
  }
  // A credential only travels over verified TLS: plain http:// to a credential host
  // goes upstream as https (port 80 becomes 443).
  if (!upstream_tls && tls != nullptr &&
      upgrades_plain_http(worker_.cfg().credentials, target->auth.host, target->auth.port)) {
    upstream_tls = true;
    if (target->auth.port == 80) {
      target->auth.port = 443;
      host_text_ = target->auth.host_text(443);
      target->authority_text = host_text_;
    }
  }

  access_target(target->auth, target->origin_form);
  if (policy_refuses(target->auth, target->origin_form)) {
    co_await respond_error(true);
    co_return false;
  }
  const std::optional<bool> answered = co_await answer_here(target->auth, head_len);
  if (answered) {
    co_return *answered;
  }

  const config::credential_rule* rule =
      upstream_tls ? find_rule(worker_.cfg().credentials, target->auth.host, target->auth.port,
                               req_.method, target->origin_form)
                   : nullptr;
  struct wipe_guard {
    std::string& s;
    ~wipe_guard() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe{req_out_};
  // Each value read stays pinned (not wiped by a rotation or revoke on another thread)
  // until the head holding it is built; the head itself is wiped once sent.
  secrets::store& store = worker_.secrets();
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
  const bool via = worker_.cfg().proxy.via;
  // A large head's copy is sized once, not doubled as it grows (nor the budget's share with
  // it); the room for injected fields is write_upstream_request's own.
  if (head_len > 4096) {
    req_out_.reserve(head_len + 4096 + 256);
  }
  auto missing = http::write_upstream_request(req_out_, req_, req_info_, *target, rule,
                                              rule != nullptr ? &lookup : nullptr, via);
  pins_.clear();
  if (missing) {
    refusal_ = missing_secret_refusal(*missing, rule->name, store.current_phase());
    co_await respond_error(true);
    co_return false;
  }
  if (rule != nullptr) {
    // Set in the step that read the secret: a revoke running next on this thread sees it.
    carried_credential_ = true;
    spdlog::debug("inject: rule {} for {}", rule->name, target->auth.to_string());
    const auto& rules = worker_.cfg().credentials;
    worker_.series().injected(static_cast<std::size_t>(rule - rules.data()));
    if (access_log_enabled()) {
      log_rule_ = rule->name;
    }
    std::size_t stripped = 0;
    for (const auto& h : req_.headers) {
      stripped += rule_sets_field(*rule, h.name) || http::iequals(h.name, "proxy-authorization");
    }
    if (stripped > 0) {
      worker_.series().client_auth_stripped(stripped);
    }
  }

  const bool is_head = http::iequals(req_.method, "HEAD");
  // A request the upstream may have received whole is sent again only when repeating it
  // is harmless (RFC 9110 9.2.2): a POST could charge the agent's account twice.
  const bool idempotent = is_idempotent(req_.method);
  const http::version client_version = req_.ver;
  const authority auth = std::move(target->auth);
  key_.clear();
  if (upstream_tls) {
    key_ = "tls:";
  }
  key_ += auth.to_string();
  in_.consume(head_len);  // req_ and target point into in_: unusable from here on
  in_.shrink();           // the buffer's share goes back; the copies take theirs
  if (!cover_copies()) {
    refusal_ = head_budget_refusal(worker_.heads().limit(), false);
    co_await respond_error(true);
    co_return false;
  }

  // How much of the body arrived with the head.
  std::size_t buffered = 0;
  bool body_complete = true;
  std::uint64_t remaining = 0;
  if (req_info_.body == http::body_kind::length) {
    buffered =
        static_cast<std::size_t>(std::min<std::uint64_t>(in_.size(), req_info_.content_length));
    remaining = req_info_.content_length - buffered;
    body_complete = remaining == 0;
  } else if (req_info_.body == http::body_kind::chunked) {
    chunks_.reset();
    if (rule != nullptr) {
      chunks_.reject_trailers();
    }
    const auto r = chunks_.feed(in_.data());
    if (r.error) {
      refusal_ = bad_request("malformed chunked request body");
      co_await respond_error(true);
      co_return false;
    }
    buffered = r.consumed;
    body_complete = r.done;
  }
  // Body bytes that came with the head go up with it even when the client asked to
  // wait for 100 Continue (RFC 9110 10.1.1 lets it send them anyway).
  bool expect_pending = req_info_.expect_continue && !body_complete;
  // A request held entirely in memory can be sent again if a pooled connection
  // turns out to be dead; one partly streamed from the client cannot.
  const bool replayable = body_complete && !req_info_.upgrade;

  bool client_keep_alive = req_info_.keep_alive;
  std::size_t resp_head_len = 0;
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    const refusal failed = co_await connect_upstream(auth, attempt == 0, reused, upstream_tls,
                                                     replayable && idempotent);
    if (failed.status != 0) {
      if (body_complete) {
        in_.consume(buffered);
      }
      refusal_ = failed;
      co_await respond_error(!body_complete || !client_keep_alive);
      co_return (body_complete && client_keep_alive);
    }
    // A revoke that ran while this request was dialled closed nothing it could see: the
    // head already holds the key, so it is checked here, on the step that would send it.
    if (rule != nullptr && worker_.secrets().revoked()) {
      release_upstream(false);
      refusal_ = missing_secret_refusal("", rule->name, secrets::phase::revoked);
      co_await respond_error(true);
      co_return false;
    }
    deadline_.arm(worker_.cfg().proxy.timeouts.idle);
    if (!co_await write_all(upstream(), req_out_, in_.data().substr(0, buffered))) {
      release_upstream(false);
      if (reused && attempt == 0) {
        continue;
      }
      refusal_ = refusal{502, "connection_terminated",
                         "upstream closed the "
                         "connection while the request was sent"};
      co_await respond_error(true);
      co_return false;
    }
    if (!body_complete) {
      // Streamed from here on: what was sent is gone from the buffer, and no retry.
      in_.consume(buffered);
      buffered = 0;
    }
    if (!body_complete && !expect_pending) {
      const auto st =
          co_await relay_body(client(), in_, upstream(), req_info_.body, remaining, {}, false);
      if (st != relay_status::done) {
        release_upstream(false);
        if (st == relay_status::bad_framing) {
          refusal_ = bad_request("malformed chunked request body");
          co_await respond_error(true);
        } else if (st == relay_status::sink_failed) {
          refusal_ = refusal{502, "connection_terminated",
                             "upstream closed the connection during the request body"};
          co_await respond_error(true);
        }
        co_return false;
      }
    }

    // Response heads: interim ones first (100 Continue drives a pending body).
    bool retry = false;
    for (;;) {
      if (expect_pending) {
        deadline_.arm(expect_window);
      }
      const auto st = co_await read_response_head(resp_head_len, is_head);
      if (st == upstream_head::timed_out && expect_pending) {
        // The upstream does not send 100 Continue: let the client send its body anyway.
        resp_head_len = 0;
      } else if (st != upstream_head::ok) {
        release_upstream(false);
        if (st == upstream_head::closed_before_response && reused && attempt == 0 && replayable &&
            idempotent) {
          retry = true;
          break;
        }
        refusal r{502, "http_protocol_error", std::string(upstream_error_)};
        if (st == upstream_head::timed_out) {
          r = refusal{504, "http_response_timeout", "upstream sent no response in time"};
        } else if (st == upstream_head::over_budget) {
          r = head_budget_refusal(worker_.heads().limit(), true);
        } else if (st != upstream_head::invalid) {
          r = refusal{502, "connection_terminated",
                      "upstream closed the connection before "
                      "responding"};
        }
        if (body_complete) {
          in_.consume(buffered);
        }
        refusal_ = r;
        co_await respond_error(true);
        co_return false;
      }
      const int status = resp_head_len == 0 ? 100 : resp_.status;
      if (status >= 100 && status < 200 && status != 101) {
        if (resp_head_len == 0 || client_version == http::version::http11) {
          if (resp_head_len == 0) {
            out_.assign(continue_100);
          } else {
            http::write_client_response(out_, resp_, resp_info_, client_version, true, via);
          }
          if (!co_await write_all(client(), out_)) {
            release_upstream(false);
            co_return false;
          }
        }
        up_in_.consume(resp_head_len);
        if (expect_pending && status == 100) {
          expect_pending = false;
          const auto body =
              co_await relay_body(client(), in_, upstream(), req_info_.body, remaining, {}, false);
          if (body != relay_status::done) {
            release_upstream(false);
            co_return false;
          }
        }
        continue;
      }
      break;
    }
    if (retry) {
      continue;
    }
    break;
  }
  if (body_complete) {
    in_.consume(buffered);
  }
  if (expect_pending) {
    // A final answer came before the body: the client may or may not send it now,
    // so neither connection can carry another request.
    client_keep_alive = false;
  }

  const double upstream_s = std::chrono::duration<double>(clock::now() - req_start_).count();
  worker_.series().upstream_latency(mode_, upstream_s);
  upstream_ms_ = upstream_s * 1000;
  worker_.series().request(mode_, resp_.status);
  if (resp_.status == 101) {
    // Only to what was asked for, WebSocket: after h2c, airlock would relay unread HTTP/2.
    if (!req_info_.upgrade || !http::switches_to_relayed_upgrade(resp_)) {
      release_upstream(false);
      refusal_ = refusal{502, "http_protocol_error", "upstream switched to an unasked protocol"};
      co_await respond_error(true);
      co_return false;
    }
    http::write_client_response(out_, resp_, resp_info_, client_version, false, via);
    up_in_.consume(resp_head_len);
    if (co_await write_all(client(), out_)) {
      co_await tunnel(upstream());
    }
    co_return false;
  }
  // After a final answer to a pending Expect, the upstream may still be waiting for a
  // body that will never come: it is not reused.
  const bool keep = co_await relay_response(resp_head_len, client_keep_alive, !expect_pending);
  access_end(resp_.status, "");
  co_return keep;
}

}  // namespace airlock::proxy

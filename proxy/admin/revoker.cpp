#include "proxy/admin/revoker.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>

#include "proxy/admin/admin_api.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/observe/json.hpp"

namespace airlock::proxy::control {

namespace {

using held_values = std::vector<std::pair<std::string, secrets::value_ref>>;

// The values the hooks need, pinned before the wipe so they outlive it, and no longer than
// the hooks run.
held_values pin_hook_values(const config::config& cfg, const secrets::store& store) {
  held_values held;
  for (const auto& src : cfg.secrets) {
    if (src.revoke) {
      for (const auto& [field, value] : src.revoke->headers) {
        for (const auto& part : value.parts) {
          if (part.secret) {
            held.emplace_back(part.text, store.get(part.text));
          }
        }
      }
    }
  }
  return held;
}

void log_hook(const hook_result& h) {
  if (h.error.empty()) {
    spdlog::info("revoke hook for {}: {} {} answered {}", h.secret, h.method, h.url, h.status);
  } else {
    spdlog::warn("revoke hook for {}: {} {} failed: {}", h.secret, h.method, h.url, h.error);
  }
}

}  // namespace

std::optional<std::string> append_hook_request(std::string& out, const config::revoke_hook& hook,
                                               const secret_lookup& lookup) {
  out += hook.method;
  out += ' ';
  out += hook.path;
  out += " HTTP/1.1\r\nHost: ";
  out += authority{hook.host, hook.port, hook.ipv6}.host_text(hook.tls ? 443 : 80);
  out += "\r\nUser-Agent: airlock-revoke\r\nContent-Length: 0\r\nConnection: close\r\n";
  for (const auto& [name, value] : hook.headers) {
    out += name;
    out += ": ";
    if (auto missing = render(out, value, lookup)) {
      return missing;
    }
    out += "\r\n";
  }
  out += "\r\n";
  return std::nullopt;
}

awaitable<hook_result> send_revoke_hook(const config::secret_source& source,
                                        const secret_lookup& lookup, const dial_context* with) {
  const config::revoke_hook& hook = *source.revoke;
  hook_result result{source.name, hook.method, hook.url, 0, {}};
  std::string request;
  request.reserve(8192);  // room first: appending a secret never moves it and leaves a copy
  if (auto missing = append_hook_request(request, hook, lookup)) {
    OPENSSL_cleanse(request.data(), request.size());
    result.error = "secret " + *missing + " had no value to revoke with";
    co_return result;
  }
  if (with == nullptr) {
    OPENSSL_cleanse(request.data(), request.size());
    result.error = "no outbound client configured";
    co_return result;
  }
  const http_call call{dial_target{authority{hook.host, hook.port, hook.ipv6}, hook.tls},
                       hook.method, std::span<char>(request.data(), request.size()),
                       revoker::max_answer, clock::now() + revoker::hook_timeout};
  const http_result answer = co_await send_http(call, *with);  // wipes the request
  if (const auto* failed = std::get_if<client_error>(&answer)) {
    result.error = failed->timed_out
                       ? "no answer within " + std::to_string(revoker::hook_timeout.count()) + " s"
                       : failed->detail;
    co_return result;
  }
  const int status = std::get<http_response>(answer).status;
  if (status < 100 || status > 599) {
    result.error = "not an HTTP response";
  } else {
    result.status = status;
  }
  co_return result;
}

std::string receipt_json(const secrets::store::revoke_receipt& receipt,
                         const std::vector<hook_result>& hooks, const revoke_state& state) {
  const bool took =
      state.phase == "revoked" && state.still_present.empty() && !state.connections_pending;
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.field("result", took ? "revoked" : "incomplete");
  w.field("phase", state.phase);
  w.field("already_revoked", receipt.already);
  w.field("time", utc_timestamp(receipt.at));
  w.key("revoked");
  w.begin_array();
  for (const auto& name : receipt.names) {
    w.value(name);
  }
  w.end_array();
  w.key("still_present");
  w.begin_array();
  for (const auto& name : state.still_present) {
    w.value(name);
  }
  w.end_array();
  w.field("connections_closed", state.connections_closed);
  w.field("connections_pending", state.connections_pending);
  w.key("hooks");
  w.begin_array();
  for (const auto& h : hooks) {
    w.begin_object();
    w.field("secret", h.secret);
    w.field("method", h.method);
    w.field("url", h.url);
    if (h.status != 0) {
      w.field("status", h.status);
    } else {
      w.null_field("status");
    }
    if (!h.error.empty()) {
      w.field("error", h.error);
    }
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return out;
}

revoker::revoker(const config::config& cfg, secrets::store& store) : cfg_(cfg), store_(store) {}

awaitable<std::string> revoker::revoke() {
  const auto ex = co_await asio::this_coro::executor;
  held_values held = pin_hook_values(cfg_, store_);
  const auto receipt = store_.revoke();
  if (!receipt.already) {
    // Set before the first suspension: a call arriving meanwhile waits on it.
    finished_ = std::make_shared<asio::steady_timer>(ex, clock::time_point::max());
    // Wiped first, so nothing opened from here on gets a credential; then whatever was
    // sent with one (an upgraded WebSocket, a pooled upstream connection) is cut.
    co_await close_connections();
    const secret_lookup lookup = [&held](std::string_view name) -> std::optional<std::string_view> {
      for (const auto& [n, v] : held) {
        if (n == name && v) {
          return v->reveal();
        }
      }
      return std::nullopt;
    };
    co_await run_hooks(lookup);
    spdlog::warn("revoked {} secrets, closed {} connections that carried one", receipt.names.size(),
                 connections_closed_);
    finished_->cancel();
    finished_.reset();
  } else if (finished_) {
    const auto finished = finished_;
    co_await finished->async_wait(use_tuple);
  }
  held.clear();  // the last references: the values are wiped here
  revoke_state state;
  state.connections_closed = connections_closed_;
  state.connections_pending = connections_pending_;
  state.phase = secrets::phase_name(store_.current_phase());
  for (const auto& e : store_.status()) {
    if (e.present) {
      state.still_present.push_back(e.name);
    }
  }
  co_return receipt_json(receipt, hooks_, state);
}

awaitable<void> revoker::close_connections() {
  if (!closer_) {
    co_return;
  }
  if (!closer_thread_) {
    closer_thread_.emplace(1);
  }
  auto task = [close = closer_]() -> awaitable<std::pair<std::size_t, bool>> { co_return close(); };
  auto closing = asio::co_spawn(*closer_thread_, std::move(task), use_tuple);
  const auto [failed, closed] = co_await std::move(closing);
  connections_closed_ = closed.first;
  connections_pending_ = failed != nullptr || !closed.second;
}

awaitable<void> revoker::run_hooks(const secret_lookup& lookup) {
  std::vector<const config::secret_source*> sources;
  for (const auto& src : cfg_.secrets) {
    if (src.revoke) {
      sources.push_back(&src);
    }
  }
  if (sources.empty()) {
    co_return;
  }
  // All at once, each under its own deadline; the receipt lists them in config order.
  hooks_.resize(sources.size());
  const auto ex = co_await asio::this_coro::executor;
  asio::steady_timer all_done(ex, clock::time_point::max());
  std::size_t remaining = sources.size();
  const dial_context* with = outbound_ ? &*outbound_ : nullptr;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    asio::co_spawn(ex, send_revoke_hook(*sources[i], lookup, with),
                   [this, i, src = sources[i], &remaining, &all_done](std::exception_ptr failed,
                                                                      hook_result r) {
                     if (failed) {
                       r = hook_result{src->name, src->revoke->method, src->revoke->url, 0,
                                       "the hook could not be sent"};
                     }
                     log_hook(r);
                     hooks_[i] = std::move(r);
                     if (--remaining == 0) {
                       all_done.cancel();
                     }
                   });
  }
  co_await all_done.async_wait(use_tuple);
}

}  // namespace airlock::proxy::control

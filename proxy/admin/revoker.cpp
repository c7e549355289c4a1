#include "proxy/admin/revoker.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "proxy/admin/admin_api.hpp"
#include "proxy/http/authority.hpp"
#include "proxy/io/asio.hpp"
#include "proxy/observe/json.hpp"
#include "proxy/policy/inject.hpp"
#include "proxy/tls/tls_state.hpp"

namespace airlock::proxy::control {

namespace {

// Connects (resolve: overrides first), handshakes when TLS, writes head, reads the
// status line. Sets result.status or result.error.
awaitable<void> exchange(const config::config& cfg, const config::revoke_hook& hook,
                         ssl::context* tls_ctx, const std::string& head, hook_result& result) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  tcp::socket sock(executor);
  std::string host = hook.host;
  std::string port = std::to_string(hook.port);
  const std::string key = authority{hook.host, hook.port, hook.ipv6}.to_string();
  if (const auto it = cfg.resolve.find(key); it != cfg.resolve.end()) {
    host = it->second.host;
    port = std::to_string(it->second.port);
  }
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, use_tuple);
  if (rec) {
    result.error = "cannot resolve " + hook.host + ": " + rec.message();
    co_return;
  }
  auto [cec, ep] = co_await asio::async_connect(sock, endpoints, use_tuple);
  if (cec) {
    result.error = "cannot connect to " + key + ": " + cec.message();
    co_return;
  }
  asio::streambuf in(16 * 1024);
  std::size_t n = 0;
  error_code ec;
  if (tls_ctx != nullptr) {
    ssl::stream<tcp::socket&> tls(sock, *tls_ctx);
    if (!prepare_upstream_tls(tls.native_handle(), hook.host,
                              authority{hook.host, hook.port, hook.ipv6}.is_ip())) {
      result.error = "cannot verify the name " + hook.host;
      co_return;
    }
    std::tie(ec) = co_await tls.async_handshake(ssl::stream_base::client, use_tuple);
    if (ec) {
      result.error = "TLS handshake with " + key + " failed: " + ec.message();
      co_return;
    }
    std::tie(ec, n) = co_await asio::async_write(tls, asio::buffer(head), use_tuple);
    if (!ec) {
      std::tie(ec, n) = co_await asio::async_read_until(tls, in, "\r\n", use_tuple);
    }
  } else {
    std::tie(ec, n) = co_await asio::async_write(sock, asio::buffer(head), use_tuple);
    if (!ec) {
      std::tie(ec, n) = co_await asio::async_read_until(sock, in, "\r\n", use_tuple);
    }
  }
  if (ec) {
    result.error = "no answer from " + key + ": " + ec.message();
    co_return;
  }
  const std::string_view line(static_cast<const char*>(in.data().data()), n);
  if (line.size() >= 12 && line.substr(0, 5) == "HTTP/" && line[8] == ' ') {
    result.status = std::atoi(std::string(line.substr(9, 3)).c_str());
  }
  if (result.status < 100 || result.status > 599) {
    result.status = 0;
    result.error = "not an HTTP response";
  }
}

}  // namespace

hook_result send_revoke_hook(
    const config::config& cfg, const config::secret_source& source,
    const std::function<std::optional<std::string_view>(std::string_view)>& lookup) {
  const config::revoke_hook& hook = *source.revoke;
  hook_result result{source.name, hook.method, hook.url, 0, {}};
  std::string head;
  head.reserve(8192);  // room first: appending a secret never moves it and leaves a copy
  head += hook.method;
  head += ' ';
  head += hook.path;
  head += " HTTP/1.1\r\nHost: ";
  head += authority{hook.host, hook.port, hook.ipv6}.host_text(hook.tls ? 443 : 80);
  head += "\r\nUser-Agent: airlock-revoke\r\nContent-Length: 0\r\nConnection: close\r\n";
  for (const auto& [name, value] : hook.headers) {
    head += name;
    head += ": ";
    if (auto missing = render(head, value, lookup)) {
      OPENSSL_cleanse(head.data(), head.size());
      result.error = "secret " + *missing + " had no value to revoke with";
      return result;
    }
    head += "\r\n";
  }
  head += "\r\n";

  std::optional<ssl::context> tls_ctx;
  if (hook.tls) {
    try {
      tls_ctx.emplace(make_upstream_context(cfg.tls));
    } catch (const std::exception& e) {
      OPENSSL_cleanse(head.data(), head.size());
      result.error = e.what();
      return result;
    }
  }
  asio::io_context io;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await exchange(cfg, hook, tls_ctx ? &*tls_ctx : nullptr, head, result);
        done = true;
      },
      asio::detached);
  io.run_for(revoker::hook_timeout);
  OPENSSL_cleanse(head.data(), head.size());
  if (!done) {
    result.status = 0;
    result.error = "no answer within " + std::to_string(revoker::hook_timeout.count()) + " s";
  }
  return result;
}

std::string receipt_json(const secrets::store::revoke_receipt& receipt,
                         const std::vector<hook_result>& hooks, const revoke_state& state) {
  const bool took =
      state.phase == "revoked" && state.still_present.empty() && !state.connections_pending;
  std::string out = took ? "{\"result\":\"revoked\"" : "{\"result\":\"incomplete\"";
  out += ",\"phase\":";
  append_json_string(out, state.phase);
  out += ",\"already_revoked\":";
  out += receipt.already ? "true" : "false";
  out += ",\"time\":";
  append_json_string(out, utc_timestamp(receipt.at));
  out += ",\"revoked\":[";
  for (std::size_t i = 0; i < receipt.names.size(); ++i) {
    out += i > 0 ? "," : "";
    append_json_string(out, receipt.names[i]);
  }
  out += "],\"still_present\":[";
  for (std::size_t i = 0; i < state.still_present.size(); ++i) {
    out += i > 0 ? "," : "";
    append_json_string(out, state.still_present[i]);
  }
  out += "],\"connections_closed\":";
  out += std::to_string(state.connections_closed);
  out += state.connections_pending ? ",\"connections_pending\":true"
                                   : ",\"connections_pending\":false";
  out += ",\"hooks\":[";
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const auto& h = hooks[i];
    out += i > 0 ? ",{\"secret\":" : "{\"secret\":";
    append_json_string(out, h.secret);
    out += ",\"method\":";
    append_json_string(out, h.method);
    out += ",\"url\":";
    append_json_string(out, h.url);
    out += ",\"status\":";
    out += h.status != 0 ? std::to_string(h.status) : "null";
    if (!h.error.empty()) {
      out += ",\"error\":";
      append_json_string(out, h.error);
    }
    out += '}';
  }
  out += "]}";
  return out;
}

revoker::revoker(const config::config& cfg, secrets::store& store) : cfg_(cfg), store_(store) {}

std::string revoker::revoke() {
  std::lock_guard lock(mutex_);
  // The values the hooks need, held past the wipe and no longer than the hooks run.
  std::vector<std::pair<std::string, secrets::value_ref>> held;
  for (const auto& src : cfg_.secrets) {
    if (src.revoke) {
      for (const auto& [field, value] : src.revoke->headers) {
        for (const auto& part : value.parts) {
          if (part.secret) {
            held.emplace_back(part.text, store_.get(part.text));
          }
        }
      }
    }
  }
  const auto receipt = store_.revoke();
  if (!receipt.already && closer_) {
    // Wiped first, so nothing opened from here on gets a credential; then whatever was
    // sent with one (an upgraded WebSocket, a pooled upstream connection) is cut.
    bool complete = false;
    std::tie(connections_closed_, complete) = closer_();
    connections_pending_ = !complete;
  }
  if (!receipt.already) {
    const auto lookup = [&held](std::string_view name) -> std::optional<std::string_view> {
      for (const auto& [n, v] : held) {
        if (n == name && v) {
          return v->reveal();
        }
      }
      return std::nullopt;
    };
    for (const auto& src : cfg_.secrets) {
      if (src.revoke) {
        hooks_.push_back(send_revoke_hook(cfg_, src, lookup));
        const auto& h = hooks_.back();
        if (h.error.empty()) {
          spdlog::info("revoke hook for {}: {} {} answered {}", h.secret, h.method, h.url,
                       h.status);
        } else {
          spdlog::warn("revoke hook for {}: {} {} failed: {}", h.secret, h.method, h.url, h.error);
        }
      }
    }
    spdlog::warn("revoked {} secrets, closed {} connections that carried one", receipt.names.size(),
                 connections_closed_);
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
  return receipt_json(receipt, hooks_, state);
}

}  // namespace airlock::proxy::control

#pragma once
// airlock's own HTTP listeners, off the data plane: the admin API and the metrics
// listener (/healthz, /readyz), served on one thread of their own (the control loop) so a
// slow admin client never delays a proxied byte. Revoke runs there too, as a coroutine,
// so the listeners keep answering while its hooks wait on issuers.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "config/model.hpp"
#include "proxy/admin/admin_api.hpp"
#include "proxy/admin/admin_socket.hpp"
#include "proxy/admin/connection_slots.hpp"
#include "proxy/flow/dns_pool.hpp"
#include "proxy/io/asio.hpp"
#include "proxy/tls/tls_state.hpp"
#include "secrets/store.hpp"

namespace airlock::proxy::control {

class control_server {
 public:
  // Reads the admin token (admin.token_file) and binds the listeners: the admin socket,
  // the admin TCP port when configured, metrics (port 0 picks a free port). upstream_tls:
  // the data plane's upstream client context, which revoke hooks share; without one (no
  // interception) a context of its own is made when a hook needs TLS. Throws
  // std::runtime_error naming what failed (start-up only).
  control_server(const config::config& cfg, secrets::store& store, SSL_CTX* upstream_tls);
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

  // What GET /metrics answers (the text exposition format). Before start() only.
  void set_metrics(std::function<std::string()> render) { metrics_text_ = std::move(render); }

  void start();
  void stop();

  // The TCP admin listener, when admin.listen is configured.
  std::optional<tcp::endpoint> admin_endpoint() const;
  const std::string& admin_socket() const { return socket_path_; }
  tcp::endpoint metrics_endpoint() const { return metrics_acceptor_.local_endpoint(); }
  admin_api& admin() { return *admin_; }
  revoker& revoke_all() { return revoker_; }

  // Revokes on the control loop and waits for the receipt (SIGTERM). Should the loop not
  // run it within revoke_wait, the store is wiped from here instead (no hooks, no receipt).
  std::string revoke_and_wait();
  static constexpr auto revoke_wait = std::chrono::seconds(20);

  // Connections each listener holds at once (see connection_slots): a few KiB each.
  static constexpr std::size_t max_connections = 32;
  // Refusals being written at once (listener full, UID not allowed); beyond, a refused
  // connection is closed without an answer, so a flood of them costs nothing.
  static constexpr std::size_t max_refusing = 64;

 private:
  enum class listener { admin, metrics };
  awaitable<void> accept_tcp(tcp::acceptor& acceptor, listener which);
  awaitable<void> accept_unix();
  awaitable<void> pause_after_accept_error();
  // What revoke hooks go out with: lookups, and a TLS context when a hook needs one.
  void set_up_hooks(const config::config& cfg, SSL_CTX* upstream_tls);
  template <class Socket>
  void spawn(Socket socket, listener which, connection_slots& slots,
             std::optional<control_response> refusal);
  void warn_refused_uid(std::optional<std::uint32_t> uid, std::uint32_t own);
  awaitable<control_response> handle(listener which, const control_request& req);

  secrets::store& store_;
  const config::admin_config& admin_cfg_;
  // Before io_: the connections' coroutine frames, destroyed with io_, release into these.
  connection_slots socket_slots_{max_connections};
  connection_slots admin_slots_{max_connections};
  connection_slots metrics_slots_{max_connections};
  std::size_t refusing_ = 0;
  std::chrono::steady_clock::time_point uid_warned_at_{};
  std::size_t uid_refusals_unlogged_ = 0;
  asio::io_context io_{1};
  std::string socket_path_;
  local_protocol::acceptor socket_acceptor_{io_};
  tcp::acceptor admin_acceptor_{io_};
  tcp::acceptor metrics_acceptor_{io_};
  // After io_, so gone before it: the lookups answer on io_, and the revoker's timers and
  // the closer's thread (which answers there too) end first.
  std::optional<ssl::context> own_tls_;
  std::unique_ptr<dns_pool> dns_;
  revoker revoker_;
  std::unique_ptr<admin_api> admin_;
  std::function<std::string()> metrics_text_;
  std::thread thread_;
};

// Reads an admin token file: one line, trailing newline trimmed, at least 16 bytes.
// Throws std::runtime_error naming the file and the problem.
secrets::secret_value read_token_file(const std::string& path);

}  // namespace airlock::proxy::control

#pragma once
// airlock's own HTTP listeners, off the data plane: the admin API and the metrics
// listener (/healthz, /readyz), served on one thread of their own so a slow admin
// client never delays a proxied byte.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "config/model.hpp"
#include "proxy/admin/admin_api.hpp"
#include "proxy/admin/admin_socket.hpp"
#include "proxy/admin/connection_slots.hpp"
#include "proxy/io/asio.hpp"
#include "secrets/store.hpp"

namespace airlock::proxy::control {

class control_server {
 public:
  // Reads the admin token (admin.token_file) and binds the listeners: the admin socket,
  // the admin TCP port when configured, metrics (port 0 picks a free port). Throws
  // std::runtime_error naming what failed (start-up only).
  control_server(const config::config& cfg, secrets::store& store);
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
  template <class Socket>
  void spawn(Socket socket, listener which, connection_slots& slots,
             std::optional<control_response> refusal);
  void warn_refused_uid(std::optional<std::uint32_t> uid, std::uint32_t own);
  control_response handle(listener which, const control_request& req);

  secrets::store& store_;
  revoker revoker_;
  std::unique_ptr<admin_api> admin_;
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
  std::function<std::string()> metrics_text_;
  std::thread thread_;
};

// Reads an admin token file: one line, trailing newline trimmed, at least 16 bytes.
// Throws std::runtime_error naming the file and the problem.
secrets::secret_value read_token_file(const std::string& path);

}  // namespace airlock::proxy::control

#include "proxy/admin/control_server.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <fstream>
#include <future>
#include <iterator>
#include <stdexcept>

#include <boost/beast/core/tcp_stream.hpp>

#include "proxy/admin/control_connection.hpp"
#include "proxy/admin/health.hpp"
#include "proxy/admin/read_fully.hpp"

namespace airlock::proxy::control {

namespace beast = boost::beast;

namespace {

tcp::endpoint bind(tcp::acceptor& acceptor, const config::endpoint& at, std::string_view what) {
  error_code ec;
  const auto address = asio::ip::make_address(at.host, ec);
  if (ec) {
    throw std::runtime_error(std::string(what) + ".listen: " + at.host + " is not an IP address");
  }
  const tcp::endpoint ep(address, at.port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(ep, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot listen on " + at.to_string() + " (" + std::string(what) +
                             "): " + ec.message());
  }
  return acceptor.local_endpoint();
}

}  // namespace

secrets::secret_value read_token_file(const std::string& path) {
  // read(2) into a string reserved once: a stream's buffer, or a string that grew, would
  // leave copies of the token in freed memory.
  constexpr std::size_t max_token = 4096;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error("admin.token_file: cannot read " + path);
  }
  std::string text;
  text.reserve(max_token + 1);
  text.resize(max_token + 1);
  const std::size_t got = read_fully(fd, text);
  ::close(fd);
  OPENSSL_cleanse(text.data() + got, text.size() - got);
  text.resize(got);
  const bool ok = got <= max_token && secrets::normalise_secret_text(text) && text.size() >= 16;
  if (!ok) {
    OPENSSL_cleanse(text.data(), text.size());
    throw std::runtime_error("admin.token_file: " + path +
                             " must hold one line of 16 to 4096 bytes");
  }
  auto token = secrets::secret_value::adopt("admin-token", text);
  if (!token) {
    throw std::runtime_error("admin.token_file: no secure memory for the token");
  }
  return std::move(*token);
}

control_server::control_server(const config::config& cfg, secrets::store& store,
                               SSL_CTX* upstream_tls)
    : store_(store), admin_cfg_(cfg.admin), revoker_(cfg, store) {
  set_up_hooks(cfg, upstream_tls);
  std::optional<secrets::secret_value> token;
  if (!cfg.admin.token_file.empty()) {
    token = read_token_file(cfg.admin.token_file);
  }
  admin_ = std::make_unique<admin_api>(store, std::move(token), revoker_);
  if (!cfg.admin.socket.empty()) {
    bind_admin_socket(socket_acceptor_, cfg.admin.socket, !cfg.admin.allow_uids.empty());
    socket_path_ = cfg.admin.socket;
  }
  if (cfg.admin.listen) {
    bind(admin_acceptor_, *cfg.admin.listen, "admin");
  }
  bind(metrics_acceptor_, cfg.metrics.listen, "metrics");
}

control_server::~control_server() {
  stop();
}

void control_server::set_up_hooks(const config::config& cfg, SSL_CTX* upstream_tls) {
  bool hooks = false;
  bool tls = false;
  for (const auto& src : cfg.secrets) {
    hooks = hooks || src.revoke.has_value();
    tls = tls || (src.revoke && src.revoke->tls);
  }
  if (!hooks) {
    return;
  }
  if (tls && upstream_tls == nullptr) {
    own_tls_.emplace(make_upstream_context(cfg.tls));
    upstream_tls = own_tls_->native_handle();
  }
  // Lookups off the control thread: a name server that never answers ends at a hook's
  // deadline instead of holding the loop. One thread, more while several hooks wait.
  dns_ = std::make_unique<dns_pool>(1, 4, 64);
  revoker_.set_outbound(dial_context{*dns_, upstream_tls, &cfg.resolve});
}

std::string control_server::revoke_and_wait() {
  // A promise of our own rather than asio::use_future, which GCC 12 under ASan warns about
  // (a false maybe-uninitialized inside Asio).
  auto done = std::make_shared<std::promise<std::string>>();
  auto receipt = done->get_future();
  asio::co_spawn(
      io_, [this]() { return revoker_.revoke(); },
      [done](const std::exception_ptr& failed, std::string text) {
        if (failed) {
          done->set_exception(failed);
        } else {
          done->set_value(std::move(text));
        }
      });
  // The closer's wait and the hooks' deadline bound a revoke; a loop that does not run it
  // by then (stopped by an error) must not keep the secrets, nor the process from exiting.
  if (!io_.stopped() && receipt.wait_for(revoke_wait) == std::future_status::ready) {
    try {
      return receipt.get();
    } catch (const std::exception& e) {
      spdlog::error("revoke failed on the control loop: {}", e.what());
    }
  }
  store_.revoke();
  spdlog::error("revoke did not run on the control loop: secrets wiped, no hook sent");
  return {};
}

std::optional<tcp::endpoint> control_server::admin_endpoint() const {
  if (!admin_acceptor_.is_open()) {
    return std::nullopt;
  }
  return admin_acceptor_.local_endpoint();
}

void control_server::start() {
  if (socket_acceptor_.is_open()) {
    asio::co_spawn(io_, accept_unix(), asio::detached);
  }
  if (admin_acceptor_.is_open()) {
    asio::co_spawn(io_, accept_tcp(admin_acceptor_, listener::admin), asio::detached);
  }
  asio::co_spawn(io_, accept_tcp(metrics_acceptor_, listener::metrics), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void control_server::stop() {
  io_.stop();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (!socket_path_.empty()) {
    ::unlink(socket_path_.c_str());  // no one should find a dead socket and wait on it
    socket_path_.clear();
  }
}

awaitable<control_response> control_server::handle(listener which, const control_request& req) {
  if (which == listener::admin) {
    control_response answer = co_await admin_->handle(req);  // named first (GCC 12)
    co_return answer;
  }
  if (req.target == "/metrics" && metrics_text_ && (req.method == "GET" || req.method == "HEAD")) {
    control_response result;
    result.body = metrics_text_();
    result.content_type = "text/plain; version=0.0.4; charset=utf-8";
    co_return result;
  }
  co_return handle_health(req, store_);
}

awaitable<void> control_server::pause_after_accept_error() {
  // Out of descriptors and the like: wait instead of spinning.
  asio::steady_timer pause(io_, std::chrono::milliseconds(100));
  co_await pause.async_wait(use_tuple);
}

namespace {

control_response listener_full() {
  auto r = json_error(503, "too_many_connections",
                      "every control connection is busy answering a request; retry");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace

template <class Socket>
void control_server::spawn(Socket socket, listener which, connection_slots& slots,
                           std::optional<control_response> refusal) {
  using stream_type = beast::basic_stream<typename Socket::protocol_type>;
  serve_context ctx;
  if (refusal) {
    if (refusing_ >= max_refusing) {
      return;  // closed unanswered: a flood of refusals must not cost memory
    }
    ++refusing_;
    ctx.refusing = &refusing_;
  } else {
    ctx.slots = &slots;
    ctx.slot = slots.admit(nullptr);
    if (!ctx.slot) {
      spawn(std::move(socket), which, slots, listener_full());
      return;
    }
    if (which == listener::admin) {
      ctx.check = [this](std::string_view authorization) {
        return admin_->authorise(authorization);
      };
    }
  }
  control_handler handler = [this, which](const control_request& req) {
    return handle(which, req);
  };
  asio::co_spawn(io_,
                 serve_control(stream_type(std::move(socket)), std::move(handler), std::move(ctx),
                               std::move(refusal)),
                 asio::detached);
}

awaitable<void> control_server::accept_tcp(tcp::acceptor& acceptor, listener which) {
  auto& slots = which == listener::admin ? admin_slots_ : metrics_slots_;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      co_await pause_after_accept_error();
      continue;
    }
    spawn(std::move(socket), which, slots, std::nullopt);
  }
}

void control_server::warn_refused_uid(std::optional<std::uint32_t> uid, std::uint32_t own) {
  // At most one line a second: a caller retrying in a loop must not flood the log.
  const auto now = std::chrono::steady_clock::now();
  if (now - uid_warned_at_ < std::chrono::seconds(1)) {
    ++uid_refusals_unlogged_;
    return;
  }
  uid_warned_at_ = now;
  spdlog::warn("admin socket: refused a caller with uid {} (allowed: airlock's own uid {}{}){}",
               uid ? std::to_string(*uid) : "unknown", own,
               admin_cfg_.allow_uids.empty() ? "" : " and admin.allow_uids",
               uid_refusals_unlogged_ == 0
                   ? ""
                   : fmt::format("; {} more refused since the last line", uid_refusals_unlogged_));
  uid_refusals_unlogged_ = 0;
}

awaitable<void> control_server::accept_unix() {
  const auto own = static_cast<std::uint32_t>(::geteuid());
  for (;;) {
    auto [ec, socket] = co_await socket_acceptor_.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      co_await pause_after_accept_error();
      continue;
    }
    std::optional<control_response> refusal;
    const auto uid = peer_uid(socket);
    if (!uid || !uid_allowed(*uid, own, admin_cfg_.allow_uids)) {
      warn_refused_uid(uid, own);
      refusal = json_error(403, "uid_not_allowed",
                           "this user may not call the admin API (admin.allow_uids)");
    }
    spawn(std::move(socket), listener::admin, socket_slots_, std::move(refusal));
  }
}

}  // namespace airlock::proxy::control

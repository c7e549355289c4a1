// airlock: command line and wiring only; everything it starts lives in the modules.

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "config/load.hpp"
#include "config/presets.hpp"
#include "config/telemetry_defaults.hpp"
#include "config/telemetry_optouts.hpp"
#include "proxy/admin/admin_client.hpp"
#include "proxy/admin/control_server.hpp"
#include "proxy/doctor/doctor.hpp"
#include "proxy/flow/server.hpp"
#include "proxy/observe/logging.hpp"
#include "proxy/tls/tls_state.hpp"
#include "proxy/version.hpp"
#include "secrets/file_watch.hpp"
#include "secrets/process_hardening.hpp"
#include "secrets/secure_memory.hpp"

namespace {

constexpr std::string_view usage =
    R"(usage: airlock [--config FILE]        run (no --config: the embedded default)
       airlock --check-config FILE    validate FILE, print FILE:LINE:COL: message on error
       airlock --print-default-config print the embedded default config
       airlock --print-telemetry-defaults
                                      the vendor telemetry blocked by default and the
                                      switches telemetry.env sets, with sources
       airlock --print-presets        the provider presets for credentials:, with sources
       airlock --version
       airlock revoke [--admin unix:PATH | --admin http://IP:PORT] [--token-file FILE]
                      [--config FILE] ask a running airlock to wipe its secrets; exits 0
                                      only when the receipt shows every secret wiped
       airlock push NAME [--admin ...] [--token-file FILE] [--config FILE] < value
                                      push a secret's value (stdin) to a running airlock
       airlock doctor [--proxy URL] [--json]
                                      in the agent's container: does each runtime on PATH
                                      go through airlock and trust its CA? exits 1 if not
options: --allow-core-dumps            debugging only: keep the process dumpable
)";

struct options {
  std::optional<std::string> config_file;
  std::optional<std::string> check_file;
  bool print_default = false;
  bool print_telemetry = false;
  bool print_presets = false;
  bool version = false;
  bool allow_core_dumps = false;
};

// Parses argv; returns nullopt (after printing why) on a usage error.
std::optional<options> parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::optional<std::string>& out) {
      if (i + 1 >= argc) {
        std::cerr << "airlock: " << arg << " needs a file\n" << usage;
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (arg == "--config") {
      if (!value(o.config_file)) {
        return std::nullopt;
      }
    } else if (arg == "--check-config") {
      if (!value(o.check_file)) {
        return std::nullopt;
      }
    } else if (arg == "--print-default-config") {
      o.print_default = true;
    } else if (arg == "--print-telemetry-defaults") {
      o.print_telemetry = true;
    } else if (arg == "--print-presets") {
      o.print_presets = true;
    } else if (arg == airlock::secrets::allow_core_dumps_flag) {
      o.allow_core_dumps = true;
    } else if (arg == "--version") {
      o.version = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    } else {
      std::cerr << "airlock: unknown argument \"" << arg << "\"\n" << usage;
      return std::nullopt;
    }
  }
  return o;
}

std::string host_port(const boost::asio::ip::tcp::endpoint& ep) {
  std::string out =
      ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
  out += ':';
  out += std::to_string(ep.port());
  return out;
}

// The proxy line comes last: tests and scripts wait for it, and by then every listener
// is bound.
void print_banner(const airlock::proxy::server& srv,
                  const airlock::proxy::control::control_server& control) {
  const std::string at = host_port(srv.endpoint());
  // A wildcard listener is not an address to connect to; an agent beside airlock (same pod
  // or host) reaches it on loopback.
  auto reach = srv.endpoint();
  if (reach.address().is_unspecified()) {
    reach.address(reach.address().is_v6()
                      ? boost::asio::ip::address(boost::asio::ip::address_v6::loopback())
                      : boost::asio::ip::address(boost::asio::ip::address_v4::loopback()));
  }
  const std::string url = "http://" + host_port(reach);
  if (!control.admin_socket().empty()) {
    std::cout << "airlock " << airlock::version
              << ": admin listening on unix:" << control.admin_socket() << "\n";
  }
  if (const auto admin = control.admin_endpoint()) {
    std::cout << "airlock " << airlock::version << ": admin listening on " << host_port(*admin)
              << "\n";
  }
  std::cout << "airlock " << airlock::version << ": metrics listening on "
            << host_port(control.metrics_endpoint()) << "\n"
            << "airlock " << airlock::version << ": proxy listening on " << at << "\n"
            << "  point an agent at it:  export HTTPS_PROXY=" << url << " HTTP_PROXY=" << url
            << "\n";
  const std::string& dir = srv.cfg().tls.export_dir;
  std::cout << "  trust airlock's CA:    " << dir << "/ca.pem\n"
            << "  or configure it all:   . " << dir
            << "/airlock.env  (CA, proxy and telemetry switches for every runtime)\n"
            << std::flush;
}

// What telemetry.block_vendor_defaults blocks, then the switches telemetry.env sets at the
// source; each with where it was learnt.
void print_telemetry_defaults() {
  std::cout << "# Blocked by airlock (name, host, path):\n";
  for (const auto& e : airlock::config::vendor_telemetry_defaults()) {
    std::cout << e.name << "\t" << e.host.text << (e.path_prefix.empty() ? "" : "\t")
              << e.path_prefix << "\n    source: " << e.source << "\n";
  }
  std::cout << "\n# Switched off at the source: telemetry.env in tls.ca.export_dir\n";
  for (const auto& o : airlock::config::vendor_telemetry_optouts()) {
    std::cout << o.tool << "\t"
              << (o.variable.empty() ? "(no environment switch)" : o.variable + "=" + o.value)
              << "\n    source: " << o.source << "\n";
  }
}

// Secrets must never reach swap or a core file: lock their memory, make the process
// non-dumpable. Failures are logged loudly but do not stop a proxy that holds no secret yet.
void harden(bool allow_core_dumps) {
  const auto heap = airlock::secrets::init_secure_heap();
  if (heap.locked()) {
    spdlog::debug("{}", heap.detail);
  } else {
    spdlog::warn("{}", heap.detail);
  }
  const std::string failed = airlock::secrets::harden_process(allow_core_dumps);
  if (!failed.empty()) {
    spdlog::warn("process hardening: {}", failed);
  }
  if (allow_core_dumps) {
    spdlog::warn("{}: core dumps allowed; a dump may contain secrets",
                 airlock::secrets::allow_core_dumps_flag);
  }
}

int run(const airlock::config::config& cfg, bool allow_core_dumps) {
  airlock::proxy::setup_logging(cfg.log);
  harden(allow_core_dumps);
  // Signals are taken synchronously by this thread, so workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // main owns the secrets: the data plane reads them, the control plane pushes and revokes
  // them, the file watch rotates them. Stamped before the store reads the files, so a file
  // replaced meanwhile is read again at the first poll.
  airlock::secrets::file_watch rotation(cfg.secrets);
  airlock::secrets::store secrets(cfg.secrets);
  std::optional<airlock::proxy::server> srv;
  std::optional<airlock::proxy::control::control_server> control;
  try {
    srv.emplace(cfg, secrets);
  } catch (const boost::system::system_error& e) {
    spdlog::critical("cannot listen on {}: {}", cfg.proxy.listen.to_string(), e.code().message());
    return 1;
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
  try {
    auto* tls = srv->tls();
    control.emplace(cfg, secrets, tls != nullptr ? tls->upstream.native_handle() : nullptr);
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
  control->set_metrics([&srv, &control] {
    auto from = srv->metrics_snapshot();
    from.admin_auth_failures = control->admin().auth_failures();
    return srv->series().render(from);
  });
  control->revoke_all().set_connection_closer([&srv] {
    const auto closed = srv->close_credentialed(std::chrono::seconds(2));
    return std::pair<std::size_t, bool>(closed.count, closed.complete);
  });
  if (const auto admin = control->admin_endpoint()) {
    srv->add_self_endpoint(*admin);
  }
  srv->add_self_endpoint(control->metrics_endpoint());
  if (cfg.admin.listen && cfg.admin.token_file.empty()) {
    spdlog::warn(
        "admin API on {} has no token_file: any local process, the agent included, may "
        "push, revoke or set the log level{}",
        cfg.admin.listen->to_string(),
        cfg.admin.insecure_tcp_without_token ? " (admin.insecure_tcp_without_token)" : "");
  }
  for (const auto& problem : secrets.problems()) {
    spdlog::error("{}", problem);
  }
  for (const auto& name : secrets.missing_required()) {
    spdlog::warn("secret {} is missing: requests that need it get 503", name);
  }
  std::optional<airlock::secrets::file_watch_thread> rotating;
  if (!rotation.empty()) {
    rotating.emplace(
        rotation, secrets, airlock::secrets::file_poll_interval,
        [](const std::string& name) { spdlog::info("secret {} rotated: its file changed", name); });
  }
  control->start();
  srv->start();
  print_banner(*srv, *control);
  spdlog::info("airlock {} started", airlock::version);

  int sig = 0;
  sigwait(&signals, &sig);
  // Secrets go first: whatever the drain still lets through gets no credential.
  const bool already = secrets.current_phase() == airlock::secrets::phase::revoked;
  control->revoke_and_wait();
  spdlog::info("{}: {}; draining (up to {} ms)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
               already ? "secrets were revoked already" : "secrets revoked",
               cfg.proxy.timeouts.drain.count());
  srv->begin_drain();
  if (!srv->wait(cfg.proxy.timeouts.drain)) {
    spdlog::warn("drain deadline passed: closing the remaining connections");
  }
  srv->stop();
  control->stop();
  const auto& c = srv->counters();
  spdlog::info(
      "stopped: {} connections, {} requests, {} tunnels, {} upstream TLS handshakes ({} resumed)",
      c.connections_total.load(), c.requests_total.load(), c.tunnels_total.load(),
      c.upstream_tls_handshakes.load(), c.upstream_tls_resumed.load());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "revoke") {
    return airlock::proxy::control::run_revoke(argc - 2, argv + 2);
  }
  if (argc > 1 && std::string_view(argv[1]) == "push") {
    return airlock::proxy::control::run_push(argc - 2, argv + 2);
  }
  if (argc > 1 && std::string_view(argv[1]) == "doctor") {
    return airlock::proxy::doctor::run_doctor(argc - 2, argv + 2);
  }
  const auto opts = parse_args(argc, argv);
  if (!opts) {
    return 2;
  }
  if (opts->version) {
    std::cout << "airlock " << airlock::version << "\n";
    return 0;
  }
  if (opts->print_telemetry) {
    print_telemetry_defaults();
    return 0;
  }
  if (opts->print_presets) {
    std::cout << airlock::config::describe_presets();
    return 0;
  }
  if (opts->print_default) {
    std::cout << airlock::config::embedded_default_yaml();
    return 0;
  }
  try {
    if (opts->check_file) {
      airlock::config::load_file(*opts->check_file);
      std::cout << *opts->check_file << ": ok\n";
      return 0;
    }
    const auto cfg = opts->config_file ? airlock::config::load_file(*opts->config_file)
                                       : airlock::config::embedded_default();
    return run(cfg, opts->allow_core_dumps);
  } catch (const airlock::config::config_error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}

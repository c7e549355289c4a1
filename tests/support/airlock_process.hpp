#pragma once
// The airlock binary under test, run as a real process: config written to a file,
// port learned from the startup banner, stdout and stderr kept in files for
// failure reports, SIGTERM and exit status for drain tests, and memory figures
// from /proc for the streaming tests.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "tests/support/child_process.hpp"

namespace airlock::test {

// Path of the airlock binary this test suite was built with.
std::string airlock_binary();

// The config a test starts airlock with; yaml() renders it. Defaults suit tests:
// one worker (so pool reuse is deterministic), short timeouts, debug log.
struct airlock_settings {
  unsigned workers = 1;
  std::string header_timeout = "5s";
  std::string idle_timeout = "10s";
  std::string connect_timeout = "2s";
  std::string drain_timeout = "5s";
  std::optional<std::string> max_header_bytes;
  std::optional<unsigned> max_header_count;
  std::optional<unsigned> max_connections;
  std::optional<unsigned> pool_max_idle;       // proxy.pool.max_idle_per_host
  std::map<std::string, std::string> resolve;  // "host:port" -> "127.0.0.1:port"
  std::string log_level = "debug";
  std::string log_format = "text";  // or json
  bool access_log = true;
  // Lines added inside proxy: (indented by two), for keys the fields here do not cover.
  std::string proxy_yaml;
  // Test upstreams live on loopback, which the SSRF protection refuses by default.
  bool allow_loopback = true;
  // Lines added inside egress: (indented by two).
  std::string egress_yaml;
  // admin.token_file: also opens the TCP admin listener (127.0.0.1:0) with that token.
  // Empty: the admin API is the Unix socket alone (admin_socket, in the test's folder).
  std::string admin_token_file;
  // admin.socket; empty: DIR/admin/admin.sock.
  std::string admin_socket;
  // Appended to the generated config as is: top-level sections the fields above do
  // not cover (tls, secrets, credentials).
  std::string extra_yaml;
  // Environment variables for the airlock process (env sources of secrets).
  std::map<std::string, std::string> env;
  // tls.ca.export_dir when extra_yaml has no tls section: airlock always makes its CA (the
  // doctor's check host is always intercepted), and it must not land in /run/airlock.
  // Empty: DIR/ca-export.
  std::string export_dir;

  std::string yaml() const;
};

class airlock_process {
 public:
  // Writes settings to dir/airlock.yaml, starts airlock and waits (10 s at most) for
  // the banner that names its port. Throws with the captured output if it does not come.
  airlock_process(const std::filesystem::path& dir, const airlock_settings& settings = {});

  std::uint16_t port() const { return port_; }
  // The TCP admin listener (0 when the settings have no admin token file).
  std::uint16_t admin_port() const { return admin_port_; }
  const std::string& admin_socket() const { return admin_socket_; }
  std::uint16_t metrics_port() const { return metrics_port_; }
  // "http://127.0.0.1:PORT", for curl -x.
  std::string proxy_url() const;
  pid_t pid() const { return child_.pid(); }

  // Asks for a graceful stop (drain).
  void terminate() { child_.signal(SIGTERM); }
  // Exit status once it has exited (128 + signal when killed), nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    return child_.wait_for(timeout);
  }
  bool running() { return child_.running(); }

  std::string stdout_text() const;
  std::string stderr_text() const;

  // Resident and peak resident memory in KiB, from /proc/PID/status.
  std::uint64_t rss_kib() const;
  std::uint64_t peak_rss_kib() const;

 private:
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
  child_process child_;
  std::uint16_t port_ = 0;
  std::uint16_t admin_port_ = 0;
  std::string admin_socket_;
  std::uint16_t metrics_port_ = 0;
};

// A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"); 0 if it cannot be read.
std::uint64_t proc_status_kib(pid_t pid, const std::string& field);

}  // namespace airlock::test

#include "tests/support/airlock_process.hpp"

#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/files.hpp"

namespace airlock::test {

namespace {

std::vector<std::string> env_entries(const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  for (const auto& [name, value] : env) {
    out.push_back(name + "=" + value);
  }
  return out;
}

// A socket directory of its own per airlock started here: a test may run two at once; the
// CA export directory beside it.
airlock_settings with_socket(const std::filesystem::path& dir, airlock_settings settings) {
  if (settings.export_dir.empty()) {
    settings.export_dir = (dir / "ca-export").string();
  }
  if (settings.admin_socket.empty()) {
    std::filesystem::path sub = dir / "admin";
    for (int i = 2; std::filesystem::exists(sub); ++i) {
      sub = dir / ("admin-" + std::to_string(i));
    }
    std::filesystem::create_directories(sub);
    settings.admin_socket = (sub / "admin.sock").string();
  }
  return settings;
}

std::filesystem::path write_config(const std::filesystem::path& dir,
                                   const airlock_settings& settings) {
  const auto path = dir / "airlock.yaml";
  write_file(path, with_socket(dir, settings).yaml());
  return path;
}

}  // namespace

std::string airlock_binary() {
  return AIRLOCK_BINARY;
}

std::string airlock_settings::yaml() const {
  std::ostringstream y;
  y << "proxy:\n"
    << "  listen: \"127.0.0.1:0\"\n"
    << "  workers: " << workers << "\n";
  if (max_header_bytes) {
    y << "  max_header_bytes: " << *max_header_bytes << "\n";
  }
  if (max_header_count) {
    y << "  max_header_count: " << *max_header_count << "\n";
  }
  if (max_connections) {
    y << "  max_connections: " << *max_connections << "\n";
  }
  if (pool_max_idle) {
    y << "  pool: { max_idle_per_host: " << *pool_max_idle << " }\n";
  }
  y << "  timeouts: { header: " << header_timeout << ", idle: " << idle_timeout
    << ", connect: " << connect_timeout << ", drain: " << drain_timeout << " }\n"
    << proxy_yaml << "admin: { socket: \"" << admin_socket << "\"";
  if (!admin_token_file.empty()) {
    y << ", listen: \"127.0.0.1:0\", token_file: \"" << admin_token_file << "\"";
  }
  y << " }\n"
    << "metrics: { listen: \"127.0.0.1:0\" }\n";
  if (allow_loopback || !egress_yaml.empty()) {
    y << "egress:\n";
    if (allow_loopback) {
      y << "  allow_private: [\"127.0.0.0/8\", \"::1/128\"]\n";
    }
    y << egress_yaml;
  }
  y << "log: { level: " << log_level << ", format: " << log_format
    << (access_log ? "" : ", access: false") << " }\n";
  if (!resolve.empty()) {
    y << "resolve:\n";
    for (const auto& [from, to] : resolve) {
      y << "  \"" << from << "\": \"" << to << "\"\n";
    }
  }
  const bool has_tls =
      extra_yaml.rfind("tls:", 0) == 0 || extra_yaml.find("\ntls:") != std::string::npos;
  if (!has_tls && !export_dir.empty()) {
    y << "tls: { ca: { export_dir: \"" << export_dir << "\" } }\n";
  }
  y << extra_yaml;
  return y.str();
}

namespace {

// The port in "...<label>PORT\n" of the banner, 0 when the line is missing.
std::uint16_t port_after(const std::string& out, std::string_view label) {
  const auto at = out.find(label);
  return at == std::string::npos
             ? 0
             : static_cast<std::uint16_t>(std::stoul(out.substr(at + label.size())));
}

}  // namespace

airlock_process::airlock_process(const std::filesystem::path& dir, const airlock_settings& settings)
    : stdout_path_(dir / "airlock.stdout"),
      stderr_path_(dir / "airlock.stderr"),
      child_(spawn_options{{airlock_binary(), "--config", write_config(dir, settings).string()},
                           stdout_path_,
                           stderr_path_,
                           {},
                           env_entries(settings.env)}) {
  // The banner line is flushed once the listeners are bound, so the port in it accepts.
  static constexpr std::string_view banner = "proxy listening on 127.0.0.1:";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const std::string out = stdout_text();
    const auto at = out.find(banner);
    const auto end = at == std::string::npos ? at : out.find('\n', at);
    if (end != std::string::npos) {
      port_ = static_cast<std::uint16_t>(std::stoul(out.substr(at + banner.size())));
      admin_port_ = port_after(out, "admin listening on 127.0.0.1:");
      static constexpr std::string_view socket_label = "admin listening on unix:";
      if (const auto s = out.find(socket_label); s != std::string::npos) {
        const auto from = s + socket_label.size();
        admin_socket_ = out.substr(from, out.find('\n', from) - from);
      }
      metrics_port_ = port_after(out, "metrics listening on 127.0.0.1:");
      return;
    }
    if (!child_.running() || std::chrono::steady_clock::now() >= deadline) {
      child_.kill();
      throw std::runtime_error("airlock did not start.\nconfig:\n" + settings.yaml() + "stdout:\n" +
                               stdout_text() + "\nstderr:\n" + stderr_text());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string airlock_process::proxy_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string airlock_process::stdout_text() const {
  return read_file(stdout_path_);
}

std::string airlock_process::stderr_text() const {
  return read_file(stderr_path_);
}

std::uint64_t airlock_process::rss_kib() const {
  return proc_status_kib(pid(), "VmRSS");
}

std::uint64_t airlock_process::peak_rss_kib() const {
  return proc_status_kib(pid(), "VmHWM");
}

std::uint64_t proc_status_kib(pid_t pid, const std::string& field) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  const auto at = status.find("\n" + field + ":");
  if (at == std::string::npos) {
    return 0;
  }
  return std::stoull(status.substr(at + field.size() + 2));
}

}  // namespace airlock::test

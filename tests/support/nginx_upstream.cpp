#include "tests/support/nginx_upstream.hpp"

#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/files.hpp"
#include "tests/support/raw_client.hpp"

namespace airlock::test {

nginx_upstream::nginx_upstream(const std::filesystem::path& dir, bool with_tls)
    : dir_(dir), www_(dir / "www") {
  std::filesystem::create_directories(www_);
  std::filesystem::create_directories(dir_ / "tmp");
  if (with_tls) {
    std::filesystem::create_directories(dir_ / "pki");
    certs_ = make_test_certs(dir_ / "pki");
  }
  // A port found free can be taken before nginx binds it: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (try_start()) {
      return;
    }
  }
  throw std::runtime_error("nginx did not start:\n" + error_log() +
                           read_file(dir_ / "nginx.stderr"));
}

nginx_upstream::~nginx_upstream() = default;

std::string nginx_upstream::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::string nginx_upstream::error_log() const {
  return read_file(dir_ / "error.log");
}

void nginx_upstream::write_config() const {
  const std::string d = dir_.string();
  std::ostringstream c;
  c << "daemon off;\n"
    << "master_process off;\n"
    << "worker_processes 1;\n"
    << "pid " << d << "/nginx.pid;\n"
    << "error_log " << d << "/error.log warn;\n"
    << "events { worker_connections 256; }\n"
    << "http {\n"
    << "  access_log off;\n"
    << "  default_type application/octet-stream;\n"
    << "  sendfile on;\n"
    << "  keepalive_requests 10000;\n"
    << "  client_body_temp_path " << d << "/tmp/body;\n"
    << "  proxy_temp_path " << d << "/tmp/proxy;\n"
    << "  fastcgi_temp_path " << d << "/tmp/fastcgi;\n"
    << "  uwsgi_temp_path " << d << "/tmp/uwsgi;\n"
    << "  scgi_temp_path " << d << "/tmp/scgi;\n"
    << "  server {\n"
    << "    listen 127.0.0.1:" << port_ << ";\n"
    << "    root " << www_.string() << ";\n"
    << "    location /limited/ { client_max_body_size 1k; }\n"
    << "  }\n";
  if (certs_) {
    c << "  server {\n"
      << "    listen 127.0.0.1:" << tls_port_ << " ssl;\n"
      << "    ssl_certificate " << certs_->leaf_cert.string() << ";\n"
      << "    ssl_certificate_key " << certs_->leaf_key.string() << ";\n"
      << "    root " << www_.string() << ";\n"
      << "  }\n";
  }
  c << "}\n";
  write_file(dir_ / "nginx.conf", c.str());
}

bool nginx_upstream::try_start() {
  port_ = unused_port();
  tls_port_ = certs_ ? unused_port() : 0;
  std::filesystem::remove(dir_ / "nginx.pid");
  write_config();
  child_ = std::make_unique<child_process>(
      spawn_options{{"/usr/sbin/nginx", "-p", dir_.string(), "-c", (dir_ / "nginx.conf").string(),
                     "-e", (dir_ / "error.log").string()},
                    dir_ / "nginx.stdout",
                    dir_ / "nginx.stderr",
                    {},
                    {}});
  // nginx writes its pid file after binding every listener.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!child_->running()) {
      child_.reset();
      return false;
    }
    const std::string pid = read_file(dir_ / "nginx.pid");
    if (!pid.empty() && std::stol(pid) == child_->pid() && try_connect(port_) == 0 &&
        (tls_port_ == 0 || try_connect(tls_port_) == 0)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  child_.reset();
  return false;
}

}  // namespace airlock::test

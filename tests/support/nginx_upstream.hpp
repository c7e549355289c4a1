#pragma once
// Debian's nginx as a real upstream: a private prefix directory (config, logs,
// temp paths, document root), a free 127.0.0.1 port, optionally a TLS server block
// with a certificate from make_test_certs. Files are served from www(); tests
// write what they need there before requesting it. Request bodies over 1 KiB to
// /limited/... get nginx's 413 as soon as their head arrives.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tests/support/child_process.hpp"
#include "tests/support/test_certs.hpp"

namespace airlock::test {

class nginx_upstream {
 public:
  // Sets up dir (created if needed) and starts nginx; waits until it accepts.
  // Retries with other ports if one was taken meanwhile; throws with nginx's error log
  // if it cannot start.
  explicit nginx_upstream(const std::filesystem::path& dir, bool with_tls = false);
  ~nginx_upstream();
  nginx_upstream(const nginx_upstream&) = delete;
  nginx_upstream& operator=(const nginx_upstream&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint16_t tls_port() const { return tls_port_; }
  // "http://127.0.0.1:PORT" + path.
  std::string url(std::string_view path = "/") const;
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& www() const { return www_; }
  // The CA that signed the TLS certificate; only with_tls.
  const std::filesystem::path& ca_cert() const { return certs_->ca_cert; }

  std::string error_log() const;

 private:
  void write_config() const;
  bool try_start();

  std::filesystem::path dir_;
  std::filesystem::path www_;
  std::optional<test_certs> certs_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  std::unique_ptr<child_process> child_;
};

}  // namespace airlock::test

// workspace_ca::export_to and export_cas: the files through which the agent's tools come to trust
// the CA and find the proxy.

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "proxy/tls/agent_kit.hpp"
#include "proxy/tls/ca_files.hpp"
#include "proxy/tls/trust_store.hpp"
#include "proxy/tls/workspace_ca.hpp"

namespace airlock::proxy::intercept {

namespace {

namespace fs = std::filesystem;

// The system bundle is about 200 KiB on Debian; this leaves room for large corporate stores.
constexpr std::size_t max_system_bundle_bytes = 16 << 20;

// The export directory as an absolute, normalised path without a trailing slash, created with
// 0755 when missing (not umask-dependent: the agent runs as another user). A control
// character in it could not be written into wgetrc or an env file as one path.
fs::path prepare_dir(const std::string& dir) {
  if (std::any_of(dir.begin(), dir.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    throw ca_error("CA export directory " + dir +
                   ": a control character (line break, tab) cannot go into the kit's files");
  }
  std::error_code ec;
  fs::path abs = fs::absolute(fs::path(dir), ec);
  if (ec) {
    throw ca_error("CA export directory " + dir + ": " + ec.message());
  }
  abs = abs.lexically_normal();
  if (!abs.has_filename() && abs.has_parent_path() && abs != abs.root_path()) {
    abs = abs.parent_path();
  }
  const bool created = fs::create_directories(abs, ec);
  if (ec) {
    throw ca_error("CA export directory " + abs.string() + ": cannot create: " + ec.message());
  }
  if (created) {
    fs::permissions(abs, fs::perms(0755), ec);
    if (ec) {
      throw ca_error("CA export directory " + abs.string() + ": cannot chmod: " + ec.message());
    }
  }
  if (!fs::is_directory(abs, ec)) {
    throw ca_error("CA export directory " + abs.string() + ": not a directory");
  }
  return abs;
}

}  // namespace

void workspace_ca::export_to(const std::string& dir, const std::string& system_bundle,
                             const kit_settings& kit) const {
  X509* const one[] = {cert_.get()};
  export_cas(dir, one, system_bundle, kit);
}

void export_cas(const std::string& dir, std::span<X509* const> certs,
                const std::string& system_bundle, const kit_settings& kit) {
  const fs::path out = prepare_dir(dir);
  const std::string base = out.string();
  const std::string ca_text = certs_pem(certs);

  std::string system;
  std::error_code ec;
  if (!system_bundle.empty() && fs::exists(system_bundle, ec)) {
    // Exists but unreadable is an error: a bundle without the system roots would break every
    // non-intercepted HTTPS call the agent makes.
    system = read_small_file(system_bundle, "system CA bundle", max_system_bundle_bytes);
    if (!system.empty() && system.back() != '\n') {
      system += '\n';
    }
  }
  const trust_store java = make_trust_store(certs, system, trust_store_password);

  // Each file before those that name it, so a reader never finds a reference to a file that
  // is missing: the certificates, then ca.env, then airlock.env. Every one is rewritten at
  // each renewal, each atomically.
  const auto write = [&base](const char* name, const std::string& content) {
    write_file_atomically(base + "/" + name, content, 0644);
  };
  write("ca.pem", ca_text);
  write("ca-bundle.pem", system + ca_text);
  write(trust_store_file, java.der);
  write(wgetrc_file, wgetrc_text(base));
  write(ca_env_file, ca_env_text(base));
  write(proxy_env_file, proxy_env_text(kit.proxy));
  write(telemetry_env_file, telemetry_env_text(kit.telemetry_optouts));
  write(airlock_env_file, airlock_env_text(base));
}

}  // namespace airlock::proxy::intercept

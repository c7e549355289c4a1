// workspace_ca::export_to and export_cas: the files through which the agent's tools come to trust
// the CA.

#include <filesystem>
#include <system_error>

#include "proxy/tls/ca_files.hpp"
#include "proxy/tls/workspace_ca.hpp"

namespace airlock::proxy::intercept {

namespace {

namespace fs = std::filesystem;

// The system bundle is about 200 KiB on Debian; this leaves room for large corporate stores.
constexpr std::size_t max_system_bundle_bytes = 16 << 20;

// Single-quotes a path for `sh` only when it needs it, so the common case stays readable.
std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of(
                                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789/._-+,:@%") == std::string::npos;
  if (plain) {
    return s;
  }
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

// The export directory as an absolute, normalised path without a trailing slash, created with
// 0755 when missing (not umask-dependent: the agent runs as another user).
fs::path prepare_dir(const std::string& dir) {
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

void workspace_ca::export_to(const std::string& dir, const std::string& system_bundle) const {
  X509* const one[] = {cert_.get()};
  export_cas(dir, one, system_bundle);
}

void export_cas(const std::string& dir, std::span<X509* const> certs,
                const std::string& system_bundle) {
  const fs::path out = prepare_dir(dir);
  const std::string ca_path = (out / "ca.pem").string();
  const std::string bundle_path = (out / "ca-bundle.pem").string();
  const std::string ca_text = certs_pem(certs);

  std::string bundle;
  std::error_code ec;
  if (!system_bundle.empty() && fs::exists(system_bundle, ec)) {
    // Exists but unreadable is an error: a bundle without the system roots would break every
    // non-intercepted HTTPS call the agent makes.
    bundle = read_small_file(system_bundle, "system CA bundle", max_system_bundle_bytes);
    if (!bundle.empty() && bundle.back() != '\n') {
      bundle += '\n';
    }
  }
  bundle += ca_text;

  const std::string bundle_word = shell_word(bundle_path);
  std::string env;
  for (const char* var :
       {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"}) {
    env += std::string("export ") + var + "=" + bundle_word + "\n";
  }
  env += "export NODE_EXTRA_CA_CERTS=" + shell_word(ca_path) + "\n";

  // ca.pem first: ca.env and the bundle refer to it, so it must never be the one missing.
  write_file_atomically(ca_path, ca_text, 0644);
  write_file_atomically(bundle_path, bundle, 0644);
  write_file_atomically((out / "ca.env").string(), env, 0644);
}

}  // namespace airlock::proxy::intercept

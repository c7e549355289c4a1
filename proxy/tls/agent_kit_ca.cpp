// The agent's kit, CA side: ca.env and wgetrc.

#include <algorithm>

#include "proxy/tls/agent_kit.hpp"
#include "proxy/tls/agent_kit_text.hpp"

namespace airlock::proxy::intercept {

namespace {

// A runtime's CA variable. The bundle (system roots and airlock's CA) wherever the variable
// replaces the tool's store, and where the documentation leaves that open, since it is right
// either way; ca.pem alone only where the tool adds it to a store of its own.
struct ca_variable {
  const char* name;
  bool bundle;
  const char* why;  // what reads it and the source, for the comment above it
};

constexpr ca_variable ca_variables[] = {
    {"SSL_CERT_FILE", true,
     "OpenSSL's default CA file, replaced: Python ssl and urllib, Ruby, PHP, Go on Linux\n"
     "# (Go crypto/x509 root_unix.go)"},
    {"REQUESTS_CA_BUNDLE", true,
     "python-requests, in place of certifi (requests docs, SSL Cert "
     "Verification)"},
    {"CURL_CA_BUNDLE", true, "curl, in place of its CA file (curl(1) --cacert)"},
    {"GIT_SSL_CAINFO", true, "git's http.sslCAInfo (git-config(1)), in place of the system file"},
    {"NODE_EXTRA_CA_CERTS", false,
     "Node adds these to its built-in roots, read once at start (nodejs.org/api/cli.html)"},
    {"CARGO_HTTP_CAINFO", true,
     "cargo's http.cainfo, in place of the system certificates\n"
     "# (doc.rust-lang.org/cargo/reference/config.html)"},
    {"DENO_CERT", true,
     "Deno loads it beside DENO_TLS_CA_STORE, mozilla by default\n"
     "# (docs.deno.com/runtime/reference/env_variables)"},
    {"PIP_CERT", true,
     "pip --cert, in place of its own store (pip.pypa.io user guide: PIP_<OPTION>)"},
    {"AWS_CA_BUNDLE", true,
     "AWS CLI and SDKs, in place of their bundle\n"
     "# (docs.aws.amazon.com/cli/latest/userguide/cli-configure-envvars.html)"},
    {"CODEX_CA_CERTIFICATE", true,
     "Codex CLI, before SSL_CERT_FILE and the system roots (openai/codex docs/config.md,\n"
     "# custom CA)"},
    {"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", true,
     "gRPC, in place of its bundled roots (grpc/grpc doc/environment_variables.md)"},
    {"NPM_CONFIG_CAFILE", true,
     "npm's cafile, in place of Node's roots for the registry (docs.npmjs.com cli config\n"
     "# #cafile); an env variable rather than an npmrc, which would hide the user's ~/.npmrc"},
};

}  // namespace

std::string ca_env_text(const std::string& dir) {
  const std::string bundle = shell_word(dir + "/ca-bundle.pem");
  const std::string ca = shell_word(dir + "/ca.pem");
  std::string out =
      "# airlock's CA for the agent's tools. Written by airlock, replaced atomically when the\n"
      "# CA is renewed; sourced by airlock.env beside it, which also sets the proxy.\n"
      "# ca-bundle.pem: the system roots and airlock's CA, for variables that replace a tool's\n"
      "# trust store. ca.pem: airlock's CA alone, for those that add to one.\n";
  for (const auto& v : ca_variables) {
    out += std::string("# ") + v.why + "\nexport " + v.name + "=" + (v.bundle ? bundle : ca) + "\n";
  }
  out +=
      "# wget reads ca_certificate from this file (GnuTLS builds ignore SSL_CERT_FILE); it is\n"
      "# read in place of ~/.wgetrc (GNU Wget manual, Wgetrc Location).\n"
      "export WGETRC=" +
      shell_word(dir + "/" + wgetrc_file) + "\n";
  const std::vector<std::string> java{
      "-Djavax.net.ssl.trustStore=" + dir + "/" + trust_store_file,
      "-Djavax.net.ssl.trustStoreType=PKCS12",
      std::string("-Djavax.net.ssl.trustStorePassword=") + trust_store_password};
  out +=
      "# Java reads no CA variable: every JVM reads JAVA_TOOL_OPTIONS (and says so on stderr);\n"
      "# the trust store holds the bundle's certificates and replaces cacerts (JSSE Reference\n"
      "# Guide, javax.net.ssl.trustStore).\n";
  out += std::all_of(java.begin(), java.end(), java_option_safe)
             ? append_java_options(java)
             : "# (left out: JAVA_TOOL_OPTIONS cannot carry this directory's name)\n";
  return out;
}

std::string wgetrc_text(const std::string& dir) {
  return "# wget's startup file for the agent (WGETRC names it; /etc/wgetrc is still read first).\n"
         "# Written by airlock.\n"
         "ca_certificate = " +
         dir + "/ca-bundle.pem\n";
}

}  // namespace airlock::proxy::intercept

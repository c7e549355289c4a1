// Each runtime here, with nothing but `. airlock.env` (issue 19, failure 3): curl, wget (a
// GnuTLS build, which ignores SSL_CERT_FILE), git, Python requests and urllib, Node 20 (whose
// https module ignores every proxy variable, so the script tunnels itself and only the CA
// comes from the kit), npm, pip and cargo. Each request must reach the upstream through an
// intercepted tunnel carrying the injected key; the upstream's own record says so.

#include <gtest/gtest.h>

#include "tests/integration/kit_fixture.hpp"

namespace airlock::test {
namespace {

using strings = std::vector<std::string>;

TEST_F(kit_test, CurlWgetAndGitWithTheKitAlone) {
  start_kit();
  const auto curl = run_with_kit(
      {"/usr/bin/curl", "-q", "-sS", "-H", "x-api-key: placeholder", url("/curl")}, "curl");
  ASSERT_EQ(curl.exit_code, 0) << curl.err;
  EXPECT_TRUE(injected("GET /curl HTTP/1.1"));

  // GnuTLS wget: the CA only through WGETRC's ca_certificate.
  const auto wget = run_with_kit({"/usr/bin/wget", "-q", "-O", "-", url("/wget")}, "wget");
  ASSERT_EQ(wget.exit_code, 0) << wget.err;
  EXPECT_TRUE(injected("GET /wget HTTP/1.1"));
  // Without the kit's wgetrc the same wget does not trust airlock: the kit is what works.
  const auto bare = run_with_kit(
      {"/bin/sh", "-c", "unset WGETRC; exec /usr/bin/wget -q -O - \"$0\"", url("/bare")},
      "wget-bare");
  EXPECT_NE(bare.exit_code, 0);
  EXPECT_NE(request_line(up_->requests().back()), "GET /bare HTTP/1.1");

  // git's smart HTTP discovery; the echo is no repository, so git fails after the request.
  const auto git = run_with_kit({"/usr/bin/git", "ls-remote", url("/repo.git")}, "git",
                                {"GIT_TERMINAL_PROMPT=0"});
  EXPECT_TRUE(injected("GET /repo.git/info/refs?service=git-upload-pack HTTP/1.1")) << git.err;
}

constexpr const char* python_script = R"(
import sys, urllib.request, requests
a = requests.get(sys.argv[1] + "/requests", headers={"x-api-key": "placeholder"}, timeout=20)
b = urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/urllib",
                                                 headers={"x-api-key": "placeholder"}), timeout=20)
print(a.status_code, b.status)
)";

TEST_F(kit_test, PythonRequestsAndUrllibWithTheKitAlone) {
  start_kit();
  const auto r = run_with_kit({"/usr/bin/python3", "-c", python_script, url("")}, "python");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 200\n");
  ASSERT_EQ(up_->requests().size(), 2u);
  EXPECT_EQ(request_line(up_->requests()[0]), "GET /requests HTTP/1.1");
  EXPECT_EQ(field_values(up_->requests()[0], "x-api-key"), strings{api_key});
  EXPECT_TRUE(injected("GET /urllib HTTP/1.1"));
}

// Node 20's https ignores HTTPS_PROXY (and NODE_USE_ENV_PROXY, which Node 24 honours): the
// script opens the CONNECT itself to the proxy the kit names, and TLS inside it trusts what
// NODE_EXTRA_CA_CERTS adds to Node's roots.
constexpr const char* node_script = R"(
const http = require('http'), https = require('https'), tls = require('tls');
const proxy = new URL(process.env.HTTPS_PROXY), target = new URL(process.argv[1]);
const fail = (what) => { console.log(what); process.exit(1); };
const connect = http.request({host: proxy.hostname, port: proxy.port, method: 'CONNECT',
                              path: target.host, headers: {host: target.host}});
connect.on('connect', (res, socket) => {
  if (res.statusCode !== 200) fail('CONNECT ' + res.statusCode);
  const req = https.request({host: target.hostname, port: target.port, path: target.pathname,
      headers: {'x-api-key': 'placeholder'},
      createConnection: () => tls.connect({socket, servername: target.hostname})},
    (resp) => { console.log(resp.statusCode); resp.resume(); resp.on('end', () => process.exit(0)); });
  req.on('error', (e) => fail('TLS ' + e.message));
  req.end();
});
connect.on('error', (e) => fail('proxy ' + e.message));
connect.end();
)";

TEST_F(kit_test, Node20TrustsTheKitCaThroughItsOwnTunnel) {
  if (find_program("node").empty()) {
    GTEST_SKIP() << "no node here";
  }
  start_kit();
  const auto r = run_with_kit({find_program("node"), "-e", node_script, url("/node")}, "node");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "200\n");
  EXPECT_TRUE(injected("GET /node HTTP/1.1"));
  // The kit's variable is what Node trusts: without it the handshake fails.
  const auto bare =
      run_with_kit({"/bin/sh", "-c", "unset NODE_EXTRA_CA_CERTS; exec \"$0\" -e \"$1\" \"$2\"",
                    find_program("node"), node_script, url("/bare")},
                   "node-bare");
  EXPECT_NE(bare.exit_code, 0);
  EXPECT_NE(bare.out.find("TLS "), std::string::npos) << bare.out << bare.err;
}

// npm and pip take the registry or index the test names (their own variables, not the
// kit's); the echo is neither, so both fail after the request, which is what is checked.
TEST_F(kit_test, NpmAndPipWithTheKitAlone) {
  start_kit();
  if (!find_program("npm").empty()) {
    const auto npm =
        run_with_kit({find_program("npm"), "view", "left-pad"}, "npm",
                     {"NPM_CONFIG_REGISTRY=" + url("/npm/"), "NPM_CONFIG_FETCH_RETRIES=0",
                      "NPM_CONFIG_UPDATE_NOTIFIER=false", "NPM_CONFIG_AUDIT=false"});
    EXPECT_TRUE(injected("GET /npm/left-pad HTTP/1.1")) << npm.err;
  }
  const auto pip = run_with_kit({"/usr/bin/python3", "-m", "pip", "download", "--no-deps", "-d",
                                 scratch("pip").string(), "left-pad"},
                                "pip",
                                {"PIP_INDEX_URL=" + url("/simple/"), "PIP_RETRIES=0",
                                 "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1"});
  EXPECT_TRUE(injected("GET /simple/left-pad/ HTTP/1.1")) << pip.out << pip.err;
}

// cargo's sparse index: its first request is config.json, through libcurl with the kit's
// CARGO_HTTP_CAINFO and HTTPS_PROXY.
TEST_F(kit_test, CargoWithTheKitAlone) {
  const std::string cargo = find_program("cargo");
  if (cargo.empty()) {
    GTEST_SKIP() << "no cargo here";
  }
  start_kit();
  const auto crate = scratch("crate");
  std::filesystem::create_directories(crate / "src");
  write_file(crate / "Cargo.toml",
             "[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
             "[dependencies]\nleft-pad = { version = \"1\", registry = \"kit\" }\n");
  write_file(crate / "src" / "main.rs", "fn main() {}\n");
  std::vector<std::string> env{"CARGO_HOME=" + scratch("cargo-home").string(),
                               "CARGO_REGISTRIES_KIT_INDEX=sparse+" + url("/index/"),
                               "CARGO_NET_RETRY=0"};
  // A rustup proxy finds its toolchains under RUSTUP_HOME, by default in the real HOME.
  const char* home = std::getenv("HOME");
  const char* rustup = std::getenv("RUSTUP_HOME");
  const std::string rustup_home =
      rustup != nullptr ? rustup : (home != nullptr ? std::string(home) + "/.rustup" : "");
  if (!rustup_home.empty() && std::filesystem::exists(rustup_home)) {
    env.push_back("RUSTUP_HOME=" + rustup_home);
  }
  const auto r =
      run_with_kit({cargo, "generate-lockfile", "--manifest-path", (crate / "Cargo.toml").string()},
                   "cargo", env);
  EXPECT_TRUE(injected("GET /index/config.json HTTP/1.1")) << r.err;
}

}  // namespace
}  // namespace airlock::test

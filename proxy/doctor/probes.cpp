#include "proxy/doctor/probes.hpp"

namespace airlock::proxy::doctor {

namespace {

// urllib (what the standard library and many tools use: SSL_CERT_FILE) and, when installed,
// requests (REQUESTS_CA_BUNDLE). The proxy urllib picks is printed first: "proxy: none" is
// a bypass whatever the error says.
constexpr std::string_view python_probe = R"(import sys, urllib.request
u = "{url}/"
p = None if urllib.request.proxy_bypass("{host}") else urllib.request.getproxies().get("https")
print("proxy:", p or "none")
try:
    body = urllib.request.urlopen(u, timeout={secs}).read().decode("utf-8", "replace")
except Exception as e:
    print("urllib failed:", repr(e))
    sys.exit(1)
try:
    import requests
except Exception:
    requests = None
if requests is not None:
    try:
        requests.get(u, timeout={secs}).raise_for_status()
    except Exception as e:
        print("requests failed:", repr(e))
        sys.exit(1)
print(body)
)";

// fetch, as SDKs do; the cause carries the system error (getaddrinfo ENOTFOUND HOST, a
// certificate code). Node, Bun and Deno alike.
constexpr std::string_view fetch_probe =
    R"(fetch("{url}/", { signal: AbortSignal.timeout({ms}) }).then((r) => r.text()).then()"
    R"((t) => console.log(t), (e) => { const c = e && e.cause; )"
    R"(console.log("fetch failed:", String(e), c ? String(c) + " " + (c.code || "") : ""); )"
    R"(if (typeof Deno !== "undefined") { Deno.exit(1); } else { process.exit(1); } });)";

constexpr std::string_view go_probe = R"(package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	c := &http.Client{Timeout: {secs} * time.Second}
	r, err := c.Get("{url}/")
	if err != nil {
		fmt.Println("get failed:", err)
		os.Exit(1)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	fmt.Println(string(b))
}
)";

// HttpURLConnection: https.proxyHost/Port and javax.net.ssl.trustStore, usually from
// JAVA_TOOL_OPTIONS.
constexpr std::string_view java_probe = R"(import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;

public class Probe {
  public static void main(String[] args) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create("{url}/").toURL().openConnection();
      c.setConnectTimeout({ms});
      c.setReadTimeout({ms});
      try (InputStream in = c.getInputStream()) {
        System.out.println(new String(in.readAllBytes(), "UTF-8"));
      }
    } catch (Exception e) {
      System.out.println("request failed: " + e);
      for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
        System.out.println("caused by: " + t);
      }
      System.exit(1);
    }
  }
}
)";

std::vector<runtime_probe> build() {
  std::vector<runtime_probe> out;
  auto add = [&out](std::string name, std::vector<std::string> argv) -> runtime_probe& {
    runtime_probe p;
    p.executables = {name};
    p.name = std::move(name);
    p.argv = std::move(argv);
    return out.emplace_back(std::move(p));
  };
  auto& curl = add("curl", {"{exe}", "-sS", "--max-time", "{secs}", "{url}/"});
  curl.fix_bypass =
      "curl reads https_proxy or HTTPS_PROXY and skips hosts in NO_PROXY: source {kit}/proxy.env";
  curl.fix_untrusted = "source {kit}/ca.env (CURL_CA_BUNDLE, SSL_CERT_FILE)";

  auto& wget = add("wget", {"{exe}", "-nv", "-O-", "--timeout={secs}", "--tries=1", "{url}/"});
  wget.fix_bypass = "wget reads only the lowercase https_proxy: source {kit}/proxy.env";
  wget.fix_untrusted =
      "wget (GnuTLS builds) ignores SSL_CERT_FILE: source {kit}/ca.env (WGETRC with "
      "ca_certificate), or wget --ca-certificate={kit}/ca-bundle.pem";

  auto& python = add("python3", {"{exe}", "-c", std::string(python_probe)});
  python.fix_bypass = "source {kit}/proxy.env (HTTPS_PROXY; NO_PROXY must not cover the host)";
  python.fix_untrusted =
      "source {kit}/ca.env (SSL_CERT_FILE for urllib, httpx and aiohttp; REQUESTS_CA_BUNDLE "
      "for requests)";

  auto& node = add("node", {"{exe}", "-e", std::string(fetch_probe)});
  node.fix_bypass =
      "Node's fetch goes direct unless NODE_USE_ENV_PROXY=1 on Node >= 24 (source "
      "{kit}/proxy.env); on older Node use a reverse route, e.g. "
      "ANTHROPIC_BASE_URL={proxy}/anthropic";
  node.fix_untrusted = "source {kit}/ca.env (NODE_EXTRA_CA_CERTS)";

  auto& bun = add("bun", {"{exe}", "-e", std::string(fetch_probe)});
  bun.fix_bypass = "source {kit}/proxy.env (Bun's fetch reads HTTPS_PROXY)";
  bun.fix_untrusted = "source {kit}/ca.env (NODE_EXTRA_CA_CERTS)";

  auto& deno = add("deno", {"{exe}", "eval", std::string(fetch_probe)});
  deno.fix_bypass = "source {kit}/proxy.env (HTTPS_PROXY)";
  deno.fix_untrusted = "source {kit}/ca.env (DENO_CERT)";

  // Compiling net/http the first time takes a while on a small machine.
  auto& go = add("go", {"{exe}", "run", "probe.go"});
  go.files = {{"probe.go", std::string(go_probe)}};
  go.run_in_dir = true;  // outside any module of the working directory
  go.timeout = std::chrono::seconds(120);
  go.fix_bypass = "source {kit}/proxy.env (HTTPS_PROXY; Go never proxies localhost)";
  go.fix_untrusted = "source {kit}/ca.env (SSL_CERT_FILE)";

  // Source-file mode (JDK 11+): a JRE has no compiler, Java 8 no such mode.
  auto& java = add("java", {"{exe}", "{dir}/Probe.java"});
  java.files = {{"Probe.java", std::string(java_probe)}};
  java.timeout = std::chrono::seconds(60);
  java.cannot_run = {"jdk.compiler", "Could not find or load main class"};
  java.fix_bypass =
      "Java ignores HTTPS_PROXY: it needs JAVA_TOOL_OPTIONS with -Dhttps.proxyHost and "
      "-Dhttps.proxyPort (source {kit}/proxy.env and {kit}/ca.env)";
  java.fix_untrusted =
      "source {kit}/ca.env (JAVA_TOOL_OPTIONS with -Djavax.net.ssl.trustStore, the kit's "
      "PKCS#12 store)";

  // Smart HTTP: the check host advertises one ref named after the marker.
  auto& git =
      add("git", {"{exe}", "-c", "credential.helper=", "ls-remote", "{url}/airlock-doctor.git"});
  git.env = {{"GIT_TERMINAL_PROMPT", "0"}};
  git.fix_bypass = "source {kit}/proxy.env (git reads https_proxy, or http.proxy in its config)";
  git.fix_untrusted = "source {kit}/ca.env (GIT_SSL_CAINFO)";

  auto& npm = add("npm", {"{exe}", "ping", "--json", "--registry", "{url}/", "--fetch-retries=0",
                          "--fetch-timeout={ms}"});
  npm.timeout = std::chrono::seconds(30);
  npm.fix_bypass = "source {kit}/proxy.env (npm reads HTTPS_PROXY, or https-proxy in .npmrc)";
  npm.fix_untrusted =
      "npm ignores NODE_EXTRA_CA_CERTS: source {kit}/ca.env (NPM_CONFIG_CAFILE), or npm "
      "config set cafile {kit}/ca-bundle.pem";

  // A PEP 503 index on the check host lists the marker as a project.
  auto& pip = add("pip", {"{exe}", "index", "versions", "airlock-doctor-ok", "--index-url",
                          "{url}/simple/", "--retries", "0", "--timeout", "{secs}",
                          "--disable-pip-version-check", "--no-input"});
  pip.executables = {"pip", "pip3"};
  pip.timeout = std::chrono::seconds(30);
  pip.fix_bypass = "source {kit}/proxy.env (HTTPS_PROXY)";
  pip.fix_untrusted =
      "source {kit}/ca.env (PIP_CERT, REQUESTS_CA_BUNDLE), or pip config set global.cert "
      "{kit}/ca-bundle.pem";
  return out;
}

}  // namespace

const std::vector<runtime_probe>& runtime_probes() {
  static const std::vector<runtime_probe> probes = build();
  return probes;
}

std::string find_on_path(std::string_view path, std::string_view name,
                         const std::function<bool(const std::string&)>& executable) {
  while (!path.empty()) {
    const auto colon = path.find(':');
    const std::string_view dir = path.substr(0, colon);
    path = colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
    if (dir.empty()) {
      continue;
    }
    std::string candidate(dir);
    if (candidate.back() != '/') {
      candidate.push_back('/');
    }
    candidate += name;
    if (executable(candidate)) {
      return candidate;
    }
  }
  return {};
}

std::string expand(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const auto open = text.find('{', at);
    if (open == std::string_view::npos) {
      break;
    }
    const auto close = text.find('}', open);
    out.append(text.substr(at, open - at));
    if (close != std::string_view::npos) {
      const auto it = vars.find(std::string(text.substr(open + 1, close - open - 1)));
      if (it != vars.end()) {
        out += it->second;
        at = close + 1;
        continue;
      }
    }
    out.push_back('{');
    at = open + 1;
  }
  out.append(text.substr(std::min(at, text.size())));
  return out;
}

}  // namespace airlock::proxy::doctor

#pragma once
// What a probe's result means, and what the doctor says and exits with: pure functions over
// the probe table, the captured output and the environment's values.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/doctor/probes.hpp"

namespace airlock::proxy::doctor {

// How one probe run ended.
struct probe_output {
  bool started = true;     // false: the runtime could not be executed (err says why)
  bool timed_out = false;  // killed at runtime_probe::timeout
  int exit_code = 0;
  std::string out;
  std::string err;
};

enum class result {
  ok,         // through airlock, its CA trusted
  bypass,     // the runtime went direct (its lookup of the check host failed)
  untrusted,  // through the proxy, airlock's certificate refused
  failed,     // anything else: the proxy unreachable, a timeout, an unknown error
  skipped,    // the probe cannot run here (a JRE without a compiler); says nothing either way
};
std::string_view result_name(result r);  // "ok", "bypass", ...

enum class answer { yes, no, unknown };

struct finding {
  result what = result::failed;
  answer proxy_used = answer::unknown;
  answer ca_trusted = answer::unknown;
  std::string detail;  // the line of output the verdict rests on (short)
  std::string fix;     // with {kit} and {proxy} still in it; empty when ok or skipped
};

// The verdict on one run of probe p. A bypass is recognised by the failed lookup of the
// check host itself (it never resolves, so going direct always fails there), an untrusted
// CA by the runtime's certificate errors, success only by the marker in the output with
// exit status 0.
finding judge(const runtime_probe& p, const probe_output& o);

// Whether what was found is a failure of the workspace: any bypass, untrusted or failed.
bool is_problem(result r);

// The proxy URL the agent's tools use, and the variable it came from: https_proxy,
// HTTPS_PROXY, http_proxy, HTTP_PROXY, the first set and not empty.
struct proxy_setting {
  std::string variable;
  std::string url;
};
using env_lookup = std::function<std::optional<std::string>(std::string_view)>;
std::optional<proxy_setting> proxy_from_env(const env_lookup& env);

// An http proxy URL as host and port: "http://host:port[/]", "host:port" (a scheme-less
// value, as curl and Python accept), "[v6]:port"; no port means 80. Userinfo is dropped
// (and never printed). nullopt, with why, for other schemes or a malformed value.
struct proxy_address {
  std::string host;  // without brackets
  std::uint16_t port = 80;
  std::string display;  // "http://host:port", no userinfo
};
std::optional<proxy_address> parse_proxy_url(std::string_view url, std::string& why);

// The directory of the CA kit the agent sourced, for the fixes: the folder of
// SSL_CERT_FILE when it names a ca-bundle.pem, else of NODE_EXTRA_CA_CERTS when it names a
// ca.pem, else /run/airlock (tls.ca.export_dir's default).
std::string kit_dir(const env_lookup& env);

}  // namespace airlock::proxy::doctor

#pragma once
// What `airlock doctor` runs for each runtime it finds: plain data. A probe makes one real
// HTTPS request to the check host (check_host.hpp) the way the runtime's own tools do, with
// whatever proxy and trust settings the environment gives it, and prints the answer (which
// carries check_marker) or the runtime's own error. judge.hpp reads the result.
//
// Templates use placeholders replaced by expand(): {exe} the runtime's path, {url}
// https://CHECK_HOST, {host} the check host, {dir} a private directory holding the probe's
// file, {secs} and {ms} the network timeout. Fix texts use {kit} (the directory of the CA
// kit: ca.env, proxy.env) and {proxy} (the proxy URL).

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace airlock::proxy::doctor {

struct probe_file {
  std::string name;  // written into {dir}
  std::string text;  // a template
};

struct runtime_probe {
  std::string name;                      // as reported: "curl", "python3"
  std::vector<std::string> executables;  // looked up on PATH in this order
  std::vector<std::string> argv;         // templates
  std::vector<probe_file> files;
  bool run_in_dir = false;  // the working directory is {dir} (go run of a lone file)
  std::vector<std::pair<std::string, std::string>> env;  // added to the inherited environment
  std::chrono::seconds timeout{20};                      // the whole run, compiling included
  // Output that says the probe itself cannot run here (a JRE without a compiler), which is
  // reported as skipped rather than as the runtime failing.
  std::vector<std::string> cannot_run;
  std::string fix_bypass;     // the proxy was not used
  std::string fix_untrusted;  // the proxy was used, airlock's CA not trusted
};

// Every runtime the doctor knows, in report order: curl, wget, python3, node, bun, deno, go,
// java, git, npm, pip.
const std::vector<runtime_probe>& runtime_probes();

// The network timeout given to each probe's own request ({secs}, {ms}).
inline constexpr std::chrono::seconds network_timeout{10};

// The first directory of path (a PATH value) holding name as a file executable() accepts:
// "dir/name", or empty. Empty entries (the working directory) are skipped.
std::string find_on_path(std::string_view path, std::string_view name,
                         const std::function<bool(const std::string&)>& executable);

// text with every {name} of vars replaced; other braces are left alone (scripts have them).
std::string expand(std::string_view text, const std::map<std::string, std::string>& vars);

}  // namespace airlock::proxy::doctor

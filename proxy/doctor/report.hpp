#pragma once
// What `airlock doctor` prints and exits with: a plain table or one JSON document. Pure.

#include <string>
#include <vector>

#include "proxy/doctor/judge.hpp"

namespace airlock::proxy::doctor {

// The doctor's own request to the proxy the environment names (the check host, plain
// http): is there a proxy, and is it airlock.
struct proxy_report {
  std::string variable;  // where the URL came from: "HTTPS_PROXY", "--proxy"; empty: none
  std::string url;       // without userinfo
  bool reached = false;  // something answered at that address
  bool airlock = false;  // and its answer was the check host's
  std::string answer;    // airlock's answer line, or what was wrong
};

struct runtime_report {
  std::string name;
  std::string path;
  finding found;
};

struct report {
  proxy_report proxy;
  std::string kit;  // the CA kit's directory, for the fixes
  std::vector<runtime_report> runtimes;
};

// 0 when the proxy is airlock and no runtime bypasses it, distrusts its CA or fails; else 1.
int exit_code(const report& r);

// The fix for the proxy check, empty when airlock answered.
std::string proxy_fix(const report& r);

// A fix with {kit} and {proxy} filled in.
std::string fix_text(const report& r, const std::string& fix);

std::string render_table(const report& r);

// {"ok":bool,"check_host":..,"kit":..,"proxy":{"variable","url","reached","airlock","answer",
// "fix"},"runtimes":[{"name","path","result","proxy_used","ca_trusted","detail","fix"}]};
// proxy_used and ca_trusted are true, false or null (not known).
std::string render_json(const report& r);

}  // namespace airlock::proxy::doctor

#include "proxy/doctor/doctor.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proxy/doctor/probes.hpp"
#include "proxy/doctor/proxy_check.hpp"
#include "proxy/doctor/report.hpp"
#include "proxy/doctor/run_probe.hpp"
#include "proxy/policy/check_host.hpp"

extern char** environ;

namespace airlock::proxy::doctor {

namespace {

constexpr std::string_view usage =
    "usage: airlock doctor [--proxy URL] [--json]\n"
    "  checks, inside the agent's container, that each runtime on PATH goes through airlock\n"
    "  and trusts its CA. --proxy URL: check as if the proxy variables named URL (default:\n"
    "  https_proxy, HTTPS_PROXY, http_proxy, HTTP_PROXY). Exit 0: all pass; 1: a runtime\n"
    "  would bypass airlock or fail; 2: bad usage.\n";
constexpr std::size_t parallel_probes = 4;
constexpr std::chrono::milliseconds proxy_timeout{5000};

struct options {
  std::optional<std::string> proxy;
  bool json = false;
};

std::optional<options> parse(int argc, char** argv) {
  options o;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--json") {
      o.json = true;
    } else if (arg == "--proxy" && i + 1 < argc) {
      o.proxy = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    } else {
      std::cerr << "airlock doctor: unexpected \"" << arg << "\"\n" << usage;
      return std::nullopt;
    }
  }
  return o;
}

std::optional<std::string> getenv_value(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The doctor's environment with `set` replacing any variable of the same name.
std::vector<std::string> child_env(const std::vector<std::pair<std::string, std::string>>& set) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry = *e;
    const std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [n, v] : set) {
      replaced = replaced || n == name;
    }
    if (!replaced) {
      out.emplace_back(entry);
    }
  }
  for (const auto& [n, v] : set) {
    out.push_back(n + "=" + v);
  }
  return out;
}

// A private directory for the probes' files; removed by the caller.
std::string make_probe_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/airlock-doctor.XXXXXX";
  return ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
}

proxy_report check_proxy(const options& o) {
  proxy_report out;
  std::optional<proxy_setting> setting =
      o.proxy ? std::optional(proxy_setting{"--proxy", *o.proxy}) : proxy_from_env(getenv_value);
  if (!setting) {
    out.answer = "no proxy variable is set";
    return out;
  }
  out.variable = setting->variable;
  std::string why;
  const auto at = parse_proxy_url(setting->url, why);
  if (!at) {
    out.url = "(unusable)";
    out.answer = why;
    return out;
  }
  out.url = at->display;
  ask_proxy(*at, proxy_timeout, out);
  return out;
}

struct found_runtime {
  const runtime_probe* probe;
  std::string path;
};

std::vector<found_runtime> find_runtimes() {
  const std::string path = getenv_value("PATH").value_or("");
  std::vector<found_runtime> out;
  for (const auto& p : runtime_probes()) {
    for (const auto& exe : p.executables) {
      if (std::string at = find_on_path(path, exe, is_executable_file); !at.empty()) {
        out.push_back({&p, std::move(at)});
        break;
      }
    }
  }
  return out;
}

std::vector<command> build_commands(const std::vector<found_runtime>& found, const std::string& dir,
                                    const options& o) {
  std::map<std::string, std::string> vars{
      {"url", "https://" + std::string(check_host_name)},
      {"host", std::string(check_host_name)},
      {"dir", dir},
      {"secs", std::to_string(network_timeout.count())},
      {"ms", std::to_string(std::chrono::milliseconds(network_timeout).count())}};
  std::vector<command> out;
  for (const auto& rt : found) {
    vars["exe"] = rt.path;
    command c;
    for (const auto& arg : rt.probe->argv) {
      c.argv.push_back(expand(arg, vars));
    }
    for (const auto& file : rt.probe->files) {
      std::ofstream(dir + "/" + file.name) << expand(file.text, vars);
    }
    auto set = rt.probe->env;
    if (o.proxy) {
      for (const char* name : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"}) {
        set.emplace_back(name, *o.proxy);
      }
    }
    c.env = child_env(set);
    c.cwd = rt.probe->run_in_dir ? dir : std::string();
    c.timeout = rt.probe->timeout;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

int run_doctor(int argc, char** argv) {
  const auto o = parse(argc, argv);
  if (!o) {
    return 2;
  }
  report r;
  r.kit = kit_dir(getenv_value);
  r.proxy = check_proxy(*o);
  const auto found = find_runtimes();
  const std::string dir = make_probe_dir();
  if (dir.empty() && !found.empty()) {
    std::cerr << "airlock doctor: cannot make a directory for the probes in $TMPDIR or /tmp\n";
    return 1;
  }
  const auto results = run_all(build_commands(found, dir, *o), parallel_probes);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  for (std::size_t i = 0; i < found.size(); ++i) {
    r.runtimes.push_back({found[i].probe->name, found[i].path, judge(*found[i].probe, results[i])});
  }
  std::cout << (o->json ? render_json(r) : render_table(r)) << std::flush;
  return exit_code(r);
}

}  // namespace airlock::proxy::doctor

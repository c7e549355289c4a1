#include "proxy/doctor/report.hpp"

#include <algorithm>

#include "proxy/observe/json.hpp"
#include "proxy/policy/check_host.hpp"

namespace airlock::proxy::doctor {

namespace {

std::string_view yes_no(answer a) {
  return a == answer::yes ? "yes" : a == answer::no ? "no" : "-";
}

void json_answer(json_writer<std::string>& w, std::string_view key, answer a) {
  if (a == answer::unknown) {
    w.null_field(key);
  } else {
    w.field(key, a == answer::yes);
  }
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  out.resize(std::max(width, s.size() + 1), ' ');
  return out;
}

}  // namespace

int exit_code(const report& r) {
  const bool problem =
      std::any_of(r.runtimes.begin(), r.runtimes.end(),
                  [](const runtime_report& rt) { return is_problem(rt.found.what); });
  return r.proxy.airlock && !problem ? 0 : 1;
}

std::string proxy_fix(const report& r) {
  if (r.proxy.airlock) {
    return {};
  }
  if (r.proxy.variable.empty()) {
    return fix_text(r,
                    "no proxy is set: source {kit}/proxy.env, or export "
                    "HTTPS_PROXY=http://127.0.0.1:3128 (and the same for https_proxy, "
                    "HTTP_PROXY, http_proxy)");
  }
  if (!r.proxy.reached) {
    return fix_text(r, "nothing answered at {proxy}: is airlock running, and does " +
                           r.proxy.variable + " name its proxy.listen?");
  }
  return fix_text(
      r, "{proxy} answered, but not as airlock: " + r.proxy.variable + " names another proxy");
}

std::string fix_text(const report& r, const std::string& fix) {
  const std::string proxy = r.proxy.url.empty() ? "http://127.0.0.1:3128" : r.proxy.url;
  return expand(fix, {{"kit", r.kit}, {"proxy", proxy}});
}

std::string render_table(const report& r) {
  std::string out = "proxy:  ";
  if (r.proxy.variable.empty()) {
    out += "none set";
  } else {
    out += r.proxy.variable + "=" + r.proxy.url + ": " + r.proxy.answer;
  }
  out += "\n";
  if (const std::string fix = proxy_fix(r); !fix.empty()) {
    out += "  fix: " + fix + "\n";
  }
  out +=
      "check:  https://" + std::string(check_host_name) + "/ from each runtime found on PATH\n\n";
  if (r.runtimes.empty()) {
    out +=
        "no runtime found on PATH (curl, wget, python3, node, bun, deno, go, java, git, npm, "
        "pip)\n";
    return out;
  }
  std::size_t name_w = 8;
  std::size_t path_w = 5;
  for (const auto& rt : r.runtimes) {
    name_w = std::max(name_w, rt.name.size() + 1);
    path_w = std::max(path_w, rt.path.size() + 1);
  }
  out += pad("RUNTIME", name_w) + pad("PATH", path_w) + "PROXY CA  RESULT\n";
  for (const auto& rt : r.runtimes) {
    out += pad(rt.name, name_w) + pad(rt.path, path_w) + pad(yes_no(rt.found.proxy_used), 6) +
           pad(yes_no(rt.found.ca_trusted), 4) + std::string(result_name(rt.found.what)) + "\n";
  }
  std::size_t problems = 0;
  for (const auto& rt : r.runtimes) {
    if (rt.found.what == result::ok) {
      continue;
    }
    problems += is_problem(rt.found.what) ? 1 : 0;
    out += "\n" + rt.name + " (" + std::string(result_name(rt.found.what)) +
           "): " + rt.found.detail + "\n";
    if (!rt.found.fix.empty()) {
      out += "  fix: " + fix_text(r, rt.found.fix) + "\n";
    }
  }
  out += "\n";
  if (problems == 0) {
    out += "every runtime found goes through airlock and trusts its CA\n";
  } else {
    out += std::to_string(problems) + " of " + std::to_string(r.runtimes.size()) +
           " runtimes would bypass airlock or fail\n";
  }
  return out;
}

std::string render_json(const report& r) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.field("ok", exit_code(r) == 0);
  w.field("check_host", check_host_name);
  w.field("kit", r.kit);
  w.key("proxy");
  w.begin_object();
  w.field("variable", r.proxy.variable);
  w.field("url", r.proxy.url);
  w.field("reached", r.proxy.reached);
  w.field("airlock", r.proxy.airlock);
  w.field("answer", r.proxy.answer);
  w.field("fix", proxy_fix(r));
  w.end_object();
  w.key("runtimes");
  w.begin_array();
  for (const auto& rt : r.runtimes) {
    w.begin_object();
    w.field("name", rt.name);
    w.field("path", rt.path);
    w.field("result", result_name(rt.found.what));
    json_answer(w, "proxy_used", rt.found.proxy_used);
    json_answer(w, "ca_trusted", rt.found.ca_trusted);
    w.field("detail", rt.found.detail);
    w.field("fix", rt.found.fix.empty() ? std::string() : fix_text(r, rt.found.fix));
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out += "\n";
  return out;
}

}  // namespace airlock::proxy::doctor

// Fuzz target: credential injection. A rule loaded from fuzzed YAML renders its fields and
// query with a fixed secret; what comes out never splits a header line, and every client
// copy of a field the rule sets is dropped.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/load.hpp"
#include "proxy/policy/inject.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace airlock;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The input is a template value and a request target, split at the first NUL.
  const auto nul = input.find('\0');
  const std::string value(input.substr(0, nul));
  const std::string_view target =
      nul == std::string_view::npos ? std::string_view("/v1?key=1") : input.substr(nul + 1);
  if (value.find_first_of("\"\\") != std::string::npos) {
    return 0;  // keeps the YAML below well-formed; the loader is fuzzed on its own
  }
  config::config cfg;
  try {
    cfg = config::load_string(
        "secrets:\n  k: { env: FUZZ_UNUSED }\n"
        "credentials:\n"
        "  - { host: api.test, headers: { X-Api-Key: \"" +
            value + "\" }, query: { key: \"" + value + "\" } }\n",
        "fuzz.yaml");
  } catch (const config::config_error&) {
    return 0;
  }
  const auto& rule = cfg.credentials.at(0);
  const proxy::secret_lookup lookup = [](std::string_view) {
    return std::optional<std::string_view>("sk-fuzz-secret");
  };
  std::string fields;
  if (!proxy::append_injected_fields(fields, rule, lookup)) {
    // One field, one line: nothing in a value may end it early.
    check(fields.size() >= 2 && fields.substr(fields.size() - 2) == "\r\n");
    check(fields.find('\n') == fields.size() - 1);
    check(fields.find('\r') == fields.size() - 2);
  }
  if (!target.empty() && (target.front() == '/' || target.front() == '?')) {
    std::string out;
    if (!proxy::append_target_with_query(out, target, rule, lookup)) {
      check(out.find_first_of("\r\n ") == std::string::npos ||
            target.find_first_of("\r\n ") != std::string::npos);
    }
  }
  check(proxy::rule_sets_field(rule, "x-api-key"));
  check(proxy::rule_sets_field(rule, "X-API-KEY"));
  return 0;
}

#pragma once
// The vendors' own telemetry switches: environment variables the agent's tools read to stop
// sending usage data themselves, which telemetry.env in tls.ca.export_dir sets beside the
// proxy's blocking (config/telemetry_defaults.hpp). Each names where it was learnt.

#include <string>
#include <vector>

namespace airlock::config {

struct telemetry_optout {
  std::string tool;      // "Claude Code", "Gemini CLI"
  std::string variable;  // empty: the tool has no environment switch (source says what it has)
  std::string value;
  std::string source;
};

// In a fixed order; a variable appears at most once.
const std::vector<telemetry_optout>& vendor_telemetry_optouts();

}  // namespace airlock::config

#pragma once
// The vendor telemetry airlock blocks by default (telemetry.block_vendor_defaults):
// analytics, feature-flag event streams, error reporting and usage logging that agent
// CLIs send on their own. Each entry names where it was learnt in its source field.

#include <vector>

#include "config/model.hpp"

namespace airlock::config {

// In a fixed order; names are unique and stable (telemetry.unblock refers to them).
const std::vector<telemetry_entry>& vendor_telemetry_defaults();

}  // namespace airlock::config

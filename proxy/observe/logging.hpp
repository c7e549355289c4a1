#pragma once
// spdlog set-up: text or JSON lines on stderr. stdout is kept for the start-up
// banner that tells users (and tests) where airlock listens.

#include "config/model.hpp"

namespace airlock::proxy {

// Applies the level and format; the level name was validated by the config loader.
void setup_logging(const config::log_config& cfg);

}  // namespace airlock::proxy

// Fuzz target: the config loader. Any input either loads or throws config_error with a
// position; nothing else escapes and nothing crashes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    (void)airlock::config::load_string(input, "fuzz.yaml");
  } catch (const airlock::config::config_error& e) {
    if (e.line() < 0 || e.column() < 0 || e.message().empty()) {
      std::abort();
    }
  }
  return 0;
}

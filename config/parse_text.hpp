#pragma once
// Internal to config/: text checks the value parsers share.

#include <string>
#include <string_view>

namespace airlock::config {

// Letters, digits, '.', '-' and '_', at most 253 bytes, not starting with '.' or '-',
// no "..": a name the resolver could be asked for.
bool is_host_name(std::string_view name);

// "\"text\" tail", for error messages.
std::string quoted(std::string_view text, std::string_view tail);

}  // namespace airlock::config

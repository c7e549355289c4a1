#pragma once
// Pieces agent_kit.cpp and agent_kit_ca.cpp share; not for other callers.

#include <string>
#include <vector>

namespace airlock::proxy::intercept {

// True when s can be one JAVA_TOOL_OPTIONS word and sit inside sh double quotes: the JVM
// splits that variable on white space with no quoting, and "$`\ would be expanded.
bool java_option_safe(const std::string& s);

// sh lines that append options (not empty) to JAVA_TOOL_OPTIONS unless the first is there.
std::string append_java_options(const std::vector<std::string>& options);

}  // namespace airlock::proxy::intercept

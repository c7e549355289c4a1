#pragma once
// What stands between yaml-cpp 0.7 (Debian bookworm) and airlock: the parser overflows its
// stack on some inputs and never returns on others (found by fuzzing, tests/fuzz), and a
// config error must be an error with a position, not a crash or a hang.

#include <string>
#include <string_view>

namespace airlock::config {

// Refuses, with line and column, the shapes of input the parser is known to fail on:
// nesting deeper than any config needs, control characters, a misplaced leading ",".
void check_yaml_shape(std::string_view yaml, const std::string& name);

// Parses text once in a child process with a deadline. If the parser does not finish, or
// dies, throws config_error at the place where it starts failing (the shortest failing
// prefix). Only before any thread is started: it forks.
void parse_in_child(const std::string& text, const std::string& name);

}  // namespace airlock::config

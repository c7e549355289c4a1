#pragma once
// Loading a config from YAML. Every failure is a config_error that names the
// file, line and column (1-based) of the offending node; unknown keys are errors.

#include <stdexcept>
#include <string>
#include <string_view>

#include "config/model.hpp"

namespace airlock::config {

class config_error : public std::runtime_error {
 public:
  config_error(std::string file, int line, int column, std::string message);

  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string message_;
};

// Reads and validates FILE. Throws config_error (unreadable file: line 0, column 0).
config load_file(const std::string& path);

// Validates YAML text; `name` is what errors call the file.
config load_string(std::string_view yaml, const std::string& name);

// The config airlock runs with when no --config is given.
config embedded_default();
std::string_view embedded_default_yaml();

}  // namespace airlock::config

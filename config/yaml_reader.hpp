#pragma once
// Internal to config/: a YAML walker whose every accessor fails with the file, line
// and column of the node it looked at. Throws config_error; nothing else.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config/load.hpp"
#include "config/model.hpp"
#include "config/parse_values.hpp"

namespace airlock::config {

// Walks the YAML tree; every accessor fails with the position of the node it looked at.
class reader {
 public:
  explicit reader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) {
      throw config_error(file_, 1, 1, message);
    }
    throw config_error(file_, mark.line + 1, mark.column + 1, message);
  }

  // Fails unless node is a map whose keys are all in `allowed`.
  void expect_map(const YAML::Node& node, const std::string& path,
                  std::initializer_list<std::string_view> allowed) const {
    expect_any_map(node, path);
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string known;
        for (auto a : allowed) {
          known += known.empty() ? "" : ", ";
          known += a;
        }
        fail(kv.first, "unknown key \"" + key + "\" in " + path + " (known: " + known + ")");
      }
    }
  }

  // Fails unless node is a map without duplicate keys or empty values; any key goes.
  void expect_any_map(const YAML::Node& node, const std::string& path) const {
    if (!node.IsMap()) {
      fail(node, path + ": expected a mapping");
    }
    std::vector<std::string> seen;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      // yaml-cpp keeps the first of two equal keys silently; a config must not say two things.
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        fail(kv.first, "duplicate key \"" + key + "\" in " + path);
      }
      seen.push_back(key);
      if (kv.second.IsNull()) {
        // yaml-cpp marks an empty value at the next token; the key is where the user looks.
        fail(kv.first, path == "the top level" ? key + ": missing value"
                                               : path + "." + key + ": missing value");
      }
    }
  }

  bool boolean(const YAML::Node& node, const std::string& path) const {
    const std::string text = scalar(node, path);
    if (text == "true") {
      return true;
    }
    if (text == "false") {
      return false;
    }
    fail(node, path + ": expected true or false, got \"" + text + "\"");
  }

  std::string scalar(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) {
      fail(node, path + ": expected a single value");
    }
    return node.Scalar();
  }

  std::uint64_t integer(const YAML::Node& node, const std::string& path, std::uint64_t min,
                        std::uint64_t max) const {
    const std::string text = scalar(node, path);
    auto value = parse_size(text);
    if (!value || text.find_first_not_of("0123456789") != std::string::npos) {
      fail(node, path + ": expected a whole number, got \"" + text + "\"");
    }
    if (*value < min || *value > max) {
      fail(node, path + ": must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return *value;
  }

  std::uint64_t size(const YAML::Node& node, const std::string& path, std::uint64_t min,
                     std::uint64_t max) const {
    const std::string text = scalar(node, path);
    auto value = parse_size(text);
    if (!value) {
      fail(node, path + ": expected a size like 65536 or 64KiB, got \"" + text + "\"");
    }
    if (*value < min || *value > max) {
      fail(node, path + ": must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     " bytes");
    }
    return *value;
  }

  duration time(const YAML::Node& node, const std::string& path) const {
    const std::string text = scalar(node, path);
    auto value = parse_duration(text);
    if (!value || value->count() <= 0) {
      fail(node, path + ": expected a positive duration like 250ms, 10s, 5m, got \"" + text + "\"");
    }
    return *value;
  }

  endpoint address(const YAML::Node& node, const std::string& path, bool allow_zero_port) const {
    const std::string text = scalar(node, path);
    auto parsed = parse_endpoint(text, allow_zero_port);
    if (auto* err = std::get_if<std::string>(&parsed)) {
      fail(node, path + ": " + *err + ", got \"" + text + "\"");
    }
    return std::get<endpoint>(parsed);
  }

 private:
  std::string file_;
};

}  // namespace airlock::config

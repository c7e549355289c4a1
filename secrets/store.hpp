#pragma once
// The secret store as injection reads it: every configured secret by name, its value
// in locked memory once loaded. Loaded at start from file and env sources; the push
// source, rotation and revoke come with the lifecycle. Read-only once built, so the
// data plane's lookups take no lock.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "secrets/secret_value.hpp"

namespace airlock::secrets {

class store {
 public:
  // Reads every source. A source that cannot be read, or whose value holds CR, LF or
  // NUL (it would split a header line), leaves that secret missing and is reported in
  // problems(), never with the value. env sources are removed from the environment.
  static store load(const std::vector<config::secret_source>& sources);

  // The value, or nullopt when the secret is not present.
  std::optional<std::string_view> lookup(std::string_view name) const;

  // Names of required secrets that are not present.
  std::vector<std::string> missing_required() const;

  // One line per source that failed to load, naming the secret and the reason.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::map<std::string, secret_value, std::less<>> values_;
  std::vector<std::pair<std::string, bool>> declared_;  // name, required
  std::vector<std::string> problems_;
};

// Trims one trailing "\n" or "\r\n" (files written by editors and `echo`); false when
// the rest contains CR, LF or NUL.
bool normalise_secret_text(std::string& text);

}  // namespace airlock::secrets

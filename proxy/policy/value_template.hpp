#pragma once
// A config value template ("Bearer {{name}}") rendered with the secrets' current values.
// Shared by credential injection and revoke hooks, so both read a template the same way.
// Pure: the values come through a lookup the caller provides, and the caller wipes the
// output once it is sent.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/model.hpp"

namespace airlock::proxy {

// Returns a secret's current value, or nullopt when it is not present.
using secret_lookup = std::function<std::optional<std::string_view>(std::string_view name)>;

// Appends the template's literal text and secret values, in order, to out. On a missing
// secret returns its name instead; out then holds the part rendered before it, which the
// caller wipes.
std::optional<std::string> render(std::string& out, const config::value_template& t,
                                  const secret_lookup& lookup);

}  // namespace airlock::proxy

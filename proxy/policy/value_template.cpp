#include "proxy/policy/value_template.hpp"

namespace airlock::proxy {

std::optional<std::string> render(std::string& out, const config::value_template& t,
                                  const secret_lookup& lookup) {
  for (const auto& part : t.parts) {
    if (!part.secret) {
      out.append(part.text);
      continue;
    }
    const auto value = lookup(part.text);
    if (!value) {
      return part.text;
    }
    out.append(*value);
  }
  return std::nullopt;
}

}  // namespace airlock::proxy

#pragma once
// JSON string escaping for the bodies and log lines airlock writes itself: no input
// (a config name, a log message) can end the string and forge a field.

#include <string_view>

namespace airlock::proxy {

// Appends text as a quoted JSON string to any buffer with push_back(char) and
// append(const char*, const char*) (std::string, fmt/spdlog memory buffers).
template <typename Buffer>
void append_json_string(Buffer& dest, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  dest.push_back('"');
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      dest.push_back('\\');
      dest.push_back(ch);
    } else if (c == '\n') {
      dest.push_back('\\');
      dest.push_back('n');
    } else if (c < 0x20 || c == 0x7f) {
      const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      dest.append(esc, esc + 6);
    } else {
      dest.push_back(ch);
    }
  }
  dest.push_back('"');
}

}  // namespace airlock::proxy

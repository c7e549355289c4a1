#pragma once
// JSON for the bodies and log lines airlock writes itself: no input (a config name, a log
// message) can end a string and forge a field, and the writer places every comma, so no
// caller assembles punctuation by hand.

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
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

// A count of thousandths written as a decimal with exactly three places ("12.500" for
// 12500): timestamps and durations without printf's floating-point machinery.
struct json_thousandths {
  std::uint64_t value = 0;
};

// Appends one JSON document to a buffer (as append_json_string). Keys and strings are
// always escaped; commas follow from the call order: a value or key after a sibling gets
// one, the first in a container and a value after its key do not. Nothing is allocated
// beyond the buffer's own growth, and nesting depth is the caller's code, not input.
//
//   json_writer w(body);
//   w.begin_object();
//   w.field("error", reason);
//   w.key("names");
//   w.begin_array();
//   w.value("a");
//   w.end_array();
//   w.end_object();
template <typename Buffer>
class json_writer {
 public:
  explicit json_writer(Buffer& dest) : dest_(dest) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  void key(std::string_view name) {
    separate();
    append_json_string(dest_, name);
    dest_.push_back(':');
    sibling_ = false;
  }

  void value(std::string_view text) {
    separate();
    append_json_string(dest_, text);
  }
  // Without it a string literal would convert to bool (a standard conversion) before
  // string_view (a user-defined one).
  void value(const char* text) { value(std::string_view(text)); }
  template <std::same_as<bool> Bool>
  void value(Bool b) {
    raw(b ? std::string_view("true") : std::string_view("false"));
  }
  template <std::integral Int>
  requires(!std::same_as<Int, bool> && !std::same_as<Int, char>) void value(Int n) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof(digits), n);
    raw(std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
  }
  void value(json_thousandths t) {
    char digits[28];
    auto r = std::to_chars(digits, digits + 20, t.value / 1000);
    const auto frac = static_cast<unsigned>(t.value % 1000);
    *r.ptr++ = '.';
    *r.ptr++ = static_cast<char>('0' + frac / 100);
    *r.ptr++ = static_cast<char>('0' + frac / 10 % 10);
    *r.ptr++ = static_cast<char>('0' + frac % 10);
    raw(std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
  }
  void null() { raw("null"); }

  template <typename Value>
  void field(std::string_view name, const Value& v) {
    key(name);
    value(v);
  }
  void null_field(std::string_view name) {
    key(name);
    null();
  }

 private:
  void separate() {
    if (sibling_) {
      dest_.push_back(',');
    }
    sibling_ = true;
  }
  void raw(std::string_view text) {
    separate();
    dest_.append(text.data(), text.data() + text.size());
  }
  void open(char bracket) {
    separate();
    dest_.push_back(bracket);
    sibling_ = false;
  }
  void close(char bracket) {
    dest_.push_back(bracket);
    // The container just closed is a value of its parent, so whatever follows is a sibling.
    sibling_ = true;
  }

  Buffer& dest_;
  // True when the next key or value follows another at the same level and needs a comma.
  bool sibling_ = false;
};

}  // namespace airlock::proxy

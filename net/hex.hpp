#pragma once
// One hex digit, for percent-escapes in paths and chunk sizes in bodies.

namespace airlock::net {

// The value of a hex digit (either case), -1 for anything else.
constexpr int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace airlock::net

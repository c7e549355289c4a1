// The JSON writer: every byte a caller passes lands inside a string (escaped), commas come
// from the call order, and a name chosen by whoever wrote the config cannot add a field.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "proxy/observe/json.hpp"

namespace airlock::proxy {
namespace {

std::string escaped(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(json_writer, escapes_every_control_byte_quote_backslash_and_del) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string in(1, static_cast<char>(c));
    const std::string expected =
        c == '\n' ? std::string("\"\\n\"") : fmt::format("\"\\u{:04x}\"", c);
    EXPECT_EQ(escaped(in), expected) << "byte " << c;
  }
  EXPECT_EQ(escaped("\x7f"), "\"\\u007f\"");
  EXPECT_EQ(escaped("\""), R"("\"")");
  EXPECT_EQ(escaped("\\"), R"("\\")");
  // A NUL inside the view is data, not the end of it.
  EXPECT_EQ(escaped(std::string_view("a\0b", 3)), R"("a\u0000b")");
}

TEST(json_writer, passes_printable_ascii_and_utf8_bytes_through) {
  for (int c = 0x20; c < 0x7f; ++c) {
    if (c == '"' || c == '\\') {
      continue;
    }
    const std::string in(1, static_cast<char>(c));
    EXPECT_EQ(escaped(in), "\"" + in + "\"") << "byte " << c;
  }
  EXPECT_EQ(escaped("gr\xc3\xbc\xc3\x9f"), "\"gr\xc3\xbc\xc3\x9f\"");
  EXPECT_EQ(escaped(""), "\"\"");
}

TEST(json_writer, places_commas_between_siblings_only) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.field("a", "text");
  w.field("n", 3);
  w.field("ok", true);
  w.field("no", false);
  w.null_field("none");
  w.end_object();
  EXPECT_EQ(out, R"({"a":"text","n":3,"ok":true,"no":false,"none":null})");
}

TEST(json_writer, nests_objects_and_arrays) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("empty");
  w.begin_array();
  w.end_array();
  w.key("list");
  w.begin_array();
  w.value("x");
  w.begin_object();
  w.field("k", 1);
  w.end_object();
  w.begin_array();
  w.end_array();
  w.value(2);
  w.null();
  w.end_array();
  w.key("obj");
  w.begin_object();
  w.end_object();
  w.field("last", "y");
  w.end_object();
  EXPECT_EQ(out, R"({"empty":[],"list":["x",{"k":1},[],2,null],"obj":{},"last":"y"})");
}

TEST(json_writer, top_level_array_and_scalar) {
  std::string arr;
  json_writer a(arr);
  a.begin_array();
  a.value(1);
  a.value(2);
  a.end_array();
  EXPECT_EQ(arr, "[1,2]");
  std::string scalar;
  json_writer s(scalar);
  s.value("only");
  EXPECT_EQ(scalar, R"("only")");
}

TEST(json_writer, writes_integers_of_every_width_and_sign) {
  std::string out;
  json_writer w(out);
  w.begin_array();
  w.value(0);
  w.value(-7);
  w.value(std::numeric_limits<std::int64_t>::min());
  w.value(std::numeric_limits<std::uint64_t>::max());
  w.value(static_cast<std::uint16_t>(443));
  w.end_array();
  EXPECT_EQ(out, "[0,-7,-9223372036854775808,18446744073709551615,443]");
}

TEST(json_writer, string_literal_is_a_string_not_a_bool) {
  std::string out;
  json_writer w(out);
  w.value("true");
  EXPECT_EQ(out, R"("true")");
}

TEST(json_writer, writes_thousandths_with_three_places) {
  std::string out;
  json_writer w(out);
  w.begin_array();
  w.value(json_thousandths{12500});
  w.value(json_thousandths{7});
  w.value(json_thousandths{0});
  w.value(json_thousandths{1700000000123});
  w.end_array();
  EXPECT_EQ(out, "[12.500,0.007,0.000,1700000000.123]");
}

TEST(json_writer, config_name_cannot_forge_a_field) {
  const std::string rule = R"(x","forged":"1)";
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.field("error", "egress_denied");
  w.field("rule", rule);
  w.end_object();
  EXPECT_EQ(out, R"({"error":"egress_denied","rule":"x\",\"forged\":\"1"})");
  // Keys are escaped too: a key built from input stays one key.
  std::string keyed;
  json_writer k(keyed);
  k.begin_object();
  k.field(rule, 1);
  k.end_object();
  EXPECT_EQ(keyed, R"({"x\",\"forged\":\"1":1})");
}

TEST(json_writer, newline_in_a_value_cannot_start_a_new_line) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.field("msg", "a\n{\"level\":\"error\"}\r");
  w.end_object();
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_EQ(out, R"({"msg":"a\n{\"level\":\"error\"}\u000d"})");
}

TEST(json_writer, writes_into_an_fmt_memory_buffer) {
  fmt::memory_buffer buf;
  json_writer w(buf);
  w.begin_object();
  w.field("ts", json_thousandths{1500});
  w.field("msg", "q\"\x01");
  w.end_object();
  EXPECT_EQ(fmt::to_string(buf), R"({"ts":1.500,"msg":"q\"\u0001"})");
}

}  // namespace
}  // namespace airlock::proxy

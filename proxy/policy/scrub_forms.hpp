#pragma once
// The forms in which a response may carry a secret it must not carry (issue 18), as patterns
// over decoded units. Pure, no I/O.
//
// Two layers, so that no encoding multiplies the patterns:
// - A form is a sequence of units. A unit accepts one byte, or one of two (a hex digit's two
//   cases, so mixed-case hex costs nothing; base64's '+'/'-' and '/'/'_', so one pattern is
//   both the standard and the URL-safe alphabet). The forms of a value are its raw bytes,
//   its hex digits, and the stable part of its base64 at each of the three alignments.
// - Each unit may be spelled in the body in any of these ways, chosen per unit, so that
//   encoders that escape different characters (and mixtures of them) are all caught:
//     the byte itself ('+' also spells ' ', as in form encoding);
//     %HH, either case for each H (so %2f, %2F);
//     \u00HH, either case for each H, for ASCII bytes (JSON may escape any of them);
//     \" \\ \/ \b \f \n \r \t for the bytes JSON gives a short escape.
//   The spellings are matched by one automaton (scrub_automaton), not expanded, so mixed
//   case in %HH, \u00HH and hex costs states linear in the form's length, not 2^length.
//
// Base64 alignment: a value that starts at byte offset a (mod 3) of a longer base64 input
// determines only the characters whose six bits all come from it: characters ceil(8a/6) to
// floor((8a+8n)/6)-1 of the encoding. That stable middle is the same whatever surrounds the
// value, so it is the pattern; the character before it mixes in bits of the bytes before
// the value (at most 4 bits of the value's first byte stay visible). Where the value ends
// the input, the padded and unpadded endings (the last, zero-filled character, then '=' or
// "==") extend the middle, so a value that is a whole base64 string is masked to the end.
//
// Short values: a value shorter than scrub_min_derived_length bytes is matched in its raw
// form only (in every spelling). Its hex and base64 forms would be a handful of characters
// that ordinary base64 and hex content (images, hashes, ids) contains by chance, so masking
// them would corrupt bodies; and a value that short is guessable whatever we mask. Empty
// values are ignored.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "secrets/wiping_allocator.hpp"

namespace airlock::proxy {

// Below this many bytes a value is matched in its raw form only (see above).
inline constexpr std::size_t scrub_min_derived_length = 8;

// One position of a form: the decoded bytes it accepts (a == b when only one).
struct scrub_unit {
  std::uint8_t a = 0;
  std::uint8_t b = 0;
};

enum class scrub_form_kind : std::uint8_t { raw, hex, base64 };

struct scrub_form {
  scrub_form_kind kind = scrub_form_kind::raw;
  std::uint8_t alignment = 0;  // base64: the value's offset mod 3 in the encoded input
  std::vector<scrub_unit, secrets::wiping_allocator<scrub_unit>> units;
  // The unit counts at which an occurrence ends, ascending; the last is units.size(). More
  // than one for base64 ending the input: the middle, then the unpadded and padded endings.
  std::vector<std::uint32_t> ends;
};

// Every form of every value, duplicates removed. For basic_auth the caller passes both the
// password and "user:password" (which goes upstream base64-encoded).
std::vector<scrub_form> scrub_forms(std::span<const std::string_view> values);

// The most bytes one unit's spellings take: 6 for ASCII ("\u00HH"), 3 for others ("%HH").
std::size_t longest_spelling(scrub_unit u);

// The longest spelling of a whole form, to its last end.
std::size_t longest_spelling(const scrub_form& form);

// The short JSON escape letter of byte c ('n' for '\n', '/' for '/'), or 0 when it has none.
std::uint8_t json_short_escape(std::uint8_t c);

}  // namespace airlock::proxy

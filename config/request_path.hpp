#pragma once
// How servers read a request path, for every decision scoped by path: credential rule
// prefixes, reverse routes and telemetry path entries. Pure functions; config loading
// uses them too, so a configured prefix is already in the form requests are compared in.
//
// Servers disagree on paths: Tomcat, Jetty and Spring drop ";params" (so "/a/..;/b" is
// "/b"), nginx merges "//", IIS reads "\" and "%u002e", some decode "%2F" or decode
// twice, old decoders accept overlong UTF-8 ("%c0%ae" is "."). A credential may only be
// scoped by a path that every one of them reads the same way; a block list may use the
// widest reading.

#include <string>
#include <string_view>

namespace airlock::config {

enum class path_decoding {
  // RFC 3986 6.2.2: only unreserved characters (letters, digits, "-._~") are decoded;
  // other escapes stay, hex in uppercase. Every server agrees on these.
  unreserved,
  // Every escape decoded, "%2F" and "%5C" then separate segments: the widest reading,
  // for matching a block list.
  all,
};

// The path (no query) in normal form: ";params" cut from each segment (as Tomcat does),
// "\" read as "/", escapes decoded as `decoding` says, "." and ".." segments removed
// (RFC 3986 5.2.4) and repeated "/" merged; a trailing "/" kept. A path that does not
// start with "/" ("*") is returned as it is.
std::string normalize_path(std::string_view path, path_decoding decoding);

// Why some mainstream server could read path (no query) as another path than its plain
// spelling: a ";" parameter, a "." or ".." segment (also encoded, or Windows' "..."),
// repeated "/", "\", an encoded "/", "\", ";", "%" or control character (NUL), a malformed
// escape (IIS's "%u"), invalid or overlong UTF-8, or a character Unicode or Windows
// best-fit folds into ".", "/" or "\". Empty when there is none: then the path means
// the same to all of them, and normalize_path(path, unreserved) is that meaning.
std::string_view path_doubt(std::string_view path);

// Whether prefix covers path by whole segments: "/v1" covers "/v1" and "/v1/x" but not
// "/v1beta"; "/v1/" covers "/v1/x". Byte for byte, both in normal form.
bool path_within(std::string_view path, std::string_view prefix);

// Why a configured prefix could never be compared with request paths read this way, or
// empty: it must start with "/", have no query, raise no path_doubt, and already be in
// normal form (the message then shows that form).
std::string prefix_problem(std::string_view prefix, path_decoding decoding);

}  // namespace airlock::config

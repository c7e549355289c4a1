// How request paths are read for path-scoped decisions. Every spelling here is one a
// mainstream server reads as another path than the plain one: each must either raise a
// doubt (credential scopes, routes) or normalise to that other path (telemetry blocking).

#include "config/request_path.hpp"

#include <gtest/gtest.h>

#include <string>

#include "config/load.hpp"

namespace airlock::config {
namespace {

std::string unreserved(std::string_view p) {
  return normalize_path(p, path_decoding::unreserved);
}
std::string all(std::string_view p) {
  return normalize_path(p, path_decoding::all);
}

TEST(normalize_path, removes_dot_segments_as_rfc_3986_does) {
  EXPECT_EQ(unreserved("/a/b/c/./../../g"), "/a/g");
  EXPECT_EQ(unreserved("/a/./b"), "/a/b");
  EXPECT_EQ(unreserved("/a/b/.."), "/a/");
  EXPECT_EQ(unreserved("/a/b/."), "/a/b/");
  EXPECT_EQ(unreserved("/.."), "/");
  EXPECT_EQ(unreserved("/../../x"), "/x");
  EXPECT_EQ(unreserved("/a/..b/c.."), "/a/..b/c..");  // not dot segments
  EXPECT_EQ(unreserved("/"), "/");
  EXPECT_EQ(unreserved("*"), "*");
}

TEST(normalize_path, merges_slashes_and_reads_backslash_as_slash) {
  EXPECT_EQ(unreserved("/api//event_logging///batch"), "/api/event_logging/batch");
  EXPECT_EQ(unreserved("//v1/x"), "/v1/x");
  EXPECT_EQ(unreserved("/v1/x/"), "/v1/x/");
  EXPECT_EQ(unreserved("/v1\\..\\admin"), "/admin");
}

TEST(normalize_path, cuts_path_parameters_as_tomcat_does) {
  EXPECT_EQ(unreserved("/my-org/..;/other-org/repo"), "/other-org/repo");
  EXPECT_EQ(unreserved("/a;jsessionid=1/b;x=y"), "/a/b");
  EXPECT_EQ(unreserved("/a/.;x/b"), "/a/b");
  EXPECT_EQ(unreserved("/api;/event_logging/batch"), "/api/event_logging/batch");
}

TEST(normalize_path, decodes_unreserved_escapes_only_unless_asked) {
  EXPECT_EQ(unreserved("/api/%65vent_logging/batch"), "/api/event_logging/batch");
  EXPECT_EQ(unreserved("/%7euser/%2e%2E/x"), "/x");
  EXPECT_EQ(unreserved("/a%2fb/%3a%20c"), "/a%2Fb/%3A%20c");  // reserved: kept, hex uppercase
  EXPECT_EQ(unreserved("/a%zz"), "/a%zz");                    // malformed: as written
  EXPECT_EQ(all("/a%2fb/%3a%20c"), "/a/b/: c");
  EXPECT_EQ(all("/api%2F..%2Fapi%5cevent_logging"), "/api/event_logging");
  EXPECT_EQ(all("/v1internal%3ArecordCodeAssistMetrics"), "/v1internal:recordCodeAssistMetrics");
}

TEST(path_doubt, plain_paths_have_none) {
  for (std::string_view p :
       {"/", "/v1/messages", "/my-org/repo.git/info/refs", "/a..b/.well-known/x.y", "/%7Euser",
        "/caf%C3%A9/%E2%82%AC", "/v1/models/gemini:generateContent", "/a%20b", "*", ""}) {
    EXPECT_EQ(path_doubt(p), "") << p;
  }
}

TEST(path_doubt, attacker_spellings_are_doubted) {
  for (std::string_view p : {
           "/my-org/..;/other-org/repo",  // Tomcat, Jetty, Spring: "/other-org/repo"
           "/my-org;x/repo",              // path parameter
           "/my-org/%3B/x",               // encoded ";"
           "/my-org/../other",            // dot segments, raw and encoded
           "/my-org/./x",
           "/my-org/..",
           "/my-org/.",
           "/my-org/%2e%2e/other",
           "/my-org/.%2E/other",
           "/my-org/%2E/x",
           "/my-org/.../other",  // Windows reads "..." and ".. " as ".."
           "/my-org/..%20/other",
           "/my-org//x",  // nginx merges, others do not
           "//my-org/x",
           "/my-org%2F..%2Fother",  // encoded separators
           "/my-org/..%5cother",
           "/my-org\\..\\other",  // IIS
           "/my-org/%00/x",       // encoded NUL and other controls
           "/my-org/x%00.json",
           "/my-org/%0d%0a",
           "/my-org/%7f",
           "/my-org/%252e%252e/x",    // double encoding
           "/my-org/%u002e%u002e/x",  // IIS %u, and malformed escapes
           "/my-org/%2",
           "/my-org/%",
           "/my-org/%c0%ae%c0%ae/x",  // overlong UTF-8 "."
           "/my-org/%c0%af",          // overlong "/"
           "/my-org/%e0%80%ae",
           "/my-org/%c1%9c",     // overlong "\"
           "/my-org/%ed%a0%80",  // surrogate
           "/my-org/%80",        // stray continuation
           "/my-org/%c3",        // truncated sequence
           "/my-org/%c3/x",
           "/my-org/%ef%bc%8e%ef%bc%8e/x",  // fullwidth "." (NFKC, best-fit)
           "/my-org/%ef%bc%8f",             // fullwidth "/"
           "/my-org/%c2%a5",                // yen sign: "\" under Japanese code pages
           "/my-org/x#/../y",
       }) {
    EXPECT_NE(path_doubt(p), "") << p;
  }
}

TEST(path_within, compares_whole_segments) {
  EXPECT_TRUE(path_within("/v1", "/v1"));
  EXPECT_TRUE(path_within("/v1/x", "/v1"));
  EXPECT_TRUE(path_within("/v1/", "/v1"));
  EXPECT_FALSE(path_within("/v1beta", "/v1"));
  EXPECT_TRUE(path_within("/my-org/repo", "/my-org/"));
  EXPECT_FALSE(path_within("/my-org", "/my-org/"));
  EXPECT_FALSE(path_within("/V1/x", "/v1"));
  EXPECT_TRUE(path_within("/anything", "/"));
}

TEST(prefix_problem, configured_prefixes_must_be_in_normal_form) {
  EXPECT_EQ(prefix_problem("/my-org/", path_decoding::unreserved), "");
  EXPECT_EQ(prefix_problem("/v1internal:recordCodeAssistMetrics", path_decoding::all), "");
  EXPECT_EQ(prefix_problem("/caf%C3%A9/", path_decoding::unreserved), "");
  EXPECT_NE(prefix_problem("my-org/", path_decoding::unreserved), "");
  EXPECT_NE(prefix_problem("/my-org/?x", path_decoding::unreserved), "");
  EXPECT_NE(prefix_problem("/my-org/../x", path_decoding::unreserved), "");
  EXPECT_NE(prefix_problem("/my-org//", path_decoding::unreserved), "");
  EXPECT_NE(prefix_problem("/a;b", path_decoding::unreserved), "");
  const std::string problem = prefix_problem("/%6dy-org/", path_decoding::unreserved);
  EXPECT_NE(problem.find("\"/my-org/\""), std::string::npos) << problem;
  EXPECT_NE(prefix_problem("/caf%C3%A9/", path_decoding::all), "");
  EXPECT_NE(prefix_problem("/caf%c3%a9/", path_decoding::unreserved), "");
}

// A credential rule's paths are checked at load, with the place in the file.
TEST(prefix_problem, credential_paths_are_refused_at_load_with_their_place) {
  const auto error_of = [](const std::string& yaml) {
    try {
      load_string(yaml, "c.yaml");
    } catch (const config_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string head = "secrets: { k: { env: K } }\ncredentials:\n";
  EXPECT_EQ(error_of(head + "  - { host: a.test, paths: [/my-org/], headers: { x: \"{{k}}\" } }\n"),
            "");
  EXPECT_EQ(
      error_of(head + "  - { host: a.test, paths: [/my-org/..;/], headers: { x: \"{{k}}\" } }\n"),
      "c.yaml:3:28: credentials[0].paths: a path prefix with a \";\" path parameter (Tomcat, "
      "Jetty and Spring drop it: \"/a/..;/b\" is \"/b\") matches no request, got "
      "\"/my-org/..;/\"");
  EXPECT_EQ(
      error_of(head + "  - { host: a.test, paths: [\"/%6Dy-org\"], headers: { x: \"{{k}}\" } }\n"),
      "c.yaml:3:28: credentials[0].paths: requests are compared in normal form: write "
      "\"/my-org\", got \"/%6Dy-org\"");
}

}  // namespace
}  // namespace airlock::config

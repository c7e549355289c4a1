#pragma once
// git's smart HTTP server side for the in-process HTTPS upstream: one request in, the
// response `git http-backend` (CGI) makes for it out. Lets a test clone over HTTPS from
// a server whose only gate is the credential airlock injects.

#include <filesystem>
#include <string>

namespace airlock::test {

// Runs git http-backend for one raw request (head and Content-Length body) against
// the repositories under project_root and returns a complete HTTP/1.1 response. Scratch
// files (the body, CGI output) go into scratch_dir. A backend that fails or takes over
// 30 s gives a 500 with its stderr as the body.
std::string git_http_backend_response(const std::filesystem::path& project_root,
                                      const std::filesystem::path& scratch_dir,
                                      const std::string& request);

}  // namespace airlock::test

#include "tests/support/git_http_backend.hpp"

#include <atomic>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/files.hpp"
#include "tests/support/tls_echo_server.hpp"

namespace airlock::test {

namespace {

std::string first_or_empty(const std::vector<std::string>& values) {
  return values.empty() ? std::string() : values.front();
}

std::string plain_response(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " Error\r\nContent-Type: text/plain\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

std::string git_http_backend_response(const std::filesystem::path& project_root,
                                      const std::filesystem::path& scratch_dir,
                                      const std::string& request) {
  static std::atomic<int> counter{0};
  const std::string name = "git-cgi-" + std::to_string(counter.fetch_add(1));
  const auto head_end = request.find("\r\n\r\n");
  const std::string head = request.substr(0, head_end + 4);
  const std::string body = request.substr(head_end + 4);

  // "GET /repo.git/info/refs?service=git-upload-pack HTTP/1.1"
  const std::string line = request_line(head);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.find(' ', sp1 + 1);
  const std::string method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto q = target.find('?');

  const auto body_file = scratch_dir / (name + ".in");
  write_file(body_file, body);
  std::vector<std::string> env = {
      "GIT_PROJECT_ROOT=" + project_root.string(),
      "GIT_HTTP_EXPORT_ALL=1",
      "GATEWAY_INTERFACE=CGI/1.1",
      "REQUEST_METHOD=" + method,
      "PATH_INFO=" + target.substr(0, q),
      "QUERY_STRING=" + (q == std::string::npos ? std::string() : target.substr(q + 1)),
      "CONTENT_LENGTH=" + std::to_string(body.size()),
      "CONTENT_TYPE=" + first_or_empty(field_values(head, "content-type")),
      "HTTP_CONTENT_ENCODING=" + first_or_empty(field_values(head, "content-encoding")),
      "REMOTE_USER=git",
      "REMOTE_ADDR=127.0.0.1",
  };
  if (const auto proto = field_values(head, "git-protocol"); !proto.empty()) {
    env.push_back("GIT_PROTOCOL=" + proto.front());
  }
  // CGI reads the body from stdin; the child's stdin is /dev/null, so a shell redirects it.
  child_process cgi(spawn_options{
      {"/bin/sh", "-c", "exec /usr/lib/git-core/git-http-backend < \"$0\"", body_file.string()},
      scratch_dir / (name + ".out"),
      scratch_dir / (name + ".err"),
      {},
      env});
  const auto status = cgi.wait_for(std::chrono::seconds(30));
  const std::string out = read_file(scratch_dir / (name + ".out"));
  if (!status || *status != 0) {
    return plain_response(500,
                          "git http-backend failed:\n" + read_file(scratch_dir / (name + ".err")));
  }

  // CGI output: header lines, an empty line, the body. Status: sets the status line.
  const auto crlf_end = out.find("\r\n\r\n");
  const auto lf_end = out.find("\n\n");
  const bool crlf =
      crlf_end != std::string::npos && (lf_end == std::string::npos || crlf_end < lf_end);
  if (!crlf && lf_end == std::string::npos) {
    return plain_response(500, "git http-backend wrote no header end:\n" + out);
  }
  const std::size_t cgi_head_len = crlf ? crlf_end + 4 : lf_end + 2;
  std::string status_line = "HTTP/1.1 200 OK";
  std::string fields;
  std::size_t pos = 0;
  while (pos < cgi_head_len) {
    auto eol = out.find('\n', pos);
    std::string field = out.substr(pos, eol - pos);
    pos = eol + 1;
    if (!field.empty() && field.back() == '\r') {
      field.pop_back();
    }
    if (field.empty()) {
      break;
    }
    if (field.rfind("Status:", 0) == 0) {
      status_line = "HTTP/1.1" + field.substr(7);
    } else {
      fields += field + "\r\n";
    }
  }
  const std::string cgi_body = out.substr(cgi_head_len);
  return status_line + "\r\n" + fields + "Content-Length: " + std::to_string(cgi_body.size()) +
         "\r\n\r\n" + cgi_body;
}

}  // namespace airlock::test

#include "proxy/tls/ca_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "proxy/tls/workspace_ca.hpp"

namespace airlock::proxy::intercept {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Closes the descriptor on every path out, including throws.
class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }
  // Closes now so that a failing close (delayed write error) can be reported.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

}  // namespace

std::string read_small_file(const std::string& path, const char* what, std::size_t max_bytes) {
  const auto fail = [&](const std::string& reason) {
    return ca_error(std::string(what) + " " + path + ": " + reason);
  };
  fd_guard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    throw fail("cannot open: " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    throw fail("cannot stat: " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    throw fail("not a regular file");
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    throw fail("larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      throw fail("cannot read: " + errno_text(errno));
    }
    if (n == 0) {
      break;  // shrank while we read; what we have is what exists
    }
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

void write_file_atomically(const std::string& path, const std::string& content, unsigned mode) {
  const std::filesystem::path target(path);
  std::string tmp_name = ".";  // hidden, and beside the target so rename() stays atomic
  tmp_name += target.filename().string();
  tmp_name += ".tmp-XXXXXX";
  std::string tmp = (target.parent_path() / tmp_name).string();
  std::vector<char> tmpl(tmp.begin(), tmp.end());
  tmpl.push_back('\0');
  fd_guard fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (fd.get() < 0) {
    throw ca_error("cannot write " + path + ": cannot create temp file: " + errno_text(errno));
  }
  tmp.assign(tmpl.data());
  const auto fail = [&](const std::string& step) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return ca_error("cannot write " + path + ": " + step + ": " + errno_text(err));
  };
  // mkstemp creates 0600; the agent (another user, usually) must read these files.
  if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) {
    throw fail("chmod");
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      throw fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    throw fail("fsync");
  }
  if (fd.close() != 0) {
    throw fail("close");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    throw fail("rename");
  }
}

}  // namespace airlock::proxy::intercept

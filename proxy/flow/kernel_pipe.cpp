#include "proxy/flow/kernel_pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace airlock::proxy {

kernel_pipe::kernel_pipe(std::size_t capacity) {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return;
  }
  read_end_ = fds[0];
  write_end_ = fds[1];
  // A bigger pipe means fewer wake-ups per megabyte; refused (the per-user pipe budget)
  // it stays at the default 64 KiB, which still works.
  (void)::fcntl(write_end_, F_SETPIPE_SZ, static_cast<int>(capacity));
}

kernel_pipe::~kernel_pipe() {
  if (read_end_ >= 0) {
    ::close(read_end_);
  }
  if (write_end_ >= 0) {
    ::close(write_end_);
  }
}

splice_result kernel_pipe::fill_from(int fd, std::size_t max) {
  const ssize_t n =
      ::splice(fd, nullptr, write_end_, nullptr, max, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n < 0) {
    return {0, errno};
  }
  buffered_ += static_cast<std::size_t>(n);
  return {static_cast<std::size_t>(n), 0};
}

splice_result kernel_pipe::drain_to(int fd) {
  if (buffered_ == 0) {
    return {0, EAGAIN};
  }
  const ssize_t n =
      ::splice(read_end_, nullptr, fd, nullptr, buffered_, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n < 0) {
    return {0, errno};
  }
  buffered_ -= static_cast<std::size_t>(n);
  return {static_cast<std::size_t>(n), 0};
}

}  // namespace airlock::proxy

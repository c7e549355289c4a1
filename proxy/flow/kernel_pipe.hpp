#pragma once
// A pipe used as the kernel-side buffer of splice(2): a tunnel's bytes move socket ->
// pipe -> socket without a copy through user space, which is what caps a blind relay's
// bulk throughput. Linux only. Both ends are non-blocking; every call returns at once.

#include <cstddef>

namespace airlock::proxy {

// What one splice call did: bytes > 0 moved; bytes == 0 and error == 0 is end of input;
// error is an errno (EAGAIN: nothing to move now, or the pipe is full).
struct splice_result {
  std::size_t bytes = 0;
  int error = 0;
};

class kernel_pipe {
 public:
  // Opens a pipe and asks for about `capacity` bytes of it; valid() is false when no pipe
  // could be had (out of descriptors), and the caller keeps copying through user space.
  explicit kernel_pipe(std::size_t capacity);
  ~kernel_pipe();
  kernel_pipe(const kernel_pipe&) = delete;
  kernel_pipe& operator=(const kernel_pipe&) = delete;

  bool valid() const { return write_end_ >= 0; }
  // Bytes taken from a socket and not yet given to the other.
  std::size_t buffered() const { return buffered_; }

  // Moves up to `max` bytes from socket fd into the pipe.
  splice_result fill_from(int fd, std::size_t max);
  // Moves buffered bytes from the pipe to socket fd.
  splice_result drain_to(int fd);

 private:
  int read_end_ = -1;
  int write_end_ = -1;
  std::size_t buffered_ = 0;
};

}  // namespace airlock::proxy

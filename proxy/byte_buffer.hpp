#pragma once
// A contiguous read buffer with a hard ceiling: bytes arrive at the back, are
// consumed from the front, and the buffer compacts or grows (up to max) only when
// asked for room. Never throws for being full; callers check writable().

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

#include <boost/asio/buffer.hpp>

namespace airlock::proxy {

class byte_buffer {
 public:
  byte_buffer(std::size_t initial, std::size_t max) : initial_(initial), max_(max) {}

  std::string_view data() const { return {storage_.get() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) {
      begin_ = end_ = 0;
    }
  }

  // Room for at least `want` more bytes if the ceiling allows, else as much as it
  // allows; an empty buffer means the ceiling is reached.
  boost::asio::mutable_buffer prepare(std::size_t want) {
    if (capacity_ - end_ < want && begin_ > 0) {
      std::memmove(storage_.get(), storage_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (capacity_ - end_ < want && capacity_ < max_) {
      std::size_t next = capacity_ == 0 ? initial_ : capacity_ * 2;
      while (next - end_ < want && next < max_) {
        next *= 2;
      }
      next = next > max_ ? max_ : next;
      auto grown = std::make_unique_for_overwrite<char[]>(next);
      if (end_ > begin_) {
        std::memcpy(grown.get(), storage_.get() + begin_, end_ - begin_);
      }
      end_ -= begin_;
      begin_ = 0;
      storage_ = std::move(grown);
      capacity_ = next;
    }
    return {storage_.get() + end_, capacity_ - end_};
  }

  void commit(std::size_t n) { end_ += n; }

  // Gives memory back when idle, so a connection that once carried a large head
  // does not keep it while it waits.
  void shrink_if_idle() {
    if (empty() && capacity_ > initial_) {
      storage_.reset();
      capacity_ = 0;
    }
  }

  std::size_t capacity() const { return capacity_; }

 private:
  std::unique_ptr<char[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t initial_;
  std::size_t max_;
};

}  // namespace airlock::proxy

#pragma once
// A contiguous read buffer with a hard ceiling: bytes arrive at the back, are
// consumed from the front, and the buffer compacts or grows (up to max) only when
// asked for room. Never throws for being full; callers check writable().
//
// With a head_budget, capacity up to `initial` is the connection's own; growing past it
// reserves the excess from the budget first, and shrinking or destruction gives it back.
// A growth the budget refuses leaves the buffer as it was, with over_budget() set.

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

#include <boost/asio/buffer.hpp>

#include "proxy/flow/head_budget.hpp"

namespace airlock::proxy {

class byte_buffer {
 public:
  byte_buffer(std::size_t initial, std::size_t max, head_budget* budget = nullptr)
      : initial_(initial), max_(max), budget_(budget) {}
  ~byte_buffer() { give_back(0); }
  byte_buffer(const byte_buffer&) = delete;
  byte_buffer& operator=(const byte_buffer&) = delete;

  std::string_view data() const { return {storage_.get() + begin_, end_ - begin_}; }
  // The same bytes, writable: for rewriting in place without changing their length.
  char* writable_data() { return storage_.get() + begin_; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) {
      begin_ = end_ = 0;
    }
  }

  // Room for at least `want` more bytes if the ceiling and the budget allow, else as much
  // as there is without growing; an empty buffer means the ceiling or (over_budget()) the
  // budget is reached.
  boost::asio::mutable_buffer prepare(std::size_t want) {
    over_budget_ = false;
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
      if (!reserve_for(next)) {
        over_budget_ = true;
        return {storage_.get() + end_, capacity_ - end_};
      }
      replace(next);
    }
    return {storage_.get() + end_, capacity_ - end_};
  }

  void commit(std::size_t n) { end_ += n; }

  // Gives all memory back when empty, so a connection waiting for its next request holds
  // no buffer.
  void release_if_empty() {
    if (empty() && capacity_ > 0) {
      storage_.reset();
      capacity_ = 0;
      give_back(0);
    }
  }

  // Once a large head is consumed: back to the initial size (and the budget's share
  // returned) when what is left fits in it. Nothing to do in the common case.
  void shrink() {
    if (capacity_ > initial_ && size() <= initial_) {
      replace(initial_);
      give_back(0);
    }
  }

  std::size_t capacity() const { return capacity_; }
  // The last prepare() could not grow because the budget refused.
  bool over_budget() const { return over_budget_; }
  // Bytes of the budget this buffer holds.
  std::size_t reserved() const { return reserved_; }

 private:
  // Reserves what capacity `next` needs beyond initial_ and beyond what is held already.
  bool reserve_for(std::size_t next) {
    const std::size_t need = next > initial_ ? next - initial_ : 0;
    if (budget_ == nullptr || need <= reserved_) {
      return true;
    }
    if (!budget_->try_reserve(need - reserved_)) {
      return false;
    }
    reserved_ = need;
    return true;
  }

  // Returns the reservation above `keep` bytes.
  void give_back(std::size_t keep) {
    if (reserved_ > keep) {
      budget_->release(reserved_ - keep);
      reserved_ = keep;
    }
  }

  // Moves the bytes held to fresh storage of `next` bytes, at its front.
  void replace(std::size_t next) {
    auto grown = std::make_unique_for_overwrite<char[]>(next);
    if (end_ > begin_) {
      std::memcpy(grown.get(), storage_.get() + begin_, end_ - begin_);
    }
    end_ -= begin_;
    begin_ = 0;
    storage_ = std::move(grown);
    capacity_ = next;
  }

  std::unique_ptr<char[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t initial_;
  std::size_t max_;
  head_budget* budget_;
  std::size_t reserved_ = 0;
  bool over_budget_ = false;
};

}  // namespace airlock::proxy

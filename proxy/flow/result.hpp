#pragma once
// A value or the refusal that explains why there is none: results leave a step by return,
// not through members and out-parameters, and no status 0 doubles as success.

#include <utility>
#include <variant>

#include "proxy/http/responses.hpp"

namespace airlock::proxy {

template <typename T>
class result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  result(refusal r) : v_(std::in_place_index<1>, std::move(r)) {}

  explicit operator bool() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  refusal& error() { return std::get<1>(v_); }

 private:
  std::variant<T, refusal> v_;
};

}  // namespace airlock::proxy

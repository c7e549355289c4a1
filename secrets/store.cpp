#include "secrets/store.hpp"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace airlock::secrets {

namespace {

// Reads a whole file; the string is wiped by the caller once adopted.
std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::string text;
  text.reserve(4096);  // one allocation for any realistic key, so no stale copy is freed
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    OPENSSL_cleanse(text.data(), text.size());
    return std::nullopt;
  }
  return text;
}

}  // namespace

bool normalise_secret_text(std::string& text) {
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
    if (!text.empty() && text.back() == '\r') {
      text.pop_back();
    }
  }
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

store store::load(const std::vector<config::secret_source>& sources) {
  store s;
  for (const auto& src : sources) {
    s.declared_.emplace_back(src.name, src.required);
    std::optional<std::string> text;
    if (src.from == config::secret_source::kind::file) {
      text = read_file(src.location);
      if (!text) {
        s.problems_.push_back("secret " + src.name + ": cannot read file " + src.location);
        continue;
      }
    } else {
      const char* value = std::getenv(src.location.c_str());
      if (value == nullptr) {
        s.problems_.push_back("secret " + src.name + ": environment variable " + src.location +
                              " is not set");
        continue;
      }
      text = std::string(value);
      // Children would inherit it, and the bytes would stay readable in memory: wipe
      // them in place, then drop the variable.
      OPENSSL_cleanse(const_cast<char*>(value), text->size());
      ::unsetenv(src.location.c_str());
    }
    if (!normalise_secret_text(*text) || text->empty()) {
      OPENSSL_cleanse(text->data(), text->size());
      s.problems_.push_back(
          "secret " + src.name +
          (text->empty() ? ": empty value" : ": value contains CR, LF or NUL; refused"));
      continue;
    }
    auto value = secret_value::adopt(src.name, *text);
    if (!value) {
      s.problems_.push_back("secret " + src.name + ": no secure memory left to hold it");
      continue;
    }
    s.values_.insert_or_assign(src.name, std::move(*value));
  }
  return s;
}

std::optional<std::string_view> store::lookup(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second.reveal();
}

std::vector<std::string> store::missing_required() const {
  std::vector<std::string> out;
  for (const auto& [name, required] : declared_) {
    if (required && values_.find(name) == values_.end()) {
      out.push_back(name);
    }
  }
  return out;
}

}  // namespace airlock::secrets

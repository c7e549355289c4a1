#include "secrets/store.hpp"

#include <openssl/crypto.h>

#include <algorithm>
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

// Drops one trailing "\n" or "\r\n" from the view; false when CR, LF or NUL remain.
bool normalise(std::span<char>& value) {
  std::size_t n = value.size();
  if (n > 0 && value[n - 1] == '\n') {
    --n;
    if (n > 0 && value[n - 1] == '\r') {
      --n;
    }
  }
  value = value.first(n);
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

}  // namespace

std::string_view phase_name(phase p) {
  switch (p) {
    case phase::setup:
      return "setup";
    case phase::execution:
      return "execution";
    case phase::revoked:
      return "revoked";
  }
  return "unknown";
}

bool normalise_secret_text(std::string& text) {
  std::span<char> view(text.data(), text.size());
  const bool ok = normalise(view);
  text.resize(view.size());
  return ok;
}

store::store(const std::vector<config::secret_source>& sources) {
  slots_.reserve(sources.size());
  for (const auto& src : sources) {
    slot& s = slots_.emplace_back(slot{src, nullptr, std::nullopt});
    if (src.from == config::secret_source::kind::file) {
      load_file(s);
    } else if (src.from == config::secret_source::kind::env) {
      const char* value = std::getenv(src.location.c_str());
      if (value == nullptr) {
        problems_.push_back("secret " + src.name + ": environment variable " + src.location +
                            " is not set");
        continue;
      }
      // Children would inherit it, and the bytes would stay readable in memory: copy
      // them out, wipe them in place, then drop the variable.
      std::string text(value);
      OPENSSL_cleanse(const_cast<char*>(value), text.size());
      ::unsetenv(src.location.c_str());
      std::span<char> view(text.data(), text.size());
      const bool ok = normalise(view) && !view.empty();
      auto adopted = ok ? secret_value::adopt(src.name, view) : std::nullopt;
      OPENSSL_cleanse(text.data(), text.size());
      if (!ok) {
        problems_.push_back(
            "secret " + src.name +
            (view.empty() ? ": empty value" : ": value contains CR, LF or NUL; refused"));
        continue;
      }
      if (!adopted) {
        problems_.push_back("secret " + src.name + ": no secure memory left to hold it");
        continue;
      }
      s.value = std::make_shared<const secret_value>(std::move(*adopted));
      s.set_at = std::chrono::steady_clock::now();
    }
  }
}

bool store::load_file(slot& s) {
  const auto& src = s.source;
  auto text = read_file(src.location);
  if (!text) {
    problems_.push_back("secret " + src.name + ": cannot read file " + src.location);
    return false;
  }
  std::span<char> view(text->data(), text->size());
  const bool ok = normalise(view) && !view.empty();
  auto adopted = ok ? secret_value::adopt(src.name, view) : std::nullopt;
  OPENSSL_cleanse(text->data(), text->size());
  if (!ok) {
    problems_.push_back(
        "secret " + src.name +
        (view.empty() ? ": empty value" : ": value contains CR, LF or NUL; refused"));
    return false;
  }
  if (!adopted) {
    problems_.push_back("secret " + src.name + ": no secure memory left to hold it");
    return false;
  }
  s.value = std::make_shared<const secret_value>(std::move(*adopted));
  s.set_at = std::chrono::steady_clock::now();
  return true;
}

store::slot* store::find(std::string_view name) {
  for (auto& s : slots_) {
    if (s.source.name == name) {
      return &s;
    }
  }
  return nullptr;
}

const store::slot* store::find(std::string_view name) const {
  return const_cast<store*>(this)->find(name);
}

value_ref store::get(std::string_view name) const {
  std::shared_lock lock(mutex_);
  const slot* s = find(name);
  return s != nullptr ? s->value : nullptr;
}

store::put_result store::put(std::string_view name, std::span<char> value) {
  struct wipe_on_exit {
    std::span<char> bytes;
    ~wipe_on_exit() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  } wipe{value};
  std::span<char> view = value;
  if (!normalise(view) || view.empty()) {
    return put_result::invalid_value;
  }
  std::unique_lock lock(mutex_);
  slot* s = find(name);
  if (s == nullptr) {
    return put_result::unknown_name;
  }
  if (revoked_) {
    return put_result::revoked;
  }
  auto adopted = secret_value::adopt(s->source.name, view);
  if (!adopted) {
    return put_result::no_memory;
  }
  s->value = std::make_shared<const secret_value>(std::move(*adopted));
  s->set_at = std::chrono::steady_clock::now();
  generation_.fetch_add(1, std::memory_order_release);
  return put_result::ok;
}

bool store::reload_file(std::string_view name) {
  std::unique_lock lock(mutex_);
  slot* s = find(name);
  if (revoked_ || s == nullptr || s->source.from != config::secret_source::kind::file) {
    return false;
  }
  slot fresh{s->source, nullptr, std::nullopt};
  if (!load_file(fresh)) {
    return false;
  }
  s->value = std::move(fresh.value);
  s->set_at = fresh.set_at;
  generation_.fetch_add(1, std::memory_order_release);
  return true;
}

store::revoke_receipt store::revoke() {
  std::unique_lock lock(mutex_);
  if (revoked_) {
    revoke_receipt again = receipt_;
    again.already = true;
    return again;
  }
  revoked_ = true;
  revoked_flag_.store(true, std::memory_order_release);
  receipt_.at = std::chrono::system_clock::now();
  for (auto& s : slots_) {
    if (s.value) {
      receipt_.names.push_back(s.source.name);
    }
    s.value.reset();  // wiped now, or when the last in-flight request lets go
  }
  generation_.fetch_add(1, std::memory_order_release);
  return receipt_;
}

phase store::current_phase() const {
  std::shared_lock lock(mutex_);
  if (revoked_) {
    return phase::revoked;
  }
  const bool missing = std::any_of(slots_.begin(), slots_.end(),
                                   [](const slot& s) { return s.source.required && !s.value; });
  return missing ? phase::setup : phase::execution;
}

std::vector<store::entry> store::status() const {
  std::shared_lock lock(mutex_);
  std::vector<entry> out;
  out.reserve(slots_.size());
  for (const auto& s : slots_) {
    out.push_back(entry{s.source.name, s.source.from, s.source.required, static_cast<bool>(s.value),
                        s.set_at});
  }
  return out;
}

std::vector<std::string> store::missing_required() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& s : slots_) {
    if (s.source.required && !s.value) {
      out.push_back(s.source.name);
    }
  }
  return out;
}

std::vector<std::string> store::problems() const {
  std::shared_lock lock(mutex_);
  return problems_;
}

}  // namespace airlock::secrets

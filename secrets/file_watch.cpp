#include "secrets/file_watch.hpp"

#include <sys/stat.h>

namespace airlock::secrets {

std::optional<file_stamp> stamp_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return file_stamp{
      static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
      static_cast<std::uint64_t>(st.st_size),
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::vector<std::size_t> files_to_reread(std::span<const std::optional<file_stamp>> seen,
                                         std::span<const std::optional<file_stamp>> now) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < now.size() && i < seen.size(); ++i) {
    if (now[i] && seen[i] != now[i]) {
      out.push_back(i);
    }
  }
  return out;
}

file_watch::file_watch(const std::vector<config::secret_source>& sources) {
  for (const auto& src : sources) {
    if (src.from == config::secret_source::kind::file) {
      names_.push_back(src.name);
      paths_.push_back(src.location);
      seen_.push_back(stamp_file(src.location));
    }
  }
}

std::vector<std::string> file_watch::poll(store& into) {
  std::vector<std::optional<file_stamp>> now;
  now.reserve(paths_.size());
  for (const auto& path : paths_) {
    now.push_back(stamp_file(path));
  }
  std::vector<std::string> replaced;
  for (const std::size_t i : files_to_reread(seen_, now)) {
    // The stamp from before the read: a file replaced while it is read differs from it,
    // and is read again at the next poll.
    seen_[i] = now[i];
    if (into.reload_file(names_[i])) {
      replaced.push_back(names_[i]);
    }
  }
  return replaced;
}

file_watch_thread::file_watch_thread(file_watch& watch, store& into,
                                     std::chrono::milliseconds interval,
                                     std::function<void(const std::string&)> on_rotated)
    : thread_([this, &watch, &into, interval, on_rotated = std::move(on_rotated)] {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
          lock.unlock();
          for (const auto& name : watch.poll(into)) {
            on_rotated(name);
          }
          lock.lock();
        }
      }) {}

file_watch_thread::~file_watch_thread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

}  // namespace airlock::secrets

#pragma once
// Secret-file rotation: which file sources changed on disk since they were read, and
// re-reading those into the store. A Kubernetes Secret volume update swaps a symlink, so a
// change is any difference in device, inode, size or modification time. Which files to
// re-read is a pure function of two lists of stamps; file_watch keeps the stamps, and
// file_watch_thread polls on a thread of its own, so neither the store nor the control
// plane keeps a timer for it.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "config/model.hpp"
#include "secrets/store.hpp"

namespace airlock::secrets {

struct file_stamp {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const file_stamp&) const = default;
};

// The file's stamp now; nullopt when it cannot be stat'ed (missing, for now).
std::optional<file_stamp> stamp_file(const std::string& path);

// The files to re-read, by index: those there now whose stamp differs from the one seen
// last (or that were never seen). A file missing now is not re-read: a volume being
// swapped, and the value it had stays. seen and now have one entry per file.
std::vector<std::size_t> files_to_reread(std::span<const std::optional<file_stamp>> seen,
                                         std::span<const std::optional<file_stamp>> now);

// How often file_watch_thread polls.
inline constexpr auto file_poll_interval = std::chrono::seconds(1);

class file_watch {
 public:
  // Stamps every file source now. Made before the store reads them, so a file replaced
  // while the store reads it differs from this stamp and is re-read at the first poll.
  explicit file_watch(const std::vector<config::secret_source>& sources);

  // No file source: nothing to poll.
  bool empty() const { return paths_.empty(); }

  // Re-reads into the store each file that changed since the last poll; returns the names
  // whose value was replaced. A changed file that does not load (unreadable, a value with
  // CR or LF) keeps the old value and is not read again until it changes again, so its
  // problem is reported once. Nothing changes once the store is revoked.
  std::vector<std::string> poll(store& into);

 private:
  std::vector<std::string> names_;
  std::vector<std::string> paths_;
  std::vector<std::optional<file_stamp>> seen_;
};

// Polls a file_watch every interval until destroyed, on a thread of its own: a slow or
// hung file system (a network volume) then delays no request and no admin call.
// on_rotated runs on that thread, once for each secret whose value was replaced.
class file_watch_thread {
 public:
  file_watch_thread(file_watch& watch, store& into, std::chrono::milliseconds interval,
                    std::function<void(const std::string& name)> on_rotated);
  // Stops and joins (waits for a poll in progress).
  ~file_watch_thread();
  file_watch_thread(const file_watch_thread&) = delete;
  file_watch_thread& operator=(const file_watch_thread&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace airlock::secrets

#pragma once
// File I/O for loading and exporting the workspace CA. Startup-only, so failures throw
// ca_error with the path and the system's reason.

#include <cstddef>
#include <string>

namespace airlock::proxy::intercept {

// Reads a whole regular file of at most max_bytes. `what` prefixes the message ("CA key").
// Reads straight into a buffer of the file's size so a key's PEM exists in one place only,
// which the caller can then wipe. Throws ca_error when the file cannot be opened or read, is
// not a regular file, or is larger than max_bytes.
std::string read_small_file(const std::string& path, const char* what, std::size_t max_bytes);

// Replaces path with content atomically: a reader never sees a partial file. Writes a temp
// file beside it with `mode`, fsyncs, then renames. Throws ca_error naming path on failure
// and leaves no temp file behind.
void write_file_atomically(const std::string& path, const std::string& content, unsigned mode);

}  // namespace airlock::proxy::intercept

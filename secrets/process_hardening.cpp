#include "secrets/process_hardening.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <system_error>

namespace airlock::secrets {
namespace {

// Appends "what: strerror(errno)" to `failures`, "; "-separated.
void record_failure(std::string& failures, std::string_view what, int error) {
  if (!failures.empty()) {
    failures += "; ";
  }
  failures += what;
  failures += ": ";
  // error_code::message is thread-safe, unlike strerror.
  failures += std::error_code(error, std::generic_category()).message();
}

}  // namespace

std::string harden_process(bool allow_core_dumps) {
  std::string failures;
  if (allow_core_dumps) {
    return failures;
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    record_failure(failures, "prctl(PR_SET_DUMPABLE, 0) failed", errno);
  }
  const rlimit no_core{0, 0};
  if (setrlimit(RLIMIT_CORE, &no_core) != 0) {
    record_failure(failures, "setrlimit(RLIMIT_CORE, 0) failed", errno);
  }
  return failures;
}

}  // namespace airlock::secrets

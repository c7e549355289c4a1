#pragma once
// Process-level protection of secrets held in memory: no core dumps, no same-user ptrace or
// /proc/PID/mem reads. Complements the secure heap (secure_memory.hpp), which keeps the arena
// itself out of core files; this also covers copies in ordinary memory (TLS buffers, request
// heads being rewritten) that the arena cannot.

#include <string>
#include <string_view>

namespace airlock::secrets {

// The debug command-line flag main maps to harden_process(true). Only for debugging airlock
// itself: with it, a crash can write every secret it held in ordinary memory to disk.
inline constexpr std::string_view allow_core_dumps_flag = "--allow-core-dumps";

// Unless `allow_core_dumps`, sets PR_SET_DUMPABLE to 0 (no core file, no ptrace attach or
// /proc/PID/mem access by other processes of the same user) and RLIMIT_CORE to 0, soft and hard,
// so that neither a later setrlimit nor a child can raise it again. With `allow_core_dumps`
// nothing is changed. Call it early in main, before any secret is read.
// Never throws: returns an empty string when every requested step worked, otherwise one
// "; "-separated description of what failed and why, for main to log (and refuse to start on,
// if it chooses).
std::string harden_process(bool allow_core_dumps);

}  // namespace airlock::secrets

#pragma once
// Whether this build runs under a sanitizer (make test-asan, make tsan). Memory figures are
// meaningless there (freed blocks sit in quarantine, shadow memory counts as resident), so
// tests skip their RSS bounds but keep every behaviour they check.

namespace airlock::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized_build = true;
#else
inline constexpr bool sanitized_build = false;
#endif

}  // namespace airlock::test

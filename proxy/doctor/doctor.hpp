#pragma once
// `airlock doctor [--proxy URL] [--json]`, run inside the agent's container: is the proxy
// the environment names airlock, and does each runtime found on PATH (curl, wget, python3,
// node, bun, deno, go, java, git, npm, pip) go through it and trust its CA? One real request
// per runtime to the check host (check_host.hpp), a few at a time, each with a deadline.

namespace airlock::proxy::doctor {

// argv after "doctor". Prints the table (or JSON) on stdout; returns 0 when the proxy is
// airlock and every runtime found passes, 1 when one would bypass airlock or fail (or the
// proxy is missing or not airlock), 2 on bad usage.
int run_doctor(int argc, char** argv);

}  // namespace airlock::proxy::doctor

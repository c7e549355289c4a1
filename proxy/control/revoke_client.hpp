#pragma once
// `airlock revoke`: asks a running airlock to wipe its secrets (a Kubernetes preStop
// hook), printing the JSON receipt.

namespace airlock::proxy::control {

// argv after "revoke": [--admin http://HOST:PORT] [--token-file F] [--config FILE]
// (--config takes admin.listen and admin.token_file from the config). Returns the exit
// code: 0 when airlock answered 200, 1 on any failure (said on stderr), 2 on bad usage.
int run_revoke(int argc, char** argv);

}  // namespace airlock::proxy::control

#pragma once
// The admin commands, talking to a running airlock: `airlock revoke` asks it to wipe its
// secrets (a Kubernetes preStop hook), prints the JSON receipt, and succeeds only when the
// receipt proves the wipe; `airlock push` hands it a secret's value.

#include <optional>
#include <string>
#include <string_view>

namespace airlock::proxy::control {

// argv after "revoke": [--admin unix:PATH | --admin http://IP:PORT] [--token-file F]
// [--config FILE]. Without --admin the config's admin.socket (or admin.listen when it
// has no socket) is used, the embedded default's without --config. Returns the exit code:
// 0 when the receipt says every secret is wiped, 1 on any failure (said on stderr), 2 on
// bad usage.
int run_revoke(int argc, char** argv);

// `airlock push NAME [options] < value`: PUT /v1/secrets/NAME with the value from stdin
// (one trailing newline trimmed by airlock), for an orchestrator using `kubectl exec` or
// `docker compose exec`. 0 when stored, 1 on any failure, 2 on bad usage.
int run_push(int argc, char** argv);

// Why a revoke answer does not prove the wipe, or nullopt when it does: status 200, a
// JSON object with result "revoked", phase "revoked" and no secret still present.
std::optional<std::string> receipt_problem(int status, std::string_view body);

}  // namespace airlock::proxy::control

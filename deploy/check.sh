#!/usr/bin/env bash
# deploy/check.sh: checks the deployment files without a container engine or a cluster.
#   static   shell syntax (and shellcheck), every YAML parses, every airlock config passes
#            --check-config, kustomize renders base and overlays, compose validates, and
#            check_manifests.py asserts the hardening invariants on the results, and that each
#            config's max_connections and head budget fit its container's memory limit
#            (the worst-case formula of README.md "Memory")
#   runtime  the Kubernetes config run for real from a temp dir: /healthz, /readyz 503 until
#            the secret file appears then 200, the CA files and the kit's env files, the image's
#            healthcheck script, the admin socket (0700 directory, 0600 socket, no TCP admin
#            port), `airlock push`, `airlock revoke --config` (the preStop hook), SIGTERM exit 0
#   netns    (root only) the pod's egress lock in network namespaces: egress-lock.sh with
#            NET_ADMIN alone, then a non-airlock UID cannot connect out directly, can through
#            airlock, and airlock's UID can; TEST-NET-1 addresses, loopback and veth only. And
#            the admin socket with airlock as UID 65532: its UID is answered, others are not
# usage: deploy/check.sh [static|runtime|netns|all]   (default all; parts whose tools are
#        missing are skipped with a note). AIRLOCK_BIN overrides build/bin/airlock.
# Ends with 'N passed, N failed'; exits 1 on any failure. Bounded: every wait has a deadline.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="${AIRLOCK_BIN:-$root/build/bin/airlock}"
what="${1:-all}"
passed=0
failed=0
skipped=()
tmp="$(mktemp -d)"
pids=()
netns=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  for n in "${netns[@]}"; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
expect() { # expect DESCRIPTION COMMAND...: passes when COMMAND exits 0
  local what="$1"
  shift
  if "$@" >"$tmp/last.out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' "$tmp/last.out" | tail -5; fi
}
expect_not() { # expect_not DESCRIPTION COMMAND...: passes when COMMAND exits non-zero
  local what="$1"
  shift
  if "$@" >"$tmp/last.out" 2>&1; then bad "$what"; sed 's/^/     /' "$tmp/last.out" | tail -5; else ok "$what"; fi
}
have() { command -v "$1" >/dev/null 2>&1; }

# http_status PORT PATH: the status code of GET http://127.0.0.1:PORT/PATH, or 000.
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$1$2"; }
# status_is PORT PATH CODE: for wait_for, which must re-run the request on every try.
status_is() { [ "$(http_status "$1" "$2")" = "$3" ]; }

# wait_for SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds or time runs out.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

static_checks() {
  echo "== static"
  for f in "$here"/check.sh "$here"/image-check.sh "$here"/install-deps.sh "$here"/image/egress-lock.sh "$here"/image/healthcheck; do
    expect "bash -n ${f#"$root"/}" bash -n "$f"
  done
  if have shellcheck; then
    expect "shellcheck deploy scripts" shellcheck "$here/check.sh" "$here/image-check.sh" "$here/image/egress-lock.sh" "$here/image/healthcheck"
  else
    skipped+=("shellcheck (not installed)")
  fi
  local y
  while IFS= read -r y; do
    expect "YAML parses: ${y#"$root"/}" python3 -c 'import yaml,sys; list(yaml.safe_load_all(open(sys.argv[1])))' "$y"
  done < <(find "$here" -name '*.yaml' -o -name '*.yml' | sort)
  local cfg
  for cfg in "$here"/image/airlock.yaml "$here"/compose/airlock.yaml "$here"/kubernetes/base/airlock.yaml \
    "$here"/kubernetes/overlays/*/airlock.yaml; do
    expect "airlock --check-config ${cfg#"$root"/}" "$bin" --check-config "$cfg"
  done

  local rendered=()
  if have kubectl || have kustomize; then
    local k=(kubectl kustomize)
    have kubectl || k=(kustomize build)
    expect "kustomize renders base" "${k[@]}" "$here/kubernetes/base" -o "$tmp/k8s-base.yaml"
    rendered+=("$tmp/k8s-base.yaml")
    local o
    for o in "$here"/kubernetes/overlays/*/; do
      o="$(basename "$o")"
      expect "kustomize renders overlay $o" "${k[@]}" "$here/kubernetes/overlays/$o" -o "$tmp/k8s-overlay-$o.yaml"
      rendered+=("$tmp/k8s-overlay-$o.yaml")
    done
  else
    skipped+=("kustomize rendering (no kubectl or kustomize): manifests checked as written")
  fi

  if have docker && docker compose version >/dev/null 2>&1; then
    mkdir -p "$tmp/compose/secrets"
    cp "$here"/compose/docker-compose.yaml "$here"/compose/airlock.yaml "$tmp/compose/"
    printf 'placeholder-for-validation' >"$tmp/compose/secrets/anthropic-api-key"
    expect "docker compose config" docker compose -f "$tmp/compose/docker-compose.yaml" config -q
  elif have docker-compose; then
    # Compose v1 predates the top-level name: key; everything else is the same schema.
    mkdir -p "$tmp/compose/secrets"
    grep -v '^name:' "$here/compose/docker-compose.yaml" >"$tmp/compose/docker-compose.yaml"
    cp "$here/compose/airlock.yaml" "$tmp/compose/"
    printf 'placeholder-for-validation' >"$tmp/compose/secrets/anthropic-api-key"
    expect "docker-compose config (v1, without name:)" docker-compose -f "$tmp/compose/docker-compose.yaml" config -q
  else
    skipped+=("compose schema validation (no docker compose or docker-compose)")
  fi

  if python3 "$here/check_manifests.py" "$here" "${rendered[@]}" >"$tmp/manifests.out" 2>&1; then
    ok "$(tail -1 "$tmp/manifests.out")"
  else
    bad "manifest invariants"
    sed 's/^/     /' "$tmp/manifests.out"
  fi

  # The runtime stage installs exactly the packages whose libraries the binary links.
  if have ldd && have dpkg-query; then
    local want pkgs lib
    pkgs=$(sed -n '/^FROM .* AS runtime/,$p' "$here/Dockerfile")
    want=$(ldd "$bin" | awk '/=>/ {print $3}' | while read -r lib; do
      dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null
    done | cut -d: -f1 | sort -u)
    for lib in $want; do
      case "$lib" in
        libc6 | libgcc-s1 | libstdc++6) continue ;; # in debian:bookworm-slim already
      esac
      if grep -qw -- "$lib" <<<"$pkgs"; then ok "runtime image installs $lib"; else bad "runtime image lacks $lib (ldd)"; fi
    done
  else
    skipped+=("library list against ldd (no ldd or dpkg)")
  fi
}

runtime_checks() {
  echo "== runtime (the Kubernetes config, paths moved to a temp dir)"
  if ! have curl; then
    skipped+=("runtime checks (no curl)")
    return
  fi
  local d="$tmp/rt" proxy_port metrics_port sock
  mkdir -p "$d/secrets"
  proxy_port=$(free_port) metrics_port=$(free_port)
  # The admin socket's directory is left for airlock to create (an emptyDir is there in the
  # pod). One push secret is added: the deployed configs have none, the orchestrator's may.
  sed -e "s#/run/airlock-admin/#$d/admin/#" -e "s#/var/run/secrets/airlock/#$d/secrets/#" \
    -e "s#/run/airlock#$d/ca#" -e "s#127.0.0.1:3128#127.0.0.1:$proxy_port#" \
    -e "s#0.0.0.0:9464#127.0.0.1:$metrics_port#" \
    -e "/^secrets:/a\  orchestrated: { push: true, required: false }" \
    "$here/kubernetes/base/airlock.yaml" >"$d/airlock.yaml"
  sock="$d/admin/admin.sock"
  expect "moved config still valid" "$bin" --check-config "$d/airlock.yaml"
  expect "moved config has its admin socket in the temp dir" grep -q "socket: $sock\$" "$d/airlock.yaml"

  "$bin" --config "$d/airlock.yaml" >"$d/stdout" 2>"$d/stderr" &
  local pid=$!
  pids+=("$pid")
  expect "/healthz answers 200 within 10 s of start" wait_for 10 status_is "$metrics_port" /healthz 200
  expect "/readyz 503 while the required secret file is missing" test "$(http_status "$metrics_port" /readyz)" = 503
  expect_not "image healthcheck /readyz fails meanwhile" env AIRLOCK_METRICS_PORT="$metrics_port" "$here/image/healthcheck" /readyz
  printf 'sk-test-not-a-real-key\n' >"$d/secrets/anthropic"
  expect "/readyz 200 within 5 s of the secret file appearing (rotation path)" \
    wait_for 5 status_is "$metrics_port" /readyz 200
  expect "image healthcheck /healthz passes" env AIRLOCK_METRICS_PORT="$metrics_port" "$here/image/healthcheck" /healthz
  expect "image healthcheck /readyz passes" env AIRLOCK_METRICS_PORT="$metrics_port" "$here/image/healthcheck" /readyz
  local f
  for f in ca.pem ca-bundle.pem truststore.p12 wgetrc ca.env proxy.env telemetry.env airlock.env; do
    expect "export dir has $f" test -s "$d/ca/$f"
  done
  expect "airlock.env points the agent's tools at the bundle and the proxy" bash -c \
    ". '$d/ca/airlock.env' && [ \"\$SSL_CERT_FILE\" = '$d/ca/ca-bundle.pem' ] && [ \"\$NODE_EXTRA_CA_CERTS\" = '$d/ca/ca.pem' ] && [ -n \"\$GIT_SSL_CAINFO\" ] && [ -n \"\$REQUESTS_CA_BUNDLE\" ] && [ -n \"\$CURL_CA_BUNDLE\" ] && [ \"\$WGETRC\" = '$d/ca/wgetrc' ] && [ -n \"\$HTTPS_PROXY\" ] && [ -n \"\$JAVA_TOOL_OPTIONS\" ]"
  expect "admin socket directory created 0700" test "$(stat -c %a "$d/admin")" = 700
  expect "admin socket is a socket, 0600" bash -c "[ -S '$sock' ] && [ \"\$(stat -c %a '$sock')\" = 600 ]"
  expect "GET /v1/status over the admin socket (curl --unix-socket)" \
    bash -c "curl -sf --max-time 3 --unix-socket '$sock' http://airlock/v1/status | grep -q '\"phase\":\"execution\"'"
  if have ss; then
    expect "no TCP admin listener: airlock listens on the proxy and metrics ports only" \
      test "$(ss -Hltnp | awk -v p="pid=$pid," 'index($0, p) {print $4}' | sort -u | xargs)" = \
      "$(printf '%s\n' "127.0.0.1:$proxy_port" "127.0.0.1:$metrics_port" | sort | xargs)"
  else
    skipped+=("runtime: the TCP listener list (no ss)")
  fi
  expect "airlock push (the orchestrator's kubectl exec -i) stores a push secret" \
    "$bin" push orchestrated --config "$d/airlock.yaml" < <(printf 'pushed-not-a-real-key\n')
  expect "/v1/status shows the pushed secret present" \
    bash -c "curl -sf --max-time 3 --unix-socket '$sock' http://airlock/v1/status | grep -q '\"name\":\"orchestrated\",[^}]*\"present\":true'"
  expect_not "airlock push to a file secret is refused (409)" \
    "$bin" push anthropic --config "$d/airlock.yaml" < <(printf 'agent-chosen-value\n')
  expect "preStop: airlock revoke --config succeeds" "$bin" revoke --config "$d/airlock.yaml"
  expect "/readyz 503 after revoke" test "$(http_status "$metrics_port" /readyz)" = 503
  kill -TERM "$pid"
  local rc=0 deadline=$((SECONDS + 40))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  wait "$pid" || rc=$?
  expect "SIGTERM: exits 0 (got $rc)" test "$rc" = 0
  expect_not "no secret value in the logs" grep -q -e sk-test-not-a-real-key -e pushed-not-a-real-key "$d/stdout" "$d/stderr"
}

netns_checks() {
  echo "== netns (the pod's egress lock)"
  local t
  for t in ip iptables-nft ip6tables-nft setpriv curl python3; do
    if ! have "$t"; then
      skipped+=("netns checks (no $t)")
      return
    fi
  done
  if [ "$(id -u)" -ne 0 ] || ! ip netns add "al-chk-$$" 2>/dev/null; then
    skipped+=("netns checks (need root and network namespaces)")
    return
  fi
  ip netns del "al-chk-$$"
  local pod="al-pod-$$" out="al-out-$$" d="$tmp/ns"
  ip netns add "$pod" && netns+=("$pod")
  ip netns add "$out" && netns+=("$out")
  ip link add "alp$$" type veth peer name "alo$$"
  ip link set "alp$$" netns "$pod"
  ip link set "alo$$" netns "$out"
  ip -n "$pod" addr add 192.0.2.1/24 dev "alp$$"
  ip -n "$out" addr add 192.0.2.2/24 dev "alo$$"
  for n in "$pod" "$out"; do ip -n "$n" link set lo up; done
  ip -n "$pod" link set "alp$$" up
  ip -n "$out" link set "alo$$" up

  # "outside": one upstream, for 60 s at most.
  mkdir -p "$d/www"
  chmod 755 "$tmp" "$d"
  echo upstream-ok >"$d/www/ok"
  ip netns exec "$out" timeout 60 python3 -m http.server --bind 192.0.2.2 8080 --directory "$d/www" \
    >"$d/upstream.log" 2>&1 &
  pids+=($!)
  # airlock in the "pod", as UID 65532, a plain forward proxy allowed to reach TEST-NET-1,
  # with one push secret. $d/run is 65532's (the pod's emptyDir, the image's /run/airlock-admin):
  # airlock creates the socket's directory in it, and the CA's (always made: the doctor's
  # check host and the telemetry path entries are intercepted).
  install -d -o 65532 -g 65532 -m 0755 "$d/run"
  local sock="$d/run/airlock-admin/admin.sock"
  cat >"$d/airlock.yaml" <<EOF
proxy: { listen: "127.0.0.1:3128", workers: 1 }
admin: { socket: "$sock" }
secrets: { orchestrated: { push: true, required: false } }
metrics: { listen: "127.0.0.1:9464" }
egress: { default: allow, block_private_addresses: true, allow_private: [192.0.2.0/24] }
tls: { ca: { export_dir: "$d/run/ca" } }
log: { level: warn, format: text }
EOF
  chmod 644 "$d/airlock.yaml"
  local agent=(ip netns exec "$pod" setpriv --reuid 1000 --regid 1000 --clear-groups --inh-caps=-all)
  local airlock=(ip netns exec "$pod" setpriv --reuid 65532 --regid 65532 --clear-groups --inh-caps=-all)
  # A copy UID 65532 can run wherever the checkout lives (a clone in a 0700 mktemp dir).
  install -m 0755 "$bin" "$d/airlock"
  "${airlock[@]}" timeout 60 "$d/airlock" --config "$d/airlock.yaml" >"$d/airlock.out" 2>&1 &
  pids+=($!)
  local url=http://192.0.2.2:8080/ok
  expect "netns: upstream and airlock up" wait_for 10 "${agent[@]}" curl -sf --max-time 2 -x http://127.0.0.1:3128 "$url"
  expect "netns: before the lock, the agent UID connects out directly" \
    "${agent[@]}" curl -sf --noproxy '*' --max-time 3 "$url"

  # The init container's script, with CAP_NET_ADMIN as its only capability.
  expect "netns: egress-lock.sh installs its rules with NET_ADMIN only" \
    ip netns exec "$pod" setpriv --bounding-set=-all,+net_admin --inh-caps=-all "$here/image/egress-lock.sh"
  expect "netns: egress-lock.sh is idempotent (init container retried)" \
    ip netns exec "$pod" "$here/image/egress-lock.sh"
  expect "netns: one jump from OUTPUT after a rerun" \
    test "$(ip netns exec "$pod" iptables-nft -S OUTPUT | grep -c AIRLOCK_EGRESS)" = 1
  expect "netns: IPv6 rules installed too" bash -c "ip netns exec '$pod' ip6tables-nft -S AIRLOCK_EGRESS | grep -q 'uid-owner 65532'"
  expect_not "netns: the agent UID cannot connect out directly" \
    "${agent[@]}" curl -sf --noproxy '*' --max-time 3 "$url"
  expect "netns: ... and is refused at once, not left hanging (curl exit 7)" \
    bash -c "$(printf '%q ' "${agent[@]}") curl -s --noproxy '*' --max-time 3 '$url'; [ \$? = 7 ]"
  expect "netns: the agent UID gets out through airlock" \
    bash -c "$(printf '%q ' "${agent[@]}") curl -sf --max-time 5 -x http://127.0.0.1:3128 '$url' | grep -q upstream-ok"
  expect "netns: airlock's UID connects out directly" \
    "${airlock[@]}" curl -sf --noproxy '*' --max-time 3 "$url"
  expect_not "netns: root without airlock's UID cannot either" \
    ip netns exec "$pod" curl -sf --noproxy '*' --max-time 3 "$url"

  # The admin socket: answered for airlock's UID only (SO_PEERCRED), behind a 0700 directory.
  local status=http://airlock/v1/status
  expect "netns: airlock (65532) created the socket directory 0700" \
    test "$(stat -c %u:%a "$d/run/airlock-admin")" = 65532:700
  expect "netns: airlock's UID reads /v1/status over the socket" \
    "${airlock[@]}" curl -sf --max-time 3 --unix-socket "$sock" "$status"
  expect "netns: the agent UID cannot even connect to it (curl exit 7)" \
    bash -c "$(printf '%q ' "${agent[@]}") curl -s --max-time 3 --unix-socket '$sock' '$status'; [ \$? = 7 ]"
  # Past the file modes (CAP_DAC_OVERRIDE kept as an ambient capability), the peer UID check.
  expect "netns: the agent UID past the file modes gets 403 uid_not_allowed" bash -c \
    "out=\$(ip netns exec '$pod' setpriv --reuid 1000 --regid 1000 --clear-groups --inh-caps=+dac_override \
      --ambient-caps=+dac_override curl -s --max-time 3 --unix-socket '$sock' -w ' %{http_code}' '$status') \
      && echo \"\$out\" && [[ \$out == *uid_not_allowed*' 403' ]]"
  expect "netns: root, not airlock's UID, gets 403 too" bash -c \
    "out=\$(ip netns exec '$pod' curl -s --max-time 3 --unix-socket '$sock' -w ' %{http_code}' '$status') \
      && echo \"\$out\" && [[ \$out == *uid_not_allowed*' 403' ]]"
  expect "netns: airlock push as the agent UID is refused (Permission denied)" bash -c \
    "printf 'agent-chosen\n' | $(printf '%q ' "${agent[@]}") '$d/airlock' push orchestrated --config '$d/airlock.yaml' 2>&1 \
      | grep -q 'Permission denied'"
  expect "netns: airlock push as airlock's UID stores the secret" \
    "${airlock[@]}" "$d/airlock" push orchestrated --config "$d/airlock.yaml" < <(printf 'pushed-not-a-real-key\n')
  expect "netns: airlock revoke --config as airlock's UID (the preStop hook) succeeds" \
    bash -c "$(printf '%q ' "${airlock[@]}") '$d/airlock' revoke --config '$d/airlock.yaml' >'$d/receipt'"
  expect "netns: the receipt names the pushed secret" grep -q '"revoked":\["orchestrated"\]' "$d/receipt"
}

case "$what" in
  static) static_checks ;;
  runtime) runtime_checks ;;
  netns) netns_checks ;;
  all)
    static_checks
    runtime_checks
    netns_checks
    ;;
  *)
    echo "usage: deploy/check.sh [static|runtime|netns|all]" >&2
    exit 2
    ;;
esac

for s in "${skipped[@]}"; do echo "skipped: $s"; done
echo "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

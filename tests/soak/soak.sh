#!/usr/bin/env bash
# A bounded soak: airlock under mixed load for a while, sampled once a slice, to show drift
# that a short test cannot: memory that creeps, descriptors that leak, error rates that
# rise. Loopback only; every load stops by itself.
# Usage: tests/soak/soak.sh [SECONDS]   (make soak [SOAK_SECONDS=600]; default 600)
#   load per slice, all at once, through one airlock worker:
#     plain HTTP forward, keep-alive   wrk -c16
#     plain HTTP, a new connection per request   wrk -c4 (Connection: close)
#     intercepted HTTPS with injection, keep-alive   hey -c4 (CONNECT + TLS, nginx checks the key)
#     intercepted HTTPS, a new connection per request   hey -c2 -disable-keepalive
#   sampled after each slice: airlock's RSS, open descriptors, threads, and each load's
#   requests, socket errors and non-2xx answers.
# Verdict (exit 1 on FAIL): no errors or non-2xx in any slice; RSS at the end within
# SOAK_RSS_SLACK_KIB (default 8 MiB) of the end of the first slice (the warm-up: pools, leaf
# cache, allocator arenas); descriptors at the end within 8 of the first slice's.
# Writes build/soak/report.md and prints it.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bench_lib=$root/bench/lib
AIRLOCK_BIN=${AIRLOCK_BIN:-$root/build/bin/airlock}
DURATION=${1:-${SOAK_SECONDS:-600}}
SLICE=${SOAK_SLICE:-30}
RSS_SLACK_KIB=${SOAK_RSS_SLACK_KIB:-8192}
((DURATION >= 2 * SLICE)) || SLICE=$((DURATION / 2))
((SLICE >= 2)) || {
  echo "soak: need at least 4 seconds" >&2
  exit 2
}
slices=$((DURATION / SLICE))

for tool in wrk hey nginx curl python3 openssl; do
  command -v "$tool" >/dev/null || {
    echo "soak: '$tool' not found; run deploy/install-deps.sh bench" >&2
    exit 1
  }
done

BENCH_TMP=$(mktemp -d /tmp/airlock-soak.XXXXXX)
BENCH_KEY=$(openssl rand -hex 16)
# shellcheck source=bench/lib/peers.sh
source "$bench_lib/peers.sh"
# shellcheck source=bench/lib/mitm_peers.sh
source "$bench_lib/mitm_peers.sh"
say() { echo "soak: $*" >&2; }
# A soak that stops early says where and why: the command that failed under set -e, or the
# signal. The cleanup cannot itself be cut short by set -e.
trap 'say "stopped: line $LINENO, status $?: $BASH_COMMAND"' ERR
trap 'stop_all || true; rm -rf "$BENCH_TMP"' EXIT
trap 'say "stopped by a signal"; exit 130' INT TERM HUP PIPE
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

make_bench_pki
start_nginx || {
  say "nginx did not start"
  exit 1
}

d=$BENCH_TMP/airlock
mkdir -p "$d/ca"
port=$(free_port)
metrics_port=$(free_port)
cat >"$d/airlock.yaml" <<CONF
proxy: { listen: "127.0.0.1:$port", workers: 1 }
admin: { socket: "$d/admin/admin.sock" }
metrics: { listen: "127.0.0.1:$metrics_port" }
egress: { allow_private: ["127.0.0.0/8"] }
log: { level: warn }
tls:
  ca: { export_dir: "$d/ca" }
  upstream: { ca_file: "$BENCH_PKI/ca.pem" }
secrets:
  benchkey: { env: BENCH_KEY }
credentials:
  - { host: "$BENCH_HOST", port: $NGINX_TLS_PORT, headers: { x-api-key: "{{benchkey}}" } }
resolve:
  "$BENCH_HOST:$NGINX_TLS_PORT": "127.0.0.1:$NGINX_TLS_PORT"
CONF
spawn "$d/stderr.log" env BENCH_KEY="$BENCH_KEY" "$AIRLOCK_BIN" --config "$d/airlock.yaml"
pid=$SPAWNED_PID
wait_port "$port" "$pid" 10 || {
  say "airlock did not start: $(tail -n 3 "$d/stderr.log")"
  exit 1
}

proxy=http://127.0.0.1:$port
plain_url=http://127.0.0.1:$NGINX_PORT/small
tls_url=https://$BENCH_HOST:$NGINX_TLS_PORT/small
check=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "$proxy" --cacert "$d/ca/ca.pem" "$tls_url" || true)
[ "$check" = 200 ] || {
  say "preflight through interception got '$check', not 200"
  exit 1
}

# wrk_slice CONNS [close]: a BENCH line for one slice of plain-HTTP load.
wrk_slice() {
  BENCH_URL=$plain_url BENCH_CLOSE=${2:-} timeout $((SLICE + 30)) \
    wrk -t1 -c"$1" -d"${SLICE}s" --timeout 10s -s "$bench_lib/wrk-absolute.lua" "$proxy" 2>&1 </dev/null |
    grep '^BENCH ' || echo "BENCH rps=0 requests=0 errors=1 non2xx=0 detail=wrk-failed"
}
# hey_slice CONNS [hey args...]: the same for intercepted HTTPS.
hey_slice() {
  local c=$1
  shift
  timeout $((SLICE + 30)) hey -z "${SLICE}s" -c "$c" -t 10 -cpus 1 -x "$proxy" "$@" "$tls_url" 2>&1 </dev/null |
    python3 "$bench_lib/hey_line.py" || echo "BENCH rps=0 requests=0 errors=1 non2xx=0 detail=hey-failed"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
fds() { find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
threads() { awk '/^Threads/ {print $2}' "/proc/$pid/status"; }

out_dir=$root/build/soak
mkdir -p "$out_dir"
rows=$BENCH_TMP/rows.tsv
: >"$rows"
say "$slices slices of ${SLICE}s against airlock pid $pid (rss $(rss_kib) KiB, $(fds) fds at start)"
for ((i = 1; i <= slices; i++)); do
  loads=()
  wrk_slice 16 >"$BENCH_TMP/plain" &
  loads+=($!)
  wrk_slice 4 1 >"$BENCH_TMP/newconn" &
  loads+=($!)
  hey_slice 4 >"$BENCH_TMP/mitm" &
  loads+=($!)
  hey_slice 2 -disable-keepalive >"$BENCH_TMP/mitm_new" &
  loads+=($!)
  wait "${loads[@]}" # not a bare wait: nginx and airlock are background children too
  line=$i
  for load in plain newconn mitm mitm_new; do
    b=$(cat "$BENCH_TMP/$load")
    line+=$'\t'"$(field requests "$b")"$'\t'"$(field errors "$b")"$'\t'"$(field non2xx "$b")"
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    say "airlock exited during slice $i"
    exit 1
  fi
  line+=$'\t'"$(rss_kib)"$'\t'"$(fds)"$'\t'"$(threads)"
  echo "$line" >>"$rows"
  say "slice $i/$slices: $(tr '\t' ' ' <<<"$line")"
done
errors_metric=$(curl -s --max-time 5 "http://127.0.0.1:$metrics_port/metrics" |
  awk '/^airlock_refusals_total/ {s += $2} END {print s + 0}')

python3 - "$rows" "$SLICE" "$RSS_SLACK_KIB" "$errors_metric" "$out_dir/report.md" <<'PY'
import sys

rows_path, slice_s, slack, refusals, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = [list(map(int, l.split("\t"))) for l in open(rows_path) if l.strip()]
loads = ["plain keep-alive", "plain new conn", "mitm keep-alive", "mitm new conn"]
lines = [f"# airlock soak: {len(rows)} slices of {slice_s} s", "",
         "| slice | " + " | ".join(f"{l} req (err/non2xx)" for l in loads) + " | RSS KiB | fds | threads |",
         "|--:|" + "--:|" * len(loads) + "--:|--:|--:|"]
bad = []
for r in rows:
    cells = []
    for k in range(len(loads)):
        req, err, non2xx = r[1 + 3 * k: 4 + 3 * k]
        cells.append(f"{req:,} ({err}/{non2xx})")
        if err or non2xx:
            bad.append(f"slice {r[0]}: {loads[k]} had {err} errors, {non2xx} non-2xx")
        if req == 0:
            bad.append(f"slice {r[0]}: {loads[k]} made no requests")
    lines.append(f"| {r[0]} | " + " | ".join(cells) + f" | {r[-3]:,} | {r[-2]} | {r[-1]} |")
first, last = rows[0], rows[-1]
rss_growth = last[-3] - first[-3]
fd_growth = last[-2] - first[-2]
total = sum(r[1 + 3 * k] for r in rows for k in range(len(loads)))
lines += ["", f"- requests: {total:,} in {len(rows) * slice_s} s",
          f"- RSS: {first[-3]:,} KiB after slice 1, {last[-3]:,} KiB at the end ({rss_growth:+,} KiB; allowed +{slack:,})",
          f"- descriptors: {first[-2]} after slice 1, {last[-2]} at the end ({fd_growth:+}; allowed +8)",
          f"- airlock's own refusals (metrics): {refusals}"]
if rss_growth > slack:
    bad.append(f"RSS grew {rss_growth} KiB after the first slice")
if fd_growth > 8:
    bad.append(f"descriptors grew by {fd_growth}")
lines += ["", "**soak: " + ("PASS**" if not bad else "FAIL**: " + "; ".join(bad))]
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)
sys.exit(1 if bad else 0)
PY

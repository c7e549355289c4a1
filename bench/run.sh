#!/usr/bin/env bash
# One command that measures airlock against direct and against peers on loopback.
# Usage: bench/run.sh [--quick]      (make bench [QUICK=1])
#   full:    1, 32 and 256 connections, 3 wrk runs x 5 s per figure  (~3.5 min)
#   --quick: 32 connections only,      3 wrk runs x 2 s per figure  (<1 min)
# Writes bench/results/latest.md and latest.csv and prints the markdown. See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
AIRLOCK_BIN=${AIRLOCK_BIN:-$root/build/bin/airlock}
LUA=$here/lib/wrk-absolute.lua
RUNS=3 IDLE_CONNS=1000 DURATION=5 CONNS=(1 32 256) MODE=full
case "${1:-}" in
  --quick) DURATION=2 CONNS=(32) MODE=quick ;;
  "") ;;
  -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac

for tool in wrk nginx squid haproxy curl python3; do
  command -v "$tool" >/dev/null || {
    echo "bench: '$tool' not found; run deploy/install-deps.sh bench" >&2
    exit 1
  }
done

BENCH_TMP=$(mktemp -d /tmp/airlock-bench.XXXXXX)
# shellcheck source=bench/lib/peers.sh
source "$here/lib/peers.sh"
trap 'stop_all; rm -rf "$BENCH_TMP"' EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
: >"$BENCH_TMP/runs.tsv" && : >"$BENCH_TMP/fail.tsv" && : >"$BENCH_TMP/idle.tsv"
say() { echo "bench: $*" >&2; }

load_start=$(cut -d' ' -f1 /proc/loadavg) # before anything of ours runs
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
  echo "cores=$(nproc)"
  echo "kernel=$(uname -r)"
  echo "load_start=$load_start"
  echo "mode=$MODE"
  echo "duration=$DURATION"
  echo "runs=$RUNS"
  echo "conns=${CONNS[*]}"
  echo "idle_conns=$IDLE_CONNS"
  echo "body_bytes=100"
  versions
} >"$BENCH_TMP/meta.txt"
if awk -v l="$load_start" 'BEGIN { exit !(l > 0.5) }'; then
  say "WARNING: load average is $load_start before the run; other work skews the figures"
fi

fail() { # fail SCENARIO REASON: the scenario could not be measured (or stopped working)
  say "$1 FAILING: $2"
  printf '%s\t%s\n' "$1" "$2" >>"$BENCH_TMP/fail.tsv"
}

# preflight SCENARIO CURL-ARGS...: one request must return 200 with the 100-byte body
preflight() {
  local name=$1 out
  shift
  out=$(curl -s --max-time 5 -o /dev/null -w '%{http_code} %{size_download}' "$@" || true)
  [ "$out" = "200 100" ] && return 0
  fail "$name" "preflight got '${out:-no response}' instead of '200 100'"
  return 1
}

# wrk_once SCENARIO CONNS SECONDS: prints wrk's BENCH line (a failing one if wrk gave none).
# A response slower than 10 s counts as an error (wrk's default of 2 s is too tight for an
# overloaded single-threaded peer at 256 connections: slow is measured, not failed).
wrk_once() {
  local name=$1 line
  line=$(BENCH_URL=${ABS[$name]} timeout $(($3 + 30)) \
    wrk -t1 -c"$2" -d"$3s" --timeout 10s --latency -s "$LUA" "${URL[$name]}" 2>&1 |
    tee -a "$BENCH_TMP/$name-wrk.log" | grep '^BENCH ' || true)
  if [ -z "$line" ]; then
    say "$name c=$2: wrk produced no result; its output ends:"
    tail -n 5 "$BENCH_TMP/$name-wrk.log" >&2
    line="BENCH rps=0 p50_us=0 p99_us=0 requests=0 bytes=0 errors=1 non2xx=0 detail=wrk-failed"
  fi
  echo "$line"
}

# idle SCENARIO PORT PID: RSS cost of IDLE_CONNS idle keep-alive connections
idle() {
  local json
  json=$(timeout 120 python3 "$here/lib/idle_conns.py" --proxy-port "$2" --pid "$3" \
    --url "$ORIGIN" --conns "$IDLE_CONNS" || true)
  [ -n "$json" ] || json='{"error": "idle_conns.py produced no result"}'
  say "$1 idle: $json"
  printf '%s\t%s\n' "$1" "$json" >>"$BENCH_TMP/idle.tsv"
}

# --- start everything; a scenario that cannot start or answer is FAILING, not dropped ---
start_nginx || { say "nginx upstream did not start:"; cat "$BENCH_TMP/nginx/error.log" >&2; exit 1; }
ORIGIN=http://127.0.0.1:$NGINX_PORT/small
declare -A URL ABS PID
ACTIVE=()
say "$MODE run: ${CONNS[*]} connections, $RUNS x ${DURATION}s each; upstream nginx on :$NGINX_PORT"

URL[direct]=$ORIGIN ABS[direct]="" PID[direct]=$NGINX_PID
preflight direct "$ORIGIN" && ACTIVE+=(direct)

start_airlock || true
echo "airlock=$(airlock_version)" >>"$BENCH_TMP/meta.txt"
if [ -n "$AIRLOCK_ERR" ]; then
  fail airlock "$AIRLOCK_ERR"
elif preflight airlock -x "http://127.0.0.1:$AIRLOCK_PORT" "$ORIGIN"; then
  URL[airlock]=http://127.0.0.1:$AIRLOCK_PORT/ ABS[airlock]=$ORIGIN PID[airlock]=$AIRLOCK_PID
  ACTIVE+=(airlock)
  idle airlock "$AIRLOCK_PORT" "$AIRLOCK_PID"
fi

if ! start_squid; then
  fail squid "did not start: $(tail -n 2 "$BENCH_TMP/squid/cache.log" 2>/dev/null | tr '\n' ' ')"
elif preflight squid -x "http://127.0.0.1:$SQUID_PORT" "$ORIGIN"; then
  URL[squid]=http://127.0.0.1:$SQUID_PORT/ ABS[squid]=$ORIGIN PID[squid]=$SQUID_PID
  ACTIVE+=(squid)
  idle squid "$SQUID_PORT" "$SQUID_PID"
fi

if ! start_haproxy; then
  fail haproxy "did not start: $(tail -n 2 "$BENCH_TMP/haproxy/stdout.log" | tr '\n' ' ')"
elif preflight haproxy "http://127.0.0.1:$HAPROXY_PORT/small"; then
  URL[haproxy]=http://127.0.0.1:$HAPROXY_PORT/small ABS[haproxy]="" PID[haproxy]=$HAPROXY_PID
  ACTIVE+=(haproxy)
fi

# --- throughput: rounds interleave the scenarios, so drift in the machine's other load
# spreads over all of them instead of landing on whichever ran last ---------------------
for name in "${ACTIVE[@]}"; do wrk_once "$name" 32 1 >/dev/null; done # warm-up
for c in "${CONNS[@]}"; do
  for r in $(seq "$RUNS"); do
    for name in "${ACTIVE[@]}"; do
      line=$(wrk_once "$name" "$c" "$DURATION")
      say "$name c=$c run $r/$RUNS: $line"
      # "BENCH k=v ..." -> scenario conns run rps p50 p99 requests errors non2xx
      echo "$line" | sed 's/[a-z0-9_]*=//g' |
        awk -v s="$name" -v c="$c" -v r="$r" -v OFS='\t' '{print s, c, r, $2, $3, $4, $5, $7, $8}' \
          >>"$BENCH_TMP/runs.tsv"
    done
  done
done
for name in "${ACTIVE[@]}"; do
  kill -0 "${PID[$name]}" 2>/dev/null || fail "$name" "process exited during the measurement"
done

echo "load_end=$(cut -d' ' -f1 /proc/loadavg)" >>"$BENCH_TMP/meta.txt"
mkdir -p "$here/results"
python3 "$here/lib/report.py" --dir "$BENCH_TMP" \
  --md "$here/results/latest.md" --csv "$here/results/latest.csv"

#!/usr/bin/env bash
# One command that measures airlock against direct and against peers on loopback.
# Usage: bench/run.sh [--quick]      (make bench [QUICK=1])
#   full:    wrk at 1, 32, 256 (keep-alive) and 32 (new connection per request), hey (TLS,
#            tunnel) at 1, 32 connections, fixed-rate latency, 2 GiB tunnel bulk;
#            3 runs x 5 s per figure (~14 min)
#   --quick: 32 connections only, 3 runs x 2 s per figure (1 s for new-connection and
#            fixed-rate), 1 GiB bulk, smaller probes (<3 min)
# Writes bench/results/latest.md and latest.csv and prints the markdown. See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
AIRLOCK_BIN=${AIRLOCK_BIN:-$root/build/bin/airlock}
LUA=$here/lib/wrk-absolute.lua
RUNS=3 IDLE_CONNS=1000 DURATION=5 CONNS=(1 32 256) MODE=full
MITM_CONNS=(1 32) IDLE_TLS_CONNS=1000 NEW_HOST_NAMES=30
NEWCONN_CONNS=(32) TUNNEL_CONNS=(1 32) BULK_MIB=2048
# seconds per run for the new-connection (scenario 2) and fixed-rate (scenario 9) figures
SHORT_DURATION=5
# fixed-rate latency: each wrk connection waits a random 0..2*RATE_DELAY_MS ms after every
# response, so RATE_CONNS connections offer about half of airlock's keep-alive saturation
RATE_DELAY_MS=10
case "${1:-}" in
  --quick)
    DURATION=2 CONNS=(32) MITM_CONNS=(32) IDLE_TLS_CONNS=250 NEW_HOST_NAMES=15 MODE=quick
    TUNNEL_CONNS=(32) BULK_MIB=1024 SHORT_DURATION=1
    ;;
  "") ;;
  -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac

for tool in wrk hey nginx squid haproxy mitmdump curl python3 openssl; do
  command -v "$tool" >/dev/null || {
    echo "bench: '$tool' not found; run deploy/install-deps.sh bench" >&2
    exit 1
  }
done

BENCH_TMP=$(mktemp -d /tmp/airlock-bench.XXXXXX)
# The credential the intercepting proxies inject; nginx refuses /small over TLS without it.
BENCH_KEY=$(openssl rand -hex 16)
# shellcheck source=bench/lib/peers.sh
source "$here/lib/peers.sh"
# shellcheck source=bench/lib/mitm_peers.sh
source "$here/lib/mitm_peers.sh"
trap 'stop_all; rm -rf "$BENCH_TMP"' EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
for f in runs fail idle newhost bulk; do : >"$BENCH_TMP/$f.tsv"; done
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
  echo "short_duration=$SHORT_DURATION"
  echo "runs=$RUNS"
  echo "clk_tck=$(getconf CLK_TCK)"
  echo "conns=${CONNS[*]}"
  echo "mitm_conns=${MITM_CONNS[*]}"
  echo "newconn_conns=${NEWCONN_CONNS[*]}"
  echo "tunnel_conns=${TUNNEL_CONNS[*]}"
  echo "bulk_mib=$BULK_MIB"
  echo "rate_delay_ms=$RATE_DELAY_MS"
  echo "idle_conns=$IDLE_CONNS"
  echo "idle_tls_conns=$IDLE_TLS_CONNS"
  echo "new_host_names=$NEW_HOST_NAMES"
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
# (over TLS that also means the credential was injected: nginx answers 403 without it)
preflight() {
  local name=$1 out
  shift
  out=$(curl -s --max-time 5 -o /dev/null -w '%{http_code} %{size_download}' "$@" || true)
  [ "$out" = "200 100" ] && return 0
  fail "$name" "preflight got '${out:-no response}' instead of '200 100'"
  return 1
}

# record GROUP SCENARIO CONNS RUN BENCH-LINE: one row of runs.tsv
#   "BENCH k=v ... cpu_ticks=N" -> group scenario conns run rps p50 p99 requests errors
#   non2xx cpu_ticks
record() {
  echo "$5" | sed 's/[a-z0-9_]*=//g' |
    awk -v g="$1" -v s="$2" -v c="$3" -v r="$4" -v OFS='\t' \
      '{print g, s, c, r, $2, $3, $4, $5, $7, $8, $10}' >>"$BENCH_TMP/runs.tsv"
}

# cpu_ticks PID: user + system clock ticks the process has used so far (0 once it is gone).
# Per request, this is what the proxy spends whatever the load tool can push: on 2 shared
# cores the load tool often saturates first, and req/s alone would hide the difference.
cpu_ticks() {
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0
}

# measured SCENARIO LOAD-COMMAND...: runs the command (which prints a BENCH line) and
# appends the scenario process's CPU ticks spent meanwhile
measured() {
  local pid=${PID[$1]} before line
  shift
  before=$(cpu_ticks "$pid")
  line=$("$@")
  echo "$line cpu_ticks=$(($(cpu_ticks "$pid") - before))"
}

# wrk_once SCENARIO CONNS SECONDS: prints wrk's BENCH line (a failing one if wrk gave none).
# A response slower than 10 s counts as an error (wrk's default of 2 s is too tight for an
# overloaded single-threaded peer at 256 connections: slow is measured, not failed).
wrk_once() {
  local name=$1 line
  line=$(BENCH_URL=${ABS[$name]} BENCH_CLOSE=${BENCH_CLOSE:-} \
    BENCH_DELAY_MS=${BENCH_DELAY_MS:-} timeout $(($3 + 30)) \
    wrk -t1 -c"$2" -d"$3s" --timeout 10s --latency -s "$LUA" "${URL[$name]}" 2>&1 |
    tee -a "$BENCH_TMP/$name-wrk.log" | grep '^BENCH ' || true)
  if [ -z "$line" ]; then
    say "$name c=$2: wrk produced no result; its output ends:"
    tail -n 5 "$BENCH_TMP/$name-wrk.log" >&2
    line="BENCH rps=0 p50_us=0 p99_us=0 requests=0 bytes=0 errors=1 non2xx=0 detail=wrk-failed"
  fi
  echo "$line"
}

# hey_once SCENARIO GROUP CONNS SECONDS: prints a BENCH line made from hey's summary.
# hey is the load tool for TLS because wrk cannot CONNECT. Each hey worker has its own
# transport, so -c N is N connections; with keep-alive each keeps its CONNECT tunnel (and
# TLS session) for the whole run, -disable-keepalive makes every request a new connection
# (CONNECT + TLS handshake). -cpus 1: one client thread's worth of CPU, as wrk -t1.
hey_once() {
  local name=$1 args
  read -ra args <<<"${HARGS[$name]}"
  [ "$2" = mitm-newconn ] && args+=(-disable-keepalive)
  timeout $(($4 + 30)) hey -z "$4s" -c "$3" -t 10 -cpus 1 "${args[@]}" "${HURL[$name]}" 2>&1 |
    tee -a "$BENCH_TMP/$name-hey.log" | python3 "$here/lib/hey_line.py" || true
}

# bulk_once SCENARIO: one download of BULK_URL (BULK_MIB MiB of zeros from nginx's plain
# HTTP port); for the proxies through a CONNECT tunnel (curl --proxytunnel), so the proxy
# relays the bytes blind. Prints "http_code bytes seconds cpu_ticks" (the scenario
# process's CPU: nginx for direct, else the proxy).
bulk_once() {
  local name=$1 pid=${PID[$1]} before out args
  read -ra args <<<"${BARGS[$name]}"
  before=$(cpu_ticks "$pid")
  out=$(timeout 130 curl -s --max-time 120 -o /dev/null \
    -w '%{http_code} %{size_download} %{time_total}' "${args[@]}" "$BULK_URL" || true)
  echo "${out:-000 0 0} $(($(cpu_ticks "$pid") - before))"
}

# add_tunnel SCENARIO PID PROXY-PORT: a forward proxy's CONNECT tunnel, not intercepted
# (127.0.0.1 has no credential rule; the curl preflight verifies nginx's own certificate
# against the bench CA, so an intercepted tunnel fails it). Registers the scenario for the
# hey tunnel rounds and for bulk (after a --proxytunnel preflight over plain HTTP).
add_tunnel() {
  local name=$1 pid=$2 port=$3
  PID[$name]=$pid
  if preflight "$name" -x "http://127.0.0.1:$port" --cacert "$BENCH_PKI/ca.pem" \
    -H "x-api-key: $BENCH_KEY" "https://127.0.0.1:$NGINX_TLS_PORT/small"; then
    HURL[$name]=https://127.0.0.1:$NGINX_TLS_PORT/small
    HARGS[$name]="-x http://127.0.0.1:$port -H x-api-key:$BENCH_KEY"
    TUNNEL_ACTIVE+=("$name")
  fi
  if preflight "$name-bulk" -p -x "http://127.0.0.1:$port" "$ORIGIN"; then
    BARGS[$name]="-p -x http://127.0.0.1:$port"
    BULK_ACTIVE+=("$name")
  fi
}

# idle SCENARIO PORT PID [IDLE_CONNS.PY-ARGS...]: RSS cost of idle keep-alive connections
idle() {
  local name=$1 port=$2 pid=$3 json
  shift 3
  json=$(timeout 300 python3 "$here/lib/idle_conns.py" --proxy-port "$port" --pid "$pid" \
    --url "$ORIGIN" --conns "$IDLE_CONNS" "$@" || true)
  [ -n "$json" ] || json='{"error": "idle_conns.py produced no result"}'
  say "$name idle: $json"
  printf '%s\t%s\n' "$name" "$json" >>"$BENCH_TMP/idle.tsv"
}

# idle_tls SCENARIO PORT PID CA: the same through CONNECT + TLS (intercepted pairs)
idle_tls() {
  IDLE_CONNS=$IDLE_TLS_CONNS ORIGIN=$TLS_URL idle "$1" "$2" "$3" \
    --connect "$BENCH_HOST:$NGINX_TLS_PORT" --cafile "$4" --header "x-api-key: placeholder"
}

# new_host SCENARIO PORT CA: leaf-mint cost for names the proxy has never seen
new_host() {
  local json
  # shellcheck disable=SC2046  # one argument per name
  json=$(timeout 120 python3 "$here/lib/new_host.py" --proxy-port "$2" --cafile "$3" \
    --port "$NGINX_TLS_PORT" --header "x-api-key: placeholder" \
    $(new_host_names "$NEW_HOST_NAMES") || true)
  [ -n "$json" ] || json='{"error": "new_host.py produced no result"}'
  say "$1 new host: $json"
  printf '%s\t%s\n' "$1" "$json" >>"$BENCH_TMP/newhost.tsv"
}

# add_mitm SCENARIO PID PROXY-PORT CA: registers an intercepting proxy for the hey rounds
# after its preflight (placeholder key in, injected key must reach nginx), new-host and
# idle probes. The idle probe runs first, on a process no load has touched yet.
add_mitm() {
  local name=$1 pid=$2 port=$3 ca=$4
  preflight "$name" -x "http://127.0.0.1:$port" --cacert "$ca" -H "x-api-key: placeholder" \
    "$TLS_URL" || return 0
  HURL[$name]=$TLS_URL HARGS[$name]="-x http://127.0.0.1:$port -H x-api-key:placeholder"
  PID[$name]=$pid
  MITM_ACTIVE+=("$name")
  [ "$name" = airlock-mitm ] || idle_tls "$name" "$port" "$pid" "$ca"
  new_host "$name" "$port" "$ca"
}

# idle_airlock_tls: airlock's intercepted idle probe on an instance of its own, so memory
# that the forward idle probe (or any load) freed is not reused and hidden from the figure.
idle_airlock_tls() {
  if ! start_airlock airlock-idle; then
    fail airlock-mitm "idle probe instance: $AIRLOCK_ERR"
    return 0
  fi
  if preflight airlock-mitm -x "http://127.0.0.1:$AIRLOCK_PORT" --cacert "$AIRLOCK_CA" \
    -H "x-api-key: placeholder" "$TLS_URL"; then
    idle_tls airlock-mitm "$AIRLOCK_PORT" "$AIRLOCK_PID" "$AIRLOCK_CA"
  fi
  stop_pid "$AIRLOCK_PID"
}

# --- start everything; a scenario that cannot start or answer is FAILING, not dropped ---
make_bench_pki
start_nginx || { say "nginx upstream did not start:"; cat "$BENCH_TMP/nginx/error.log" >&2; exit 1; }
ORIGIN=http://127.0.0.1:$NGINX_PORT/small
TLS_URL=https://$BENCH_HOST:$NGINX_TLS_PORT/small
declare -A URL ABS PID HURL HARGS BARGS
ACTIVE=() MITM_ACTIVE=() TUNNEL_ACTIVE=() BULK_ACTIVE=()
# scenario 4's file: sparse, so it costs neither disk nor page cache
truncate -s "${BULK_MIB}M" "$BENCH_TMP/nginx/www/bulk"
BULK_URL=http://127.0.0.1:$NGINX_PORT/bulk
say "$MODE run: wrk ${CONNS[*]} and hey ${MITM_CONNS[*]} connections, $RUNS x ${DURATION}s each;" \
  "upstream nginx on :$NGINX_PORT (HTTP) and :$NGINX_TLS_PORT (TLS)"

URL[direct]=$ORIGIN ABS[direct]="" PID[direct]=$NGINX_PID
preflight direct "$ORIGIN" && ACTIVE+=(direct)
if preflight tls-direct --cacert "$BENCH_PKI/ca.pem" -H "x-api-key: $BENCH_KEY" \
  "https://127.0.0.1:$NGINX_TLS_PORT/small"; then
  HURL[tls-direct]=https://127.0.0.1:$NGINX_TLS_PORT/small HARGS[tls-direct]="-H x-api-key:$BENCH_KEY"
  PID[tls-direct]=$NGINX_PID
  MITM_ACTIVE+=(tls-direct)
  TUNNEL_ACTIVE+=(tls-direct)
fi
BARGS[direct]="" && BULK_ACTIVE+=(direct)

idle_airlock_tls
start_airlock || true
echo "airlock=$(airlock_version)" >>"$BENCH_TMP/meta.txt"
if [ -n "$AIRLOCK_ERR" ]; then
  for name in airlock airlock-forward airlock-mitm airlock-tunnel airlock-tunnel-bulk; do
    fail "$name" "$AIRLOCK_ERR"
  done
elif preflight airlock -x "http://127.0.0.1:$AIRLOCK_PORT" "$ORIGIN"; then
  URL[airlock]=http://127.0.0.1:$AIRLOCK_PORT/ ABS[airlock]=$ORIGIN PID[airlock]=$AIRLOCK_PID
  ACTIVE+=(airlock)
  HURL[airlock-forward]=$ORIGIN HARGS[airlock-forward]="-x http://127.0.0.1:$AIRLOCK_PORT"
  PID[airlock-forward]=$AIRLOCK_PID
  MITM_ACTIVE+=(airlock-forward)
  idle airlock "$AIRLOCK_PORT" "$AIRLOCK_PID"
  add_tunnel airlock-tunnel "$AIRLOCK_PID" "$AIRLOCK_PORT"
  add_mitm airlock-mitm "$AIRLOCK_PID" "$AIRLOCK_PORT" "$AIRLOCK_CA"
else
  fail airlock-forward "the plain-forward preflight failed"
  add_mitm airlock-mitm "$AIRLOCK_PID" "$AIRLOCK_PORT" "$AIRLOCK_CA"
fi

if ! start_squid; then
  fail squid "did not start: $(tail -n 2 "$BENCH_TMP/squid/cache.log" 2>/dev/null | tr '\n' ' ')"
elif preflight squid -x "http://127.0.0.1:$SQUID_PORT" "$ORIGIN"; then
  URL[squid]=http://127.0.0.1:$SQUID_PORT/ ABS[squid]=$ORIGIN PID[squid]=$SQUID_PID
  ACTIVE+=(squid)
  idle squid "$SQUID_PORT" "$SQUID_PID"
  add_tunnel squid-tunnel "$SQUID_PID" "$SQUID_PORT"
fi

if ! start_haproxy; then
  fail haproxy "did not start: $(tail -n 2 "$BENCH_TMP/haproxy/stdout.log" | tr '\n' ' ')"
elif preflight haproxy "http://127.0.0.1:$HAPROXY_PORT/small"; then
  URL[haproxy]=http://127.0.0.1:$HAPROXY_PORT/small ABS[haproxy]="" PID[haproxy]=$HAPROXY_PID
  ACTIVE+=(haproxy)
fi

if ! start_mitmdump; then
  fail mitmdump "did not start: $(tail -n 2 "$BENCH_TMP/mitmdump/stdout.log" | tr '\n' ' ')"
else
  add_mitm mitmdump "$MITMDUMP_PID" "$MITMDUMP_PORT" "$MITMDUMP_CA"
fi

if ! start_squid_bump; then
  fail squid-bump "did not start: $(tail -n 2 "$BENCH_TMP/squid-bump/cache.log" \
    "$BENCH_TMP/squid-bump/certgen-init.log" 2>/dev/null | tr '\n' ' ')"
else
  add_mitm squid-bump "$SQUID_BUMP_PID" "$SQUID_BUMP_PORT" "$SQUID_BUMP_CA"
fi

# --- throughput: rounds interleave the scenarios, so drift in the machine's other load
# spreads over all of them instead of landing on whichever ran last ---------------------
for name in "${ACTIVE[@]}"; do wrk_once "$name" 32 1 >/dev/null; done # warm-up
for c in "${CONNS[@]}"; do
  for r in $(seq "$RUNS"); do
    for name in "${ACTIVE[@]}"; do
      line=$(measured "$name" wrk_once "$name" "$c" "$DURATION")
      say "$name c=$c run $r/$RUNS: $line"
      record forward "$name" "$c" "$r" "$line"
    done
  done
done

# scenario 2: the same with "Connection: close", so every request is a new connection
for c in "${NEWCONN_CONNS[@]}"; do
  for r in $(seq "$RUNS"); do
    for name in "${ACTIVE[@]}"; do
      line=$(BENCH_CLOSE=1 measured "$name" wrk_once "$name" "$c" "$SHORT_DURATION")
      say "$name new-conn c=$c run $r/$RUNS: $line"
      record forward-newconn "$name" "$c" "$r" "$line"
    done
  done
done

# scenario 9: latency at a fixed offered rate of about half airlock's keep-alive saturation
# (its median req/s at 32 connections above), the same rate for direct and airlock
sat=$(awk -F'\t' '$1 == "forward" && $2 == "airlock" && $3 == 32 {print $5}' \
  "$BENCH_TMP/runs.tsv" | sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}')
[ "${sat%.*}" -gt 0 ] 2>/dev/null || sat=20000
RATE_TARGET=$(awk -v s="$sat" 'BEGIN {printf "%d", s / 2}')
RATE_CONNS=$(awk -v t="$RATE_TARGET" -v d="$RATE_DELAY_MS" 'BEGIN {printf "%d", t * d / 1000 + 0.5}')
echo "rate_target=$RATE_TARGET" >>"$BENCH_TMP/meta.txt"
echo "rate_conns=$RATE_CONNS" >>"$BENCH_TMP/meta.txt"
say "fixed rate: about $RATE_TARGET req/s offered ($RATE_CONNS connections, mean ${RATE_DELAY_MS} ms pause)"
for r in $(seq "$RUNS"); do
  for name in direct airlock; do
    [[ " ${ACTIVE[*]} " == *" $name "* ]] || continue
    line=$(BENCH_DELAY_MS=$RATE_DELAY_MS measured "$name" wrk_once "$name" "$RATE_CONNS" \
      "$SHORT_DURATION")
    say "$name fixed-rate run $r/$RUNS: $line"
    record fixed-rate "$name" "$RATE_CONNS" "$r" "$line"
  done
done

# scenario 4: bulk through the tunnel, interleaved rounds (the preflight was the warm-up)
for r in $(seq "$RUNS"); do
  for name in "${BULK_ACTIVE[@]}"; do
    out=$(bulk_once "$name")
    say "$name bulk ${BULK_MIB} MiB run $r/$RUNS: code bytes seconds cpu_ticks = $out"
    printf '%s\t%s\t%s\n' "$name" "$r" "$(echo "$out" | tr ' ' '\t')" >>"$BENCH_TMP/bulk.tsv"
  done
done

# TLS: the same rounds with hey, keep-alive first, then a new connection per request;
# then scenario 3, small requests through a blind CONNECT tunnel with keep-alive
for name in "${MITM_ACTIVE[@]}"; do hey_once "$name" mitm-keepalive 32 1 >/dev/null; done
for group in mitm-keepalive mitm-newconn tunnel; do
  if [ "$group" = tunnel ]; then
    conns=("${TUNNEL_CONNS[@]}") names=("${TUNNEL_ACTIVE[@]}")
  else
    conns=("${MITM_CONNS[@]}") names=("${MITM_ACTIVE[@]}")
  fi
  for c in "${conns[@]}"; do
    for r in $(seq "$RUNS"); do
      for name in "${names[@]}"; do
        line=$(measured "$name" hey_once "$name" "$group" "$c" "$DURATION")
        say "$name $group c=$c run $r/$RUNS: $line"
        record "$group" "$name" "$c" "$r" "$line"
      done
    done
  done
done

for name in "${ACTIVE[@]}" "${MITM_ACTIVE[@]}" "${TUNNEL_ACTIVE[@]}" "${BULK_ACTIVE[@]}"; do
  kill -0 "${PID[$name]}" 2>/dev/null || fail "$name" "process exited during the measurement"
done

echo "load_end=$(cut -d' ' -f1 /proc/loadavg)" >>"$BENCH_TMP/meta.txt"
mkdir -p "$here/results"
python3 "$here/lib/report.py" --dir "$BENCH_TMP" \
  --md "$here/results/latest.md" --csv "$here/results/latest.csv"

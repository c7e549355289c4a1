#!/usr/bin/env bash
# One command that measures airlock against direct and against peers on loopback.
# Usage: bench/run.sh [--quick] [--only GROUP[,GROUP...]]   (make bench [QUICK=1])
#   full:    wrk at 1, 32, 256 (keep-alive) and 32 (new connection per request), hey (TLS,
#            tunnel) at 1, 32 connections, fixed-rate latency, 2 GiB tunnel bulk, 1 GiB
#            intercepted and scrubbed, SSE 500 events per path, 200 small POSTs per path;
#            3 runs x 4 s per figure (~16 min)
#   --quick: 32 connections only, 3 runs x 1 s per figure, 512 MiB bulk, 256 MiB scrubbed,
#            200 SSE events, 50 POSTs, smaller probes (<3 min)
#   --only:  just these groups (default all): plain newconn rate bulk scrub-bulk mitm
#            mitm-newconn tunnel sse post-latency idle newhost
# Writes bench/results/latest.md and latest.csv and prints the markdown. See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
BENCH_LIB=$here/lib
AIRLOCK_BIN=${AIRLOCK_BIN:-$root/build/bin/airlock}
LUA=$here/lib/wrk-absolute.lua
RUNS=3 IDLE_CONNS=1000 DURATION=4 CONNS=(1 32 256) MODE=full
MITM_CONNS=(1 32) IDLE_TLS_CONNS=1000 NEW_HOST_NAMES=30
NEWCONN_CONNS=(32) TUNNEL_CONNS=(1 32) BULK_MIB=2048
# scrub-bulk (issue 18): MiB of text intercepted and scrubbed, and MiB (decoded) sent gzipped
SCRUB_BULK_MIB=1024 SCRUB_GZIP_MIB=256
# seconds per run for the new-connection (scenario 2) and fixed-rate (scenario 9) figures
SHORT_DURATION=4
# fixed-rate latency: each wrk connection waits a random 0..2*RATE_DELAY_MS ms after every
# response, so RATE_CONNS connections offer about half of airlock's keep-alive saturation
RATE_DELAY_MS=10
# scenario 7 (SSE): events per path, pooled over RUNS interleaved streams, one event every
# SSE_INTERVAL_MS; each stream first reads SSE_WARMUP events it does not count
SSE_EVENTS=500 SSE_INTERVAL_MS=10 SSE_WARMUP=10
# issue 19, failure 7: small POSTs per path from python-requests on one reused connection,
# pooled over RUNS interleaved rounds; each round first makes POST_WARMUP uncounted ones
POST_REQUESTS=200 POST_WARMUP=5
# the --only groups, in the order they run
ALL_GROUPS=(idle newhost plain newconn rate bulk scrub-bulk mitm mitm-newconn tunnel sse
  post-latency)
usage() { echo "usage: bench/run.sh [--quick] [--only GROUP[,GROUP...]] (groups: ${ALL_GROUPS[*]})"; }
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick)
      DURATION=1 CONNS=(32) MITM_CONNS=(32) IDLE_CONNS=250 IDLE_TLS_CONNS=250 MODE=quick
      NEW_HOST_NAMES=15 TUNNEL_CONNS=(32) BULK_MIB=512 SHORT_DURATION=1 SSE_EVENTS=200
      SCRUB_BULK_MIB=256 SCRUB_GZIP_MIB=64 POST_REQUESTS=50
      ;;
    --only)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      ONLY=$2
      shift
      ;;
    --only=*) ONLY=${1#--only=} ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
SELECTED=()
if [ -z "$ONLY" ]; then
  SELECTED=("${ALL_GROUPS[@]}")
else
  IFS=, read -ra wanted <<<"$ONLY"
  for g in "${wanted[@]}"; do
    [[ " ${ALL_GROUPS[*]} " == *" $g "* ]] || { echo "bench: unknown group '$g'" >&2; usage >&2; exit 2; }
  done
  for g in "${ALL_GROUPS[@]}"; do # run order, each once
    if [[ ",$ONLY," == *",$g,"* ]]; then SELECTED+=("$g"); fi
  done
fi
want() { # want GROUP...: true if any of them was selected
  local g
  for g in "$@"; do [[ " ${SELECTED[*]} " == *" $g "* ]] && return 0; done
  return 1
}
# the SSE events are split over the RUNS rounds (rounded up)
SSE_PER_RUN=$(((SSE_EVENTS + RUNS - 1) / RUNS))
POST_PER_RUN=$(((POST_REQUESTS + RUNS - 1) / RUNS)) # the same for the POSTs

for tool in wrk hey nginx squid haproxy tinyproxy mitmdump curl python3 openssl; do
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
# shellcheck source=bench/lib/scrub.sh
source "$here/lib/scrub.sh"
scrub_keys
trap 'stop_all; rm -rf "$BENCH_TMP"' EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
for f in runs fail idle newhost bulk scrub_bulk sse post notes; do : >"$BENCH_TMP/$f.tsv"; done
say() { echo "bench: [$((SECONDS / 60))m$((SECONDS % 60))s] $*" >&2; }

load_start=$(cut -d' ' -f1 /proc/loadavg) # before anything of ours runs
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
  echo "cores=$(nproc)"
  echo "kernel=$(uname -r)"
  echo "load_start=$load_start"
  echo "mode=$MODE"
  echo "groups=${SELECTED[*]}"
  echo "duration=$DURATION"
  echo "short_duration=$SHORT_DURATION"
  echo "runs=$RUNS"
  echo "clk_tck=$(getconf CLK_TCK)"
  echo "conns=${CONNS[*]}"
  echo "mitm_conns=${MITM_CONNS[*]}"
  echo "newconn_conns=${NEWCONN_CONNS[*]}"
  echo "tunnel_conns=${TUNNEL_CONNS[*]}"
  echo "bulk_mib=$BULK_MIB"
  echo "scrub_bulk_mib=$SCRUB_BULK_MIB"
  echo "scrub_gzip_mib=$SCRUB_GZIP_MIB"
  echo "rate_delay_ms=$RATE_DELAY_MS"
  echo "idle_conns=$IDLE_CONNS"
  echo "idle_tls_conns=$IDLE_TLS_CONNS"
  echo "new_host_names=$NEW_HOST_NAMES"
  echo "body_bytes=100"
  echo "sse_events=$((SSE_PER_RUN * RUNS))"
  echo "sse_interval_ms=$SSE_INTERVAL_MS"
  echo "sse_warmup=$SSE_WARMUP"
  echo "post_requests=$((POST_PER_RUN * RUNS))"
  echo "post_warmup=$POST_WARMUP"
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

# keepalive_check SCENARIO CURL-ARGS...: two requests on one curl; if the second needed a new
# connection, the proxy closed the first without saying so (wrk then counts a read error per
# request): noted in the report next to the scenario's FAILING status
keepalive_check() {
  local name=$1 out
  shift
  out=$(curl -s --max-time 5 -o /dev/null -o /dev/null -w '%{num_connects} ' "$@" || true)
  if [ "$out" = "1 1 " ]; then
    say "$name closes the client connection after every response (no keep-alive)"
    printf '%s\t%s\n' "$name" "no keep-alive: closes after each response without \
'Connection: close', a wrk read error per request" >>"$BENCH_TMP/notes.tsv"
  fi
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

# add_sse SCENARIO PID SSE_CLIENT.PY-ARGS...: registers a path for the SSE rounds (if they
# run and the SSE upstream is up)
add_sse() {
  want sse && [ -n "$SSE_PID" ] || return 0
  local name=$1
  PID[sse:$name]=$2
  shift 2
  SARGS[$name]="$*"
  SSE_ACTIVE+=("$name")
}

# sse_once SCENARIO: one stream of SSE_WARMUP + SSE_PER_RUN events; prints the client's JSON
sse_once() {
  local args json
  read -ra args <<<"${SARGS[$1]}"
  json=$(timeout $((SSE_PER_RUN * SSE_INTERVAL_MS * 2 / 1000 + 30)) python3 "$here/lib/sse_client.py" \
    "${args[@]}" --events "$SSE_PER_RUN" --warmup "$SSE_WARMUP" \
    --interval-ms "$SSE_INTERVAL_MS" || true)
  [ -n "$json" ] || json='{"error": "sse_client.py produced no result"}'
  echo "$json"
}

# add_post SCENARIO PID [--proxy H:P]: registers a path for the post-latency rounds (if they
# run and the POST upstream is up) after one curl POST through it got the upstream's answer
add_post() {
  want post-latency && [ -n "$POST_PID" ] || return 0
  local name=$1 pid=$2 out want='{"ok":true,"read":1} 200' via=()
  shift 2
  if [ "${1:-}" = --proxy ]; then via=(-x "http://$2"); fi
  out=$(curl -s --max-time 5 -w ' %{http_code}' --data-binary x "${via[@]}" "$POST_URL" || true)
  if [ "$out" != "$want" ]; then
    fail "post:$name" "preflight POST got '${out:-no response}' instead of '$want'"
    return 0
  fi
  PID[post:$name]=$pid
  PARGS[$name]="$*"
  POST_ACTIVE+=("$name")
}

# post_once SCENARIO: one round (a new Session, so one connection) of POST_WARMUP +
# POST_PER_RUN POSTs; prints the client's JSON. /usr/bin/python3: Debian's python3-requests,
# the client of issue 19 (python3 on PATH may be another interpreter without it).
post_once() {
  local args json
  read -ra args <<<"${PARGS[$1]}"
  json=$(timeout $((30 + POST_PER_RUN)) /usr/bin/python3 "$here/lib/post_client.py" \
    --url "$POST_URL" "${args[@]}" --requests "$POST_PER_RUN" --warmup "$POST_WARMUP" || true)
  [ -n "$json" ] || json='{"error": "post_client.py produced no result"}'
  echo "$json"
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

# add_mitm SCENARIO PID PROXY-PORT CA: registers an intercepting proxy for the hey and SSE
# rounds after its preflight (placeholder key in, injected key must reach nginx), new-host
# and idle probes. The idle probe runs first, on a process no load has touched yet.
add_mitm() {
  local name=$1 pid=$2 port=$3 ca=$4
  preflight "$name" -x "http://127.0.0.1:$port" --cacert "$ca" -H "x-api-key: placeholder" \
    "$TLS_URL" || return 0
  HURL[$name]=$TLS_URL HARGS[$name]="-x http://127.0.0.1:$port -H x-api-key:placeholder"
  PID[$name]=$pid
  MITM_ACTIVE+=("$name")
  add_sse "$name" "$pid" --url "$SSE_TLS_URL" --proxy "127.0.0.1:$port" --cafile "$ca" \
    --header x-api-key:placeholder
  if want idle && [ "$name" != airlock-mitm ]; then idle_tls "$name" "$port" "$pid" "$ca"; fi
  if want newhost; then new_host "$name" "$port" "$ca"; fi
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
# issue 18: nginx's TLS server gets a scrub: false twin port and the scrubbing files
scrub_files "$BENCH_TMP/nginx/www"
NGINX_NOSCRUB_PORT=$(free_port) NGINX_TLS_EXTRA=$(scrub_nginx_locations)
start_nginx || { say "nginx upstream did not start:"; cat "$BENCH_TMP/nginx/error.log" >&2; exit 1; }
ORIGIN=http://127.0.0.1:$NGINX_PORT/small
TLS_URL=https://$BENCH_HOST:$NGINX_TLS_PORT/small
# scenario 7's upstream: the ports go into the proxies' configs whether or not it runs
SSE_PORT=$(free_port) SSE_TLS_PORT=$(free_port) SSE_NOSCRUB_PORT=$(free_port)
SSE_URL=http://127.0.0.1:$SSE_PORT/sse
SSE_TLS_URL=https://$BENCH_HOST:$SSE_TLS_PORT/sse
declare -A URL ABS PID HURL HARGS BARGS SARGS PARGS
ACTIVE=() MITM_ACTIVE=() TUNNEL_ACTIVE=() BULK_ACTIVE=() SSE_ACTIVE=() POST_ACTIVE=()
# scenario 4's file: sparse, so it costs neither disk nor page cache
truncate -s "${BULK_MIB}M" "$BENCH_TMP/nginx/www/bulk"
BULK_URL=http://127.0.0.1:$NGINX_PORT/bulk
say "$MODE run of ${SELECTED[*]}: wrk ${CONNS[*]} and hey ${MITM_CONNS[*]} connections," \
  "$RUNS x ${DURATION}s each; upstream nginx on :$NGINX_PORT (HTTP) and :$NGINX_TLS_PORT (TLS)"
SSE_PID=""
if want sse && ! start_sse; then
  fail sse "the SSE upstream did not start: $(tail -n 2 "$BENCH_TMP/sse/stdout.log" | tr '\n' ' ')"
  SSE_PID="" # so add_sse registers nothing
fi

# issue 19's upstream (nginx's static server refuses POST) and python-requests to drive it
POST_PID=""
if want post-latency; then
  echo "requests=$(/usr/bin/python3 -c 'import requests; print(requests.__version__)' \
    2>/dev/null || echo none)" >>"$BENCH_TMP/meta.txt"
  if ! /usr/bin/python3 -c 'import requests' 2>/dev/null; then
    fail post-latency "/usr/bin/python3 cannot import requests (Debian's python3-requests)"
  elif ! start_post_server; then
    fail post-latency "the POST upstream did not start: $(tail -n 2 "$BENCH_TMP/post/stdout.log" |
      tr '\n' ' ')"
    POST_PID="" # so add_post registers nothing
  fi
fi
POST_URL=http://127.0.0.1:${POST_PORT:-0}/post
add_post direct "$POST_PID"

URL[direct]=$ORIGIN ABS[direct]="" PID[direct]=$NGINX_PID
preflight direct "$ORIGIN" && ACTIVE+=(direct)
add_sse direct "$SSE_PID" --url "$SSE_URL"
if preflight tls-direct --cacert "$BENCH_PKI/ca.pem" -H "x-api-key: $BENCH_KEY" \
  "https://127.0.0.1:$NGINX_TLS_PORT/small"; then
  HURL[tls-direct]=https://127.0.0.1:$NGINX_TLS_PORT/small HARGS[tls-direct]="-H x-api-key:$BENCH_KEY"
  PID[tls-direct]=$NGINX_PID
  MITM_ACTIVE+=(tls-direct)
  TUNNEL_ACTIVE+=(tls-direct)
fi
add_sse tls-direct "$SSE_PID" --url "https://127.0.0.1:$SSE_TLS_PORT/sse" \
  --cafile "$BENCH_PKI/ca.pem" --header "x-api-key:$BENCH_KEY"
BARGS[direct]="" && BULK_ACTIVE+=(direct)

if want idle; then idle_airlock_tls; fi
start_airlock || true
echo "airlock=$(airlock_version)" >>"$BENCH_TMP/meta.txt"
if [ -n "$AIRLOCK_ERR" ]; then
  for name in airlock airlock-forward airlock-mitm airlock-tunnel airlock-tunnel-bulk \
    airlock-mitm-noscrub airlock-mitm-echo post:airlock; do
    fail "$name" "$AIRLOCK_ERR"
  done
elif preflight airlock -x "http://127.0.0.1:$AIRLOCK_PORT" "$ORIGIN"; then
  URL[airlock]=http://127.0.0.1:$AIRLOCK_PORT/ ABS[airlock]=$ORIGIN PID[airlock]=$AIRLOCK_PID
  ACTIVE+=(airlock)
  HURL[airlock-forward]=$ORIGIN HARGS[airlock-forward]="-x http://127.0.0.1:$AIRLOCK_PORT"
  PID[airlock-forward]=$AIRLOCK_PID
  MITM_ACTIVE+=(airlock-forward)
  add_sse airlock "$AIRLOCK_PID" --url "$SSE_URL" --proxy "127.0.0.1:$AIRLOCK_PORT"
  if want idle; then idle airlock "$AIRLOCK_PORT" "$AIRLOCK_PID"; fi
  add_tunnel airlock-tunnel "$AIRLOCK_PID" "$AIRLOCK_PORT"
  add_mitm airlock-mitm "$AIRLOCK_PID" "$AIRLOCK_PORT" "$AIRLOCK_CA"
else
  fail airlock-forward "the plain-forward preflight failed"
  add_mitm airlock-mitm "$AIRLOCK_PID" "$AIRLOCK_PORT" "$AIRLOCK_CA"
fi
if [ -z "$AIRLOCK_ERR" ]; then add_post airlock "$AIRLOCK_PID" --proxy "127.0.0.1:$AIRLOCK_PORT"; fi
if [ -z "$AIRLOCK_ERR" ] && want mitm sse scrub-bulk; then
  add_scrub "$AIRLOCK_PID" "$AIRLOCK_PORT" "$AIRLOCK_CA"
fi

# the plain forward and reverse peers serve every group but the TLS-interception ones (and
# post-latency only Squid: tinyproxy keeps no connection, the reverse proxies no proxy form)
if want idle plain newconn tunnel bulk sse post-latency; then
  if ! start_squid; then
    why="did not start: $(tail -n 2 "$BENCH_TMP/squid/cache.log" 2>/dev/null | tr '\n' ' ')"
    fail squid "$why"
    if want post-latency; then fail post:squid "$why"; fi
  else
    if preflight squid -x "http://127.0.0.1:$SQUID_PORT" "$ORIGIN"; then
      URL[squid]=http://127.0.0.1:$SQUID_PORT/ ABS[squid]=$ORIGIN PID[squid]=$SQUID_PID
      ACTIVE+=(squid)
      add_sse squid "$SQUID_PID" --url "$SSE_URL" --proxy "127.0.0.1:$SQUID_PORT"
      if want idle; then idle squid "$SQUID_PORT" "$SQUID_PID"; fi
      add_tunnel squid-tunnel "$SQUID_PID" "$SQUID_PORT"
    fi
    add_post squid "$SQUID_PID" --proxy "127.0.0.1:$SQUID_PORT"
  fi
fi

if want idle plain newconn tunnel bulk sse; then
  if ! start_tinyproxy; then
    why="did not start: $(tail -n 2 "$BENCH_TMP/tinyproxy/stdout.log" | tr '\n' ' ')"
    for name in tinyproxy tinyproxy-tunnel tinyproxy-tunnel-bulk; do fail "$name" "$why"; done
  else
    if preflight tinyproxy -x "http://127.0.0.1:$TINYPROXY_PORT" "$ORIGIN"; then
      URL[tinyproxy]=http://127.0.0.1:$TINYPROXY_PORT/ ABS[tinyproxy]=$ORIGIN
      PID[tinyproxy]=$TINYPROXY_PID
      ACTIVE+=(tinyproxy)
      add_sse tinyproxy "$TINYPROXY_PID" --url "$SSE_URL" --proxy "127.0.0.1:$TINYPROXY_PORT"
    fi
    add_tunnel tinyproxy-tunnel "$TINYPROXY_PID" "$TINYPROXY_PORT"
  fi
fi

if want plain newconn sse; then
  if ! start_haproxy; then
    fail haproxy "did not start: $(tail -n 2 "$BENCH_TMP/haproxy/stdout.log" | tr '\n' ' ')"
  elif preflight haproxy "http://127.0.0.1:$HAPROXY_PORT/small"; then
    URL[haproxy]=http://127.0.0.1:$HAPROXY_PORT/small ABS[haproxy]="" PID[haproxy]=$HAPROXY_PID
    ACTIVE+=(haproxy)
    add_sse haproxy "$HAPROXY_PID" --url "http://127.0.0.1:$HAPROXY_PORT/sse"
  fi

  if ! start_nginx_reverse; then
    fail nginx-reverse "did not start: $(tail -n 2 "$BENCH_TMP/nginx-reverse/error.log" | tr '\n' ' ')"
  elif preflight nginx-reverse "http://127.0.0.1:$NGINX_REVERSE_PORT/small"; then
    URL[nginx-reverse]=http://127.0.0.1:$NGINX_REVERSE_PORT/small ABS[nginx-reverse]=""
    PID[nginx-reverse]=$NGINX_REVERSE_PID
    ACTIVE+=(nginx-reverse)
    add_sse nginx-reverse "$NGINX_REVERSE_PID" --url "http://127.0.0.1:$NGINX_REVERSE_PORT/sse"
  fi
fi

if want mitm mitm-newconn idle newhost sse; then
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
fi

if want plain newconn; then
  for name in "${ACTIVE[@]}"; do
    if [ -n "${ABS[$name]}" ]; then
      keepalive_check "$name" -x "${URL[$name]}" "${ABS[$name]}" "${ABS[$name]}"
    else
      keepalive_check "$name" "${URL[$name]}" "${URL[$name]}"
    fi
  done
fi

# --- throughput: rounds interleave the scenarios, so drift in the machine's other load
# spreads over all of them instead of landing on whichever ran last ---------------------
if want plain newconn rate; then
  for name in "${ACTIVE[@]}"; do wrk_once "$name" 32 1 >/dev/null; done # warm-up
fi
if want plain; then
  for c in "${CONNS[@]}"; do
    for r in $(seq "$RUNS"); do
      for name in "${ACTIVE[@]}"; do
        line=$(measured "$name" wrk_once "$name" "$c" "$DURATION")
        say "$name c=$c run $r/$RUNS: $line"
        record forward "$name" "$c" "$r" "$line"
      done
    done
  done
fi

# scenario 2: the same with "Connection: close", so every request is a new connection
if want newconn; then
  for c in "${NEWCONN_CONNS[@]}"; do
    for r in $(seq "$RUNS"); do
      for name in "${ACTIVE[@]}"; do
        line=$(BENCH_CLOSE=1 measured "$name" wrk_once "$name" "$c" "$SHORT_DURATION")
        say "$name new-conn c=$c run $r/$RUNS: $line"
        record forward-newconn "$name" "$c" "$r" "$line"
      done
    done
  done
fi

# scenario 9: latency at a fixed offered rate of about half airlock's keep-alive saturation
# (its median req/s at 32 connections above, or one run of its own without "plain"), the
# same rate for direct and airlock
if want rate; then
  sat=$(awk -F'\t' '$1 == "forward" && $2 == "airlock" && $3 == 32 {print $5}' \
    "$BENCH_TMP/runs.tsv" | sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}')
  if [ "${sat%.*}" = 0 ] && [[ " ${ACTIVE[*]} " == *" airlock "* ]]; then
    line=$(wrk_once airlock 32 "$DURATION")
    say "airlock c=32 (fixed-rate calibration): $line"
    sat=$(echo "$line" | sed -n 's/.* rps=\([0-9.]*\).*/\1/p')
  fi
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
fi

# scenario 4: bulk through the tunnel, interleaved rounds (the preflight was the warm-up)
if want bulk; then
  for r in $(seq "$RUNS"); do
    for name in "${BULK_ACTIVE[@]}"; do
      out=$(bulk_once "$name")
      say "$name bulk ${BULK_MIB} MiB run $r/$RUNS: code bytes seconds cpu_ticks = $out"
      printf '%s\t%s\t%s\n' "$name" "$r" "$(echo "$out" | tr ' ' '\t')" >>"$BENCH_TMP/bulk.tsv"
    done
  done
fi

# issue 18: intercepted downloads, scrubbing on and off, and a gzip-coded one decoded
if want scrub-bulk; then scrub_bulk_rounds; fi

# TLS: the same rounds with hey, keep-alive first (with the scrubbing twins of
# airlock-mitm), then a new connection per request; then scenario 3, small requests
# through a blind CONNECT tunnel with keep-alive
mapfile -t KEEPALIVE_NAMES < <(mitm_keepalive_names)
if want mitm mitm-newconn; then
  for name in "${KEEPALIVE_NAMES[@]}"; do hey_once "$name" mitm-keepalive 32 1 >/dev/null; done
fi
for group in mitm-keepalive mitm-newconn tunnel; do
  if [ "$group" = tunnel ]; then
    want tunnel || continue
    conns=("${TUNNEL_CONNS[@]}") names=("${TUNNEL_ACTIVE[@]}")
  elif [ "$group" = mitm-keepalive ]; then
    want mitm || continue
    conns=("${MITM_CONNS[@]}") names=("${KEEPALIVE_NAMES[@]}")
  else
    want mitm-newconn || continue
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

# scenario 7: SSE, one event every SSE_INTERVAL_MS; RUNS interleaved rounds of one stream
# per path, their events pooled per path
if want sse; then
  for r in $(seq "$RUNS"); do
    for name in "${SSE_ACTIVE[@]}"; do
      json=$(sse_once "$name")
      # shellcheck disable=SC2001  # the progress line leaves out the list of delays
      say "$name sse run $r/$RUNS: $(echo "$json" | sed 's/, "delays_us": \[.*\]//')"
      printf '%s\t%s\t%s\n' "$name" "$r" "$json" >>"$BENCH_TMP/sse.tsv"
    done
  done
fi

# issue 19, failure 7: small POSTs from python-requests, one reused connection per round;
# RUNS interleaved rounds per path, their times pooled per path
if want post-latency; then
  for r in $(seq "$RUNS"); do
    for name in "${POST_ACTIVE[@]}"; do
      json=$(post_once "$name")
      # shellcheck disable=SC2001  # the progress line leaves out the list of times
      say "$name post run $r/$RUNS: $(echo "$json" | sed 's/, "delays_us": \[.*\]//')"
      printf '%s\t%s\t%s\n' "$name" "$r" "$json" >>"$BENCH_TMP/post.tsv"
    done
  done
fi

for name in "${ACTIVE[@]}" "${KEEPALIVE_NAMES[@]}" "${TUNNEL_ACTIVE[@]}" "${BULK_ACTIVE[@]}"; do
  kill -0 "${PID[$name]}" 2>/dev/null || fail "$name" "process exited during the measurement"
done
for name in "${SCRUB_BULK_ACTIVE[@]}"; do
  kill -0 "${PID[scrub-bulk:$name]}" 2>/dev/null ||
    fail "$name-scrub-bulk" "process exited during the measurement"
done
for name in "${SSE_ACTIVE[@]}"; do
  kill -0 "${PID[sse:$name]}" 2>/dev/null || fail "$name" "process exited during the measurement"
done
for name in "${POST_ACTIVE[@]}"; do
  kill -0 "${PID[post:$name]}" 2>/dev/null ||
    fail "post:$name" "process exited during the measurement"
done

echo "load_end=$(cut -d' ' -f1 /proc/loadavg)" >>"$BENCH_TMP/meta.txt"
mkdir -p "$here/results"
python3 "$here/lib/report.py" --dir "$BENCH_TMP" \
  --md "$here/results/latest.md" --csv "$here/results/latest.csv"

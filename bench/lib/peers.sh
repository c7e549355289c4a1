# shellcheck shell=bash disable=SC2034,SC2153  # sets and reads variables shared with run.sh
# Starting and stopping the processes bench/run.sh measures. Sourced, not run.
# Every process is started in the background with its PID recorded in BENCH_PIDS so that
# stop_all (run.sh's EXIT trap) ends exactly those. Everything listens on 127.0.0.1 only.
# Needs: BENCH_TMP (a private temp dir), BENCH_LIB (bench/lib), AIRLOCK_BIN; the TLS parts
# are in mitm_peers.sh.

BENCH_PIDS=()

free_port() { # prints a port the kernel considers free on 127.0.0.1
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # wait_port PORT PID SECONDS: until something accepts on 127.0.0.1:PORT
  local port=$1 pid=$2 deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

spawn() { # spawn LOGFILE CMD...: background CMD, output to LOGFILE, PID in SPAWNED_PID
  local log=$1
  shift
  "$@" >"$log" 2>&1 </dev/null &
  SPAWNED_PID=$!
  BENCH_PIDS+=("$SPAWNED_PID")
}

stop_pid() { # TERM, then KILL after 3 s; only a PID this file started
  local pid=$1 _
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do stop_pid "$pid"; done
}

# nginx_preamble DIR: what both nginx instances share (one worker in the foreground, no
# access log, keep-alive without a request limit, temp files in DIR/tmp), up to inside http {.
nginx_preamble() {
  local d=$1
  cat <<CONF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
CONF
}

# --- nginx: the upstream. One worker, no access log, /small (100 B) and /16k, over HTTP
# and over TLS (the bench PKI's ECDSA P-256 certificate for bench.test; needs BENCH_PKI and
# BENCH_KEY). Over TLS /small answers 403 unless x-api-key is exactly BENCH_KEY: a proxy
# that fails to inject (or forwards the client's placeholder as well) shows up as non-2xx
# responses instead of as speed. Optional: NGINX_NOSCRUB_PORT, a second port of the TLS
# server, and NGINX_TLS_EXTRA, more of its config (the scrubbing scenarios', lib/scrub.sh).
# -----------------------------------------------------------------------------------------
start_nginx() {
  local d=$BENCH_TMP/nginx
  mkdir -p "$d/www" "$d/tmp"
  head -c 99 /dev/zero | tr '\0' 'a' >"$d/www/small" && echo >>"$d/www/small"
  head -c 16384 /dev/zero | tr '\0' 'b' >"$d/www/16k"
  NGINX_PORT=$(free_port)
  NGINX_TLS_PORT=$(free_port)
  {
    nginx_preamble "$d"
    cat <<CONF
  default_type application/octet-stream;
  server { listen 127.0.0.1:$NGINX_PORT; root $d/www; }
  server {
    listen 127.0.0.1:$NGINX_TLS_PORT ssl;
    ${NGINX_NOSCRUB_PORT:+listen 127.0.0.1:$NGINX_NOSCRUB_PORT ssl;}
    root $d/www;
    ssl_certificate $BENCH_PKI/upstream.pem;
    ssl_certificate_key $BENCH_PKI/upstream.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:10m;
    location = /small { if (\$http_x_api_key != "$BENCH_KEY") { return 403; } }
${NGINX_TLS_EXTRA:-}
  }
}
CONF
  } >"$d/nginx.conf"
  spawn "$d/stdout.log" nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
  NGINX_PID=$SPAWNED_PID
  wait_port "$NGINX_PORT" "$NGINX_PID" 10
}

# --- Squid: forward proxy, one process (-N), no cache, no access log. -----------------
start_squid() {
  local d=$BENCH_TMP/squid
  mkdir -p "$d"
  SQUID_PORT=$(free_port)
  local user_line=""
  if [ "$(id -u)" -eq 0 ]; then # squid refuses to keep root; it drops to this user
    user_line="cache_effective_user proxy"
    chown proxy "$d" && chmod 755 "$BENCH_TMP"
  fi
  cat >"$d/squid.conf" <<CONF
http_port 127.0.0.1:$SQUID_PORT
$user_line
acl bench_client src 127.0.0.1/32
http_access allow bench_client
http_access deny all
cache deny all
cache_mem 0 MB
access_log none
cache_store_log none
cache_log $d/cache.log
pid_filename $d/squid.pid
coredump_dir $d
netdb_filename none
pinger_enable off
max_filedescriptors 16384
shutdown_lifetime 0 seconds
CONF
  spawn "$d/stdout.log" squid -N -f "$d/squid.conf"
  SQUID_PID=$SPAWNED_PID
  wait_port "$SQUID_PORT" "$SQUID_PID" 20
}

# --- HAProxy: reverse proxy to nginx that sets one request header. /sse goes to the SSE
# upstream (SSE_PORT) with "option http-no-delay": without it HAProxy sends body data with
# MSG_MORE and the kernel holds each event up to 200 ms waiting for a full segment (seen:
# p50 82 ms, p99 208 ms added). Only that backend has it, so /small is unchanged. ------
start_haproxy() {
  local d=$BENCH_TMP/haproxy
  mkdir -p "$d"
  HAPROXY_PORT=$(free_port)
  cat >"$d/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
frontend bench
  bind 127.0.0.1:$HAPROXY_PORT
  http-request set-header X-Api-Key bench
  use_backend sse if { path /sse }
  default_backend upstream
backend upstream
  server nginx 127.0.0.1:$NGINX_PORT
backend sse
  option http-no-delay
  server sse 127.0.0.1:$SSE_PORT
CONF
  spawn "$d/stdout.log" haproxy -db -f "$d/haproxy.cfg"
  HAPROXY_PID=$SPAWNED_PID
  wait_port "$HAPROXY_PORT" "$HAPROXY_PID" 10
}

# --- nginx as a reverse proxy that sets one header: the relay ceiling beside HAProxy. One
# worker, no access log, HTTP/1.1 keep-alive to the upstream (a pool big enough for 256
# connections, no request limit), x-api-key set; /sse goes to the SSE upstream (which sends
# "X-Accel-Buffering: no", so nginx relays it unbuffered, as SSE behind nginx is run). --
start_nginx_reverse() {
  local d=$BENCH_TMP/nginx-reverse
  mkdir -p "$d/tmp"
  NGINX_REVERSE_PORT=$(free_port)
  {
    nginx_preamble "$d"
    cat <<CONF
  upstream origin {
    server 127.0.0.1:$NGINX_PORT;
    keepalive 512;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  upstream sse {
    server 127.0.0.1:$SSE_PORT;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$NGINX_REVERSE_PORT;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header x-api-key bench;
    location / { proxy_pass http://origin; }
    location = /sse { proxy_pass http://sse; }
  }
}
CONF
  } >"$d/nginx.conf"
  spawn "$d/stdout.log" nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
  NGINX_REVERSE_PID=$SPAWNED_PID
  wait_port "$NGINX_REVERSE_PORT" "$NGINX_REVERSE_PID" 10
}

# --- tinyproxy: forward proxy, one process in the foreground (-d). tinyproxy 1.11 runs a
# thread per client connection (StartServers/MinSpareServers/... of 1.10 are gone);
# MaxClients 1024 so that 256 connections are never refused. LogLevel Critical (no
# per-connection lines), no Via header (airlock adds none), only 127.0.0.1 allowed (an
# address, so no name lookup per connection), CONNECT only to nginx's two ports. As root
# it drops to nobody. It has no client keep-alive, and closes after each response without
# saying "Connection: close": wrk counts that as a read error per request. --------------
start_tinyproxy() {
  local d=$BENCH_TMP/tinyproxy
  mkdir -p "$d"
  TINYPROXY_PORT=$(free_port)
  local user_lines=""
  if [ "$(id -u)" -eq 0 ]; then
    user_lines=$'User nobody\nGroup nogroup'
    chown nobody "$d" && chmod 755 "$BENCH_TMP"
  fi
  cat >"$d/tinyproxy.conf" <<CONF
Port $TINYPROXY_PORT
Listen 127.0.0.1
$user_lines
Timeout 300
MaxClients 1024
LogFile "$d/tinyproxy.log"
LogLevel Critical
PidFile "$d/tinyproxy.pid"
Allow 127.0.0.1
ConnectPort $NGINX_TLS_PORT
ConnectPort $NGINX_PORT
DisableViaHeader Yes
CONF
  spawn "$d/stdout.log" tinyproxy -d -c "$d/tinyproxy.conf"
  TINYPROXY_PID=$SPAWNED_PID
  wait_port "$TINYPROXY_PORT" "$TINYPROXY_PID" 10
}

# --- the SSE upstream (scenario 7): lib/sse_server.py, plain HTTP on SSE_PORT and TLS (the
# bench certificate, x-api-key must be BENCH_KEY) on SSE_TLS_PORT and SSE_NOSCRUB_PORT;
# ports chosen by the caller, so that the proxies' configs can name them before it
# starts. ------------------------------------------------------------------------------
start_sse() {
  local d=$BENCH_TMP/sse
  mkdir -p "$d"
  spawn "$d/stdout.log" env BENCH_KEY="$BENCH_KEY" python3 "$BENCH_LIB/sse_server.py" \
    --port "$SSE_PORT" --tls-port "$SSE_TLS_PORT" --tls-port "$SSE_NOSCRUB_PORT" \
    --cert "$BENCH_PKI/upstream.pem" --key "$BENCH_PKI/upstream.key" \
    --interval-ms "$SSE_INTERVAL_MS"
  SSE_PID=$SPAWNED_PID
  wait_port "$SSE_PORT" "$SSE_PID" 10 && wait_port "$SSE_TLS_PORT" "$SSE_PID" 5
}

# --- the POST upstream (issue 19, post-latency): lib/post_server.py, plain HTTP on
# POST_PORT; answers POST /post in one write (nginx's static server refuses POST). --------
start_post_server() {
  local d=$BENCH_TMP/post
  mkdir -p "$d"
  POST_PORT=$(free_port)
  spawn "$d/stdout.log" python3 "$BENCH_LIB/post_server.py" --port "$POST_PORT"
  POST_PID=$SPAWNED_PID
  wait_port "$POST_PORT" "$POST_PID" 10
}

# --- airlock: one worker. Ready when it prints "proxy listening on 127.0.0.1:PORT". ----
# Plain-forward and intercepting in one config, as deployed: requests to 127.0.0.1 are
# forwarded as they are; CONNECT to bench.test or *.bench.test (credential rules) is
# intercepted with airlock's ephemeral CA (exported to DIR/ca/ca.pem), x-api-key set from
# the BENCH_KEY environment variable, upstream verified against the bench CA. The
# intercepted bench.test ports each have four rules, scrubbing on or off (lib/scrub.sh).
# start_airlock [NAME]: NAME (default airlock) names the directory, so a second instance
# can run beside the first. Sets AIRLOCK_PORT, AIRLOCK_PID, AIRLOCK_CA; on failure returns
# 1 with the reason in AIRLOCK_ERR. Needs NGINX_TLS_PORT, NGINX_NOSCRUB_PORT, SSE_TLS_PORT,
# SSE_NOSCRUB_PORT, BENCH_PKI, BENCH_KEY and scrub_keys' BENCH_KEY2..4.
start_airlock() {
  local d=$BENCH_TMP/${1:-airlock} deadline name port
  AIRLOCK_PID=""
  mkdir -p "$d/ca"
  AIRLOCK_ERR=""
  AIRLOCK_CA=$d/ca/ca.pem
  if [ ! -x "$AIRLOCK_BIN" ]; then
    AIRLOCK_ERR="binary $AIRLOCK_BIN not built"
    return 1
  fi
  AIRLOCK_PORT=$(free_port)
  {
    cat <<CONF
proxy: { listen: "127.0.0.1:$AIRLOCK_PORT", workers: 1 }
admin: { socket: "$d/admin/admin.sock" }
metrics: { listen: "127.0.0.1:0" }
egress: { allow_private: ["127.0.0.0/8"] }   # the bench upstreams live on loopback
log: { level: warn }
tls:
  ca: { export_dir: "$d/ca" }
  upstream: { ca_file: "$BENCH_PKI/ca.pem" }
secrets:
  benchkey: { env: BENCH_KEY }
$(scrub_secrets_yaml)
credentials:   # a rule without port: means 443; the bench upstreams listen on free ports
$(scrub_rules "$BENCH_HOST" "$NGINX_TLS_PORT")
$(scrub_rules "$BENCH_HOST" "$NGINX_NOSCRUB_PORT" off)
  - { host: "*.$BENCH_HOST", port: $NGINX_TLS_PORT, headers: { x-api-key: "{{benchkey}}" } }
$(scrub_rules "$BENCH_HOST" "$SSE_TLS_PORT")
$(scrub_rules "$BENCH_HOST" "$SSE_NOSCRUB_PORT" off)
resolve:
CONF
    # resolve: keys are exact host:port, so every new-host name gets its own entry
    for name in "$BENCH_HOST" $(new_host_names "$NEW_HOST_NAMES"); do
      echo "  \"$name:$NGINX_TLS_PORT\": \"127.0.0.1:$NGINX_TLS_PORT\""
    done
    for port in "$NGINX_NOSCRUB_PORT" "$SSE_TLS_PORT" "$SSE_NOSCRUB_PORT"; do
      echo "  \"$BENCH_HOST:$port\": \"127.0.0.1:$port\"" # scrub: false twin, SSE upstream
    done
  } >"$d/airlock.yaml"
  spawn "$d/stdout.log" env BENCH_KEY="$BENCH_KEY" BENCH_KEY2="$BENCH_KEY2" \
    BENCH_KEY3="$BENCH_KEY3" BENCH_KEY4="$BENCH_KEY4" "$AIRLOCK_BIN" --config "$d/airlock.yaml"
  AIRLOCK_PID=$SPAWNED_PID
  deadline=$((SECONDS + 10))
  while ((SECONDS < deadline)); do
    grep -q "proxy listening on 127.0.0.1:$AIRLOCK_PORT" "$d/stdout.log" && [ -s "$AIRLOCK_CA" ] &&
      return 0
    if ! kill -0 "$AIRLOCK_PID" 2>/dev/null; then
      local rc=0
      wait "$AIRLOCK_PID" 2>/dev/null || rc=$?
      AIRLOCK_ERR="exited at startup with status $rc: $(tail -n 3 "$d/stdout.log" | tr '\n' ' ')"
      return 1
    fi
    sleep 0.1
  done
  AIRLOCK_ERR="no 'proxy listening on 127.0.0.1:$AIRLOCK_PORT' (and $AIRLOCK_CA) within 10 s"
  return 1
}

versions() { # one "name=version" per line, for the peers
  echo "nginx=$(nginx -v 2>&1 | sed 's|.*nginx/||')"
  echo "squid=$(squid -v | sed -n 's/.*Version //p' | head -n1)"
  echo "haproxy=$(haproxy -v | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p')"
  echo "tinyproxy=$(tinyproxy -v 2>&1 | sed -n 's/^tinyproxy //p' | head -n1)"
  echo "wrk=$(wrk -v 2>&1 | sed -n 's/^wrk \([^ ]*\).*/\1/p')"
  mitm_versions
}

airlock_version() { # after start_airlock: the binary that was actually measured
  if [ -x "$AIRLOCK_BIN" ]; then
    timeout 5 "$AIRLOCK_BIN" --version 2>/dev/null | head -n1 | sed 's/^airlock //' || true
  else
    echo "not built"
  fi
}

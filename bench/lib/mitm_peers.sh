# shellcheck shell=bash disable=SC2034,SC2153  # sets and reads variables shared with run.sh
# The TLS-interception side of the bench: the bench PKI, and the MITM peers (mitmdump,
# Squid with ssl-bump). Sourced after peers.sh, whose spawn/wait_port/free_port it uses.
# Needs: BENCH_TMP, BENCH_KEY (the credential every intercepting proxy must inject),
# NGINX_TLS_PORT (set by start_nginx) for the peers.
#
# Names: the upstream is "bench.test" (throughput, idle) and h1..hN.bench.test (new-host
# latency), all served by nginx's TLS port. No resolver knows them, so each proxy is told
# the address its own way: airlock by resolve: entries, Squid by a hosts_file, mitmdump
# by its addon. Clients always CONNECT NAME:PORT with the port of the upstream meant
# (NGINX_TLS_PORT, or SSE_TLS_PORT for scenario 7), so nothing remaps ports.

BENCH_HOST=bench.test

# make_bench_pki: a bench CA and an ECDSA P-256 server certificate for bench.test,
# *.bench.test and 127.0.0.1 (so direct TLS can use the address). Files in BENCH_PKI.
make_bench_pki() {
  BENCH_PKI=$BENCH_TMP/pki
  mkdir -p "$BENCH_PKI"
  local d=$BENCH_PKI
  openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$d/ca.key" -sha256 -days 2 -subj "/CN=airlock bench CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$d/ca.pem" 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out "$d/upstream.key" 2>/dev/null
  openssl req -new -key "$d/upstream.key" -subj "/CN=$BENCH_HOST" -out "$d/upstream.csr" \
    2>/dev/null
  cat >"$d/upstream.ext" <<EXT
subjectAltName=DNS:$BENCH_HOST,DNS:*.$BENCH_HOST,IP:127.0.0.1
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
EXT
  openssl x509 -req -in "$d/upstream.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -CAcreateserial -days 2 -sha256 -extfile "$d/upstream.ext" -out "$d/upstream.pem" \
    2>/dev/null
  # Squid, when run as root, reads the CA as user proxy
  chmod 644 "$d"/*.pem && chmod 755 "$d"
}

# new_host_names N: h1.bench.test .. hN.bench.test, one per line
new_host_names() {
  local i
  for i in $(seq "$1"); do echo "h$i.$BENCH_HOST"; done
}

# --- mitmdump: mitmproxy's CLI, one Python process. The addon sets the credential header
# (the one line that is the peer's "injection"), points *.bench.test at 127.0.0.1 (same
# port: nginx, or the SSE upstream) and streams text/event-stream responses. ------------
start_mitmdump() {
  local d=$BENCH_TMP/mitmdump
  mkdir -p "$d"
  MITMDUMP_PORT=$(free_port)
  cat >"$d/addon.py" <<'PY'
import os

KEY = os.environ["BENCH_KEY"]


def server_connect(data):  # no resolver knows *.bench.test; the SNI stays the name
    if data.server.address and data.server.address[0].endswith("bench.test"):
        data.server.address = ("127.0.0.1", data.server.address[1])


def request(flow):
    flow.request.headers["x-api-key"] = KEY


def responseheaders(flow):  # mitmproxy buffers whole bodies, which swallows SSE (its own
    # warning's workaround, mitmproxy issue 4469): stream event streams as they arrive
    if flow.response.headers.get("content-type", "").startswith("text/event-stream"):
        flow.response.stream = True
PY
  # confdir: its CA is generated here, not in ~/.mitmproxy
  spawn "$d/stdout.log" env BENCH_KEY="$BENCH_KEY" \
    mitmdump --listen-host 127.0.0.1 --listen-port "$MITMDUMP_PORT" -q \
    --set confdir="$d/conf" --set ssl_verify_upstream_trusted_ca="$BENCH_PKI/ca.pem" \
    -s "$d/addon.py"
  MITMDUMP_PID=$SPAWNED_PID
  MITMDUMP_CA=$d/conf/mitmproxy-ca-cert.pem
  wait_port "$MITMDUMP_PORT" "$MITMDUMP_PID" 30 && [ -s "$MITMDUMP_CA" ]
}

# --- Squid with ssl-bump: the like-for-like intercepting forward proxy. Client-first
# bumping (bump at step 1: the leaf is minted for the CONNECT name, as airlock does),
# certificates minted by the security_file_certgen helper, upstream verified against the
# bench CA, the client's x-api-key removed and the credential added. Same no-cache,
# no-log, one-process set-up as the plain squid scenario. -------------------------------
start_squid_bump() {
  local d=$BENCH_TMP/squid-bump
  mkdir -p "$d"
  SQUID_BUMP_PORT=$(free_port)
  openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$d/ca.key" -sha256 -days 2 -subj "/CN=squid bench CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$d/ca.pem" 2>/dev/null
  SQUID_BUMP_CA=$d/ca.pem
  {
    echo "127.0.0.1 $BENCH_HOST"
    new_host_names "$NEW_HOST_NAMES" | sed 's/^/127.0.0.1 /'
  } >"$d/hosts"
  /usr/lib/squid/security_file_certgen -c -s "$d/ssl_db" -M 4MB >"$d/certgen-init.log" 2>&1 ||
    return 1
  local user_line=""
  if [ "$(id -u)" -eq 0 ]; then # squid and its helper run as this user
    user_line="cache_effective_user proxy"
    chown -R proxy "$d" && chmod 755 "$BENCH_TMP"
  fi
  cat >"$d/squid.conf" <<CONF
http_port 127.0.0.1:$SQUID_BUMP_PORT ssl-bump tls-cert=$d/ca.pem tls-key=$d/ca.key generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s $d/ssl_db -M 4MB
sslcrtd_children 1 startup=1 idle=1
ssl_bump bump all
tls_outgoing_options cafile=$BENCH_PKI/ca.pem
hosts_file $d/hosts
$user_line
acl bench_client src 127.0.0.1/32
http_access allow bench_client
http_access deny all
request_header_access X-Api-Key deny all
request_header_add X-Api-Key "$BENCH_KEY" all
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
  SQUID_BUMP_PID=$SPAWNED_PID
  wait_port "$SQUID_BUMP_PORT" "$SQUID_BUMP_PID" 20
}

mitm_versions() { # one "name=version" per line
  echo "mitmdump=$(mitmdump --version 2>/dev/null | sed -n 's/^Mitmproxy: //p' | head -n1)"
  echo "hey=$(dpkg-query -W -f='${Version}' hey 2>/dev/null || echo unknown)"
  echo "openssl=$(openssl version | cut -d' ' -f2)"
}

# shellcheck shell=bash disable=SC2034,SC2153,SC2154  # variables and arrays shared with run.sh
# Response scrubbing (issue 18) in the bench: the same airlock, the same rules, once with
# scrubbing on (the default) and once with "scrub: false", side by side in one run.
# Sourced after peers.sh and mitm_peers.sh; needs BENCH_TMP, BENCH_HOST, BENCH_KEY, BENCH_PKI.
#
# Every upstream airlock intercepts for these scenarios is named by four rules, so its
# answers are scanned for four secrets (the issue's "four secrets configured"): the
# x-api-key nginx checks (BENCH_KEY, 32 hex digits) and three that the rules' paths keep
# from ever being injected (an sk-ant- key, a ghp_ token, a basic_auth user:password). A
# scrubbing rule's scope is its host:port, not its paths, so all four are scanned for.
# The "scrub: false" twins are the same rules on a second port of the same server
# (NGINX_NOSCRUB_PORT, SSE_NOSCRUB_PORT): airlock then relays as it did before issue 18.
#
# Scenarios (PID is airlock's):
#   mitm-keepalive: airlock-mitm-noscrub (/small through the scrub: false port) and
#                   airlock-mitm-echo (/echo: a 100 B body holding the key, so every
#                   response has an occurrence to mask), beside airlock-mitm (scrubbing on)
#   sse:            airlock-mitm-noscrub beside airlock-mitm
#   scrub-bulk:     SCRUB_BULK_MIB MiB of text over TLS from nginx: tls-direct (no proxy),
#                   airlock-mitm-noscrub, airlock-mitm, and airlock-mitm-gzip (the upstream
#                   sends SCRUB_GZIP_MIB MiB gzip-coded anyway; airlock decodes and scans)

SCRUB_MITM_ACTIVE=() SCRUB_BULK_ACTIVE=()
declare -A SCRUB_BULK_ARGS SCRUB_BULK_PATH

scrub_token() { # scrub_token PREFIX N: PREFIX and N random letters and digits
  local t=""
  while [ ${#t} -lt "$2" ]; do t+=$(openssl rand -base64 48 | tr -dc 'A-Za-z0-9'); done
  echo "$1${t:0:$2}"
}

# scrub_keys: the three extra secrets (never sent anywhere; only scanned for)
scrub_keys() {
  BENCH_KEY2=$(scrub_token sk-ant-api03- 40)
  BENCH_KEY3=$(scrub_token ghp_ 36)
  BENCH_KEY4=$(scrub_token "" 24)
}

scrub_secrets_yaml() {
  echo "  benchkey2: { env: BENCH_KEY2 }"
  echo "  benchkey3: { env: BENCH_KEY3 }"
  echo "  benchkey4: { env: BENCH_KEY4 }"
}

# scrub_rules HOST PORT [off]: the four rules naming HOST:PORT (scrub: false with "off")
scrub_rules() {
  local h=$1 p=$2 s=""
  [ "${3:-}" = off ] && s=", scrub: false"
  echo "  - { host: \"$h\", port: $p, headers: { x-api-key: \"{{benchkey}}\" }$s }"
  scrub_rule "$h" "$p" bearer "headers: { authorization: \"Bearer {{benchkey2}}\" }$s"
  scrub_rule "$h" "$p" token "headers: { x-token: \"{{benchkey3}}\" }$s"
  scrub_rule "$h" "$p" basic \
    "basic_auth: { username: bench-user, password: \"{{benchkey4}}\" }$s"
}

# scrub_rule HOST PORT WHAT ACTION: a rule whose path no bench request takes, so its secret
# is scanned for (scope is host:port) but never injected
scrub_rule() {
  echo "  - { name: \"bench-$3:$2\", host: \"$1\", port: $2, paths: [/never/$3/], $4 }"
}

# scrub_files WWW: nginx's /echo (100 B holding the key) and, for scrub-bulk, the bodies
# (before start_nginx, which serves WWW)
scrub_files() {
  local www=$1 head="{\"echo\": {\"x-api-key\": \"$BENCH_KEY\"}, \"pad\": \""
  mkdir -p "$www/scrub"
  { printf '%s' "$head" && head -c $((100 - ${#head} - 4)) /dev/zero | tr '\0' 'e' &&
    printf '"}}\n'; } >"$www/echo"
  want scrub-bulk || return 0
  python3 "$BENCH_LIB/scrub_body.py" --out "$www/scrub/bulk" --mib "$SCRUB_BULK_MIB"
  python3 "$BENCH_LIB/scrub_body.py" --out "$www/scrub/gz.gz" --mib "$SCRUB_GZIP_MIB" --gzip
}

# scrub_nginx_locations: for NGINX_TLS_EXTRA, inside nginx's TLS server (both its ports).
# The key is checked as for /small, so a proxy that does not inject fails. /scrub/gz is
# sent gzip-coded whatever the request accepts (airlock asks scrubbed hosts for identity;
# this upstream ignores it).
scrub_nginx_locations() {
  cat <<CONF
    location = /echo { if (\$http_x_api_key != "$BENCH_KEY") { return 403; } }
    location /scrub/ { if (\$http_x_api_key != "$BENCH_KEY") { return 403; } }
    location = /scrub/gz {
      gzip_static always;
      default_type text/plain;
      if (\$http_x_api_key != "$BENCH_KEY") { return 403; }
    }
CONF
}

# scrub_check SCENARIO masked|clear CURL-ARGS...: /echo must come back 200, 100 bytes,
# with the key masked (scrubbing on) or as sent (scrub: false): the two scenarios are what
# they claim to be
scrub_check() {
  local name=$1 want_key=$2 body code
  shift 2
  body=$(curl -s --max-time 5 -w '\n%{http_code} %{size_download}' "$@" || true)
  code=${body##*$'\n'}
  body=${body%$'\n'*}
  if [ "$code" != "200 100" ]; then
    fail "$name" "/echo got '${code:-no response}' instead of '200 100'"
    return 1
  fi
  if [ "$want_key" = masked ] && [[ "$body" == *"$BENCH_KEY"* || "$body" != *'****'* ]]; then
    fail "$name" "/echo came back with the key not masked"
    return 1
  fi
  if [ "$want_key" = clear ] && [[ "$body" != *"$BENCH_KEY"* ]]; then
    fail "$name" "/echo came back changed although its rule says scrub: false"
    return 1
  fi
}

# add_scrub PID PROXY-PORT CA: after airlock-mitm's own registration, its scrubbing twins
add_scrub() {
  local pid=$1 px=(-x "http://127.0.0.1:$2" --cacert "$3" -H x-api-key:placeholder)
  local on=https://$BENCH_HOST:$NGINX_TLS_PORT off=https://$BENCH_HOST:$NGINX_NOSCRUB_PORT
  local hargs="-x http://127.0.0.1:$2 -H x-api-key:placeholder"
  if scrub_check airlock-mitm-noscrub clear "${px[@]}" "$off/echo" &&
    preflight airlock-mitm-noscrub "${px[@]}" "$off/small"; then
    HURL[airlock-mitm-noscrub]=$off/small HARGS[airlock-mitm-noscrub]=$hargs
    PID[airlock-mitm-noscrub]=$pid
    want mitm && SCRUB_MITM_ACTIVE+=(airlock-mitm-noscrub)
    add_sse airlock-mitm-noscrub "$pid" --url "https://$BENCH_HOST:$SSE_NOSCRUB_PORT/sse" \
      --proxy "127.0.0.1:$2" --cafile "$3" --header x-api-key:placeholder
  fi
  if want mitm && scrub_check airlock-mitm-echo masked "${px[@]}" "$on/echo"; then
    HURL[airlock-mitm-echo]=$on/echo HARGS[airlock-mitm-echo]=$hargs
    PID[airlock-mitm-echo]=$pid
    SCRUB_MITM_ACTIVE+=(airlock-mitm-echo)
  fi
  want scrub-bulk || return 0
  scrub_bulk_add airlock-mitm-noscrub "$pid" "$off/scrub/bulk" "${px[@]}"
  scrub_bulk_add airlock-mitm "$pid" "$on/scrub/bulk" "${px[@]}"
  scrub_bulk_add airlock-mitm-gzip "$pid" "$on/scrub/gz" "${px[@]}"
}

# scrub_bulk_add SCENARIO PID URL CURL-ARGS...: registers a download after a HEAD preflight
# (a GET would fetch it all: airlock drops Range on requests to scrubbed hosts). The
# arguments are kept as one string split on spaces, so none may contain a space.
scrub_bulk_add() {
  local name=$1 pid=$2 url=$3 out
  shift 3
  out=$(curl -s -I --max-time 5 -o /dev/null -w '%{http_code}' "$@" "$url" || true)
  if [ "$out" != 200 ]; then
    fail "$name-scrub-bulk" "HEAD $url got '${out:-no response}'"
    return 0
  fi
  PID[scrub-bulk:$name]=$pid SCRUB_BULK_PATH[$name]=$url SCRUB_BULK_ARGS[$name]="$*"
  SCRUB_BULK_ACTIVE+=("$name")
}

# scrub_bulk_once SCENARIO: one download to /dev/null; prints "http_code bytes seconds
# cpu_ticks" (the scenario process's CPU: nginx for tls-direct, else airlock)
scrub_bulk_once() {
  local pid=${PID[scrub-bulk:$1]} before out args
  read -ra args <<<"${SCRUB_BULK_ARGS[$1]}"
  before=$(cpu_ticks "$pid")
  out=$(timeout 130 curl -s --max-time 120 -o /dev/null \
    -w '%{http_code} %{size_download} %{time_total}' "${args[@]}" "${SCRUB_BULK_PATH[$1]}" ||
    true)
  echo "${out:-000 0 0} $(($(cpu_ticks "$pid") - before))"
}

# scrub_bulk_rounds: RUNS interleaved rounds, one download at a time, the ceiling first
scrub_bulk_rounds() {
  local r name out names
  names=("${SCRUB_BULK_ACTIVE[@]}")
  SCRUB_BULK_ACTIVE=()
  scrub_bulk_add tls-direct "$NGINX_PID" "https://127.0.0.1:$NGINX_TLS_PORT/scrub/bulk" \
    --cacert "$BENCH_PKI/ca.pem" -H "x-api-key:$BENCH_KEY"
  SCRUB_BULK_ACTIVE+=("${names[@]}")
  for r in $(seq "$RUNS"); do
    for name in "${SCRUB_BULK_ACTIVE[@]}"; do
      out=$(scrub_bulk_once "$name")
      say "$name scrub-bulk run $r/$RUNS: code bytes seconds cpu_ticks = $out"
      printf '%s\t%s\t%s\n' "$name" "$r" "$(echo "$out" | tr ' ' '\t')" \
        >>"$BENCH_TMP/scrub_bulk.tsv"
    done
  done
}

# mitm_keepalive_names: the keep-alive rounds' scenarios, the scrubbing twins right after
# airlock-mitm so that drift in the machine's load lands on the three alike
mitm_keepalive_names() {
  local name
  for name in "${MITM_ACTIVE[@]}"; do
    echo "$name"
    if [ "$name" = airlock-mitm ] && [ ${#SCRUB_MITM_ACTIVE[@]} -gt 0 ]; then
      printf '%s\n' "${SCRUB_MITM_ACTIVE[@]}"
    fi
  done
}

#!/usr/bin/env bash
# A name server that never answers, in a network namespace of our own (ip netns exec binds
# /etc/netns/NAME/resolv.conf over /etc/resolv.conf there): airlock must answer a request
# for an unresolvable-in-time name with 504 dns_timeout at its connect deadline, not when
# the C library gives up, and a stalled lookup must not hold back other requests (IP
# literals, resolve: overrides, other names) on the same worker.
# usage: tests/faults/dns_stall.sh   (root; skips otherwise). AIRLOCK_BIN overrides the binary.
# Ends with 'N passed, N failed'; exits 1 on any failure. Loopback inside the namespace only.
set -uo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${AIRLOCK_BIN:-$root/build/bin/airlock}"
passed=0
failed=0
ns="al-dns-$$"
tmp="$(mktemp -d)"
pids=()
retried=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$ns" 2>/dev/null
  rm -rf "/etc/netns/$ns" "$tmp"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

if [ "$(id -u)" -ne 0 ] || ! ip netns add "$ns" 2>/dev/null; then
  echo "skipped: needs root and network namespaces"
  echo "dns_stall: 0 passed, 0 failed"
  exit 0
fi
in_ns=(ip netns exec "$ns")
"${in_ns[@]}" ip link set lo up
mkdir -p "/etc/netns/$ns"
# One try, three seconds: the C library alone would answer after 3 s (6 s with A and AAAA
# one after the other); airlock must answer at its own 1 s connect deadline.
printf 'nameserver 127.0.0.1\noptions timeout:3 attempts:1\n' >"/etc/netns/$ns/resolv.conf"
# A name the C library answers from the hosts file, without the name server.
printf '127.0.0.1 localhost good.test\n' >"/etc/netns/$ns/hosts"

# The name server that reads every query and never answers (UDP and TCP), 60 s at most.
"${in_ns[@]}" timeout 60 python3 -c '
import socket, threading
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 53))
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 53)); t.listen(64)
held = []
def tcp():
    while True:
        held.append(t.accept()[0])
threading.Thread(target=tcp, daemon=True).start()
while True:
    u.recvfrom(4096)
' >"$tmp/dns.log" 2>&1 &
pids+=($!)

mkdir -p "$tmp/www"
echo upstream-ok >"$tmp/www/ok"
"${in_ns[@]}" timeout 60 python3 -m http.server --bind 127.0.0.1 18080 --directory "$tmp/www" \
  >"$tmp/upstream.log" 2>&1 &
pids+=($!)

cat >"$tmp/airlock.yaml" <<EOF
proxy: { listen: "127.0.0.1:13128", workers: 1, timeouts: { connect: 1s } }
admin: { socket: "$tmp/admin/admin.sock" }
metrics: { listen: "127.0.0.1:19464" }
egress: { allow_private: ["127.0.0.0/8"] }
resolve: { "pinned.test:18080": "127.0.0.1:18080" }
tls: { ca: { export_dir: "$tmp/ca" } }
log: { level: warn, format: text }
EOF
"${in_ns[@]}" timeout 60 "$bin" --config "$tmp/airlock.yaml" >"$tmp/airlock.log" 2>&1 &
pids+=($!)

proxy=(-x http://127.0.0.1:13128)
# Up when the upstream answers through airlock and the name server holds port 53.
for _ in $(seq 50); do
  "${in_ns[@]}" curl -sf -o /dev/null --max-time 1 "${proxy[@]}" http://127.0.0.1:18080/ok &&
    "${in_ns[@]}" ss -lun | grep -q '127.0.0.1:53 ' && break
  sleep 0.2
done

# request URL -> "STATUS SECONDS REASON-HEADER"
request() {
  "${in_ns[@]}" curl -s -o /dev/null -D "$tmp/h.$$.$RANDOM" --max-time 15 "${proxy[@]}" \
    -w '%{http_code} %{time_total}' "$1" 2>/dev/null
}

# Twelve lookups that will never be answered, in flight at once.
for i in $(seq 12); do
  ( request "http://stall-$i.test/" >"$tmp/stall-$i" ) &
  pids+=($!)
done
sleep 0.3
# expect WHAT "STATUS SECONDS" CODE MAX-SECONDS: passes when the answer had CODE in time.
expect() {
  local code t
  read -r code t <<<"$2"
  if [ "$code" = "$3" ] && awk -v t="$t" -v max="$4" 'BEGIN { exit !(t < max) }'; then
    ok "$1: $code in $t s"
  else
    bad "$1: $code in $t s (want $3 within $4 s)"
  fi
}

# And an agent retrying one host whose name server is down: twenty asks for one stalled
# name share one lookup: with the twelve above, thirteen stalled lookups, more than the
# four threads the pool starts with (it grows while all are busy).
for i in $(seq 20); do
  ( request "http://retried.test/" >"$tmp/retried-$i" ) &
  retried+=($!)
done
sleep 0.3
# Meanwhile: an IP literal, a resolve: override, a name from the hosts file.
expect "an IP literal while 13 lookups stall" "$(request http://127.0.0.1:18080/ok)" 200 0.5
expect "a resolve: override while 13 lookups stall" "$(request http://pinned.test:18080/ok)" 200 0.5
expect "another name, looked up while 32 asks for 13 names stall (none holds the others back)" \
  "$(request http://good.test:18080/ok)" 200 0.5
for i in $(seq 12); do
  wait "${pids[$((2 + i))]}" 2>/dev/null
  expect "stalled lookup $i, answered at the 1 s connect deadline" "$(cat "$tmp/stall-$i")" 504 2.0
done
late=0
for i in $(seq 20); do
  wait "${retried[$((i - 1))]}" 2>/dev/null
  read -r code t <"$tmp/retried-$i"
  if [ "$code" != 504 ] || ! awk -v t="$t" 'BEGIN { exit !(t < 2.0) }'; then
    late=$((late + 1))
  fi
done
if [ "$late" -eq 0 ]; then
  ok "twenty asks for one stalled name, each answered 504 at its own deadline"
else
  bad "$late of twenty asks for one stalled name not answered 504 within 2 s"
fi
if grep -qi "dns_timeout" "$tmp"/h.* 2>/dev/null; then
  ok "the answer names the reason (dns_timeout)"
else
  bad "no dns_timeout in the answers' headers"
fi
# The worker is not wedged afterwards: a new stalled name is still answered on time.
expect "a later stalled lookup" "$(request http://stall-after.test/)" 504 2.0

echo "dns_stall: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

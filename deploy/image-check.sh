#!/usr/bin/env bash
# deploy/image-check.sh: builds deploy/Dockerfile with Debian's podman (no Docker engine, no
# registry) and runs the images the way the README deploys them.
#   base      a debian:bookworm-slim stand-in made with debootstrap --variant=minbase from the
#             machine's Debian mirror, cached as a tarball in $AIRLOCK_IMAGE_CACHE
#             (/var/tmp/airlock-image-check) and imported as localhost/debian:bookworm-slim-local
#   build     the runtime image and --target egress-init, with the build duration and size
#   image     user, healthcheck, stop signal, volume, ports; no setuid/setgid file; the binary's
#             libraries resolve; egress-init locks a container's netns with NET_ADMIN only
#   run       the default config, hardened (--read-only, --cap-drop ALL, no-new-privileges,
#             UID 65532, memlock) on published loopback ports: /healthz, /readyz, `podman
#             healthcheck run`, read-only root, a loopback target refused, SIGTERM exits 0
#   proxy     --network host with a config on free loopback ports: a required secret, the CA
#             files in a fresh named volume on /run/airlock, a plain GET and an intercepted
#             HTTPS request (credential injected, client trusting the exported ca.pem) to
#             upstreams on 127.0.0.1 only, SIGTERM exits 0, the secret never logged
#   compose   deploy/compose/docker-compose.yaml with podman-compose, when installed
# usage: deploy/image-check.sh   (root; skips with a note when podman or root is missing)
# Ends with 'N passed, N failed'; exits 1 on any failure. Bounded: every wait has a deadline.
# Leaves nothing behind but the cached tarball: containers, images, volumes and the podman
# storage live in a temp dir that the exit trap removes.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cache="${AIRLOCK_IMAGE_CACHE:-/var/tmp/airlock-image-check}"
build_timeout="${AIRLOCK_IMAGE_BUILD_TIMEOUT:-1800}" # seconds for the runtime image build
passed=0
failed=0
skipped=()
tmp=""
pids=()
ulimits=()
base=localhost/debian:bookworm-slim-local
img=localhost/airlock:image-check
init_img=localhost/airlock-egress-init:image-check

have() { command -v "$1" >/dev/null 2>&1; }
# finish: the summary; the caller exits with its status (finish; exit).
finish() {
  for s in "${skipped[@]}"; do echo "skipped: $s"; done
  echo "image: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

if ! have podman; then
  skipped+=("everything: podman is not installed (deploy/install-deps.sh image)")
  finish; exit
fi
if [ "$(id -u)" -ne 0 ]; then
  skipped+=("everything: needs root (rootful podman, debootstrap)")
  finish; exit
fi

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "$tmp" ] && [ -d "$tmp" ]; then
    if [ -f "$tmp/engine/storage.conf" ]; then
      timeout 60 podman rm -af -t 5 >/dev/null 2>&1
      timeout 60 podman volume rm -af >/dev/null 2>&1
      timeout 60 podman rmi -af >/dev/null 2>&1
      timeout 60 podman network prune -f >/dev/null 2>&1
    fi
    # Whatever overlay or tmpfs mounts are left under the storage: unmount before deleting.
    awk -v t="$tmp/" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null
    done
    rm -rf --one-file-system "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM # so the EXIT trap cleans up after a signal too

ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
expect() { # expect DESCRIPTION COMMAND...: passes when COMMAND exits 0
  local what="$1"
  shift
  if "$@" >"$tmp/last.out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' "$tmp/last.out" | tail -8; fi
}
expect_not() { # expect_not DESCRIPTION COMMAND...: passes when COMMAND exits non-zero
  local what="$1"
  shift
  if "$@" >"$tmp/last.out" 2>&1; then bad "$what"; sed 's/^/     /' "$tmp/last.out" | tail -8; else ok "$what"; fi
}
# wait_for SECONDS COMMAND...: retries COMMAND every 0.5 s until it succeeds or time runs out.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.5
  done
}
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$1$2"; }
status_is() { [ "$(http_status "$1" "$2")" = "$3" ]; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# exit_code_is CONTAINER CODE: the container has stopped with CODE.
exit_code_is() { [ "$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$1")" = "exited $2" ]; }
# stop_exits_0 CONTAINER: podman stop (SIGTERM, 45 s grace like compose's stop_grace_period).
stop_exits_0() { timeout 60 podman stop -t 45 "$1" >/dev/null && exit_code_is "$1" 0; }

for t in curl python3 openssl timeout; do
  if ! have "$t"; then
    skipped+=("everything: $t is missing (deploy/install-deps.sh test)")
    finish; exit
  fi
done
mkdir -p "$cache"
tmp="$(mktemp -d /var/tmp/airlock-image-check.XXXXXX)"
chmod 755 "$tmp"

# ---- engine: podman with its storage and settings in $tmp, nothing in /etc/containers touched.
engine_setup() {
  echo "== engine"
  mkdir -p "$tmp/engine"
  local driver=overlay runtime="" nofile nproc
  # crun (podman's default here) refuses hybrid cgroups (v1 plus a cgroup2 mount that holds
  # controllers), which some VMs and CI sandboxes have; runc runs there.
  runtime="${AIRLOCK_OCI_RUNTIME:-}"
  if [ -z "$runtime" ]; then
    runtime=crun
    if grep -q . /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || ! have crun; then runtime=runc; fi
  fi
  if ! have "$runtime"; then
    bad "OCI runtime $runtime is missing (apt-get install $runtime)"
    finish; exit
  fi
  # Rootful podman gives every container 1048576 open files and 4194304 processes unless told
  # otherwise; where the hard limits are lower and CAP_SYS_RESOURCE is missing (sandboxes),
  # every container fails ("setrlimit ... operation not permitted"). An explicit --ulimit
  # replaces these defaults, so every --ulimit below comes with "${ulimits[@]}".
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ] && nofile=1048576
  nproc=$(ulimit -Hu)
  [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || driver=vfs
  grep -qw overlay /proc/filesystems || driver=vfs
  write_engine_conf() {
    cat >"$tmp/engine/storage.conf" <<EOF
[storage]
driver = "$1"
graphroot = "$tmp/engine/root"
runroot = "$tmp/engine/run"
EOF
  }
  cat >"$tmp/engine/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "$runtime"
cgroup_manager = "cgroupfs"
events_logger = "file"
volume_path = "$tmp/engine/volumes"
EOF
  ulimits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
  write_engine_conf "$driver"
  export CONTAINERS_CONF="$tmp/engine/containers.conf" CONTAINERS_STORAGE_CONF="$tmp/engine/storage.conf"
  mkdir -p "$tmp/engine/tmp"
  export TMPDIR="$tmp/engine/tmp" # buildah's per-RUN bundles, removed with the rest
  if [ "$driver" = overlay ] && ! timeout 60 podman info >"$tmp/engine/info.out" 2>&1; then
    driver=vfs
    write_engine_conf vfs
  fi
  expect "podman info (storage $driver, runtime $runtime, cgroupfs, nofile $nofile, nproc $nproc)" \
    timeout 60 podman info
  [ "$failed" -eq 0 ] || { finish; exit; }
}

# ---- base: debian:bookworm-slim cannot be pulled; debootstrap the same suite from the mirror.
mirror_of() { # mirror_of security|main: the machine's Debian mirror URI for that archive
  local want="$1" f u
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    while read -r u; do
      case "$want:$u" in
        security:*/debian-security | security:*/debian-security/) echo "${u%/}" && return ;;
        main:*/debian-security*) ;;
        main:*/debian | main:*/debian/) echo "${u%/}" && return ;;
      esac
    done < <(awk '/^deb / {sub(/\[[^]]*\] */, ""); print $2} /^URIs:/ {for (i = 2; i <= NF; i++) print $i}' "$f")
  done
  case "$want" in
    security) echo http://deb.debian.org/debian-security ;;
    *) echo http://deb.debian.org/debian ;;
  esac
}

base_image() {
  echo "== base"
  local main security key tarball r s
  main=$(mirror_of main)
  security=$(mirror_of security)
  key=$(printf '%s %s' "$main" "$security" | sha256sum | cut -c1-12)
  tarball="$cache/bookworm-minbase-$key.tar"
  if [ -s "$tarball" ]; then
    ok "base tarball cached: $tarball ($main)"
  else
    if ! have debootstrap; then
      bad "debootstrap is missing (deploy/install-deps.sh image)"
      finish; exit
    fi
    r="$tmp/rootfs"
    s=$SECONDS
    if timeout 900 debootstrap --variant=minbase bookworm "$r" "$main" >"$tmp/debootstrap.log" 2>&1; then
      ok "debootstrap --variant=minbase bookworm from $main ($((SECONDS - s)) s)"
    else
      bad "debootstrap --variant=minbase bookworm from $main"
      tail -8 "$tmp/debootstrap.log" | sed 's/^/     /'
      finish; exit
    fi
    # What the official slim image is: the same sources, no docs/man/locales, no apt caches.
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
      "$main" "$main" "$security" >"$r/etc/apt/sources.list"
    cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
    rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* "$r"/usr/share/man/* \
      "$r"/usr/share/info/* "$r"/usr/share/groff/*
    find "$r/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
    find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    : >"$r/etc/hostname"
    expect "base tarball written to $tarball" bash -c \
      "tar --numeric-owner -C '$r' -cf '$tarball.part' . && mv '$tarball.part' '$tarball'"
    rm -rf --one-file-system "$r"
  fi
  expect "podman import as $base" timeout 300 podman import --change 'CMD ["bash"]' "$tarball" "$base"
  expect "base image runs a container" timeout 60 podman run --rm "$base" true
  [ "$failed" -eq 0 ] || { finish; exit; }
}

# ---- build: both targets, as the README builds them.
build_images() {
  echo "== build"
  local s=$SECONDS rc=0
  if timeout "$build_timeout" podman build --format docker -f "$root/deploy/Dockerfile" --build-arg "DEBIAN_IMAGE=$base" \
    -t "$img" "$root" >"$tmp/build.log" 2>&1; then
    ok "podman build runtime image ($((SECONDS - s)) s)"
  else
    rc=$?
    bad "podman build runtime image (exit $rc after $((SECONDS - s)) s; 124: AIRLOCK_IMAGE_BUILD_TIMEOUT=$build_timeout hit)"
    tail -25 "$tmp/build.log" | sed 's/^/     /'
    finish; exit
  fi
  s=$SECONDS
  expect "podman build --target egress-init" timeout 900 podman build --format docker -f "$root/deploy/Dockerfile" \
    --build-arg "DEBIAN_IMAGE=$base" --target egress-init -t "$init_img" "$root"
  echo "     egress-init: $((SECONDS - s)) s"
}

image_checks() {
  echo "== image"
  local size bsize
  size=$(podman image inspect --format '{{.Size}}' "$img")
  bsize=$(podman image inspect --format '{{.Size}}' "$base")
  echo "     runtime image $((size / 1000000)) MB (base $((bsize / 1000000)) MB, airlock adds $(((size - bsize) / 1000000)) MB)"
  echo "     egress-init image $(($(podman image inspect --format '{{.Size}}' "$init_img") / 1000000)) MB"
  expect "runtime image under 150 MB" test "$size" -lt 150000000
  expect "image user is 65532:65532" test "$(podman image inspect --format '{{.Config.User}}' "$img")" = 65532:65532
  expect "image stop signal is SIGTERM" test "$(podman image inspect --format '{{.Config.StopSignal}}' "$img")" = SIGTERM
  expect "image declares the /run/airlock and /run/airlock-admin volumes" bash -c \
    "v=\$(podman image inspect --format '{{json .Config.Volumes}}' '$img') \
    && [[ \$v == *'\"/run/airlock\"'* && \$v == *'\"/run/airlock-admin\"'* ]]"
  expect "image exposes 3128 and 9464, no admin port" bash -c "p=\$(podman image inspect --format '{{json .Config.ExposedPorts}}' '$img') \
    && [[ \$p == *3128/tcp* && \$p == *9464/tcp* && \$p != *9901/tcp* ]]"
  expect "image healthcheck runs airlock-healthcheck /healthz" bash -c \
    "podman image inspect --format '{{json .HealthCheck}}' '$img' | grep -q 'airlock-healthcheck\",\"/healthz'"
  local i
  for i in "$img" "$init_img"; do
    expect "no setuid/setgid file in ${i##*/} (find / -xdev -perm /6000)" bash -c \
      "out=\$(timeout 120 podman run --rm --user 0 --entrypoint /usr/bin/find '$i' / -xdev -perm /6000 -type f) && echo \"\$out\" && [ -z \"\$out\" ]"
  done
  expect "every library of /usr/local/bin/airlock resolves" bash -c \
    "out=\$(timeout 60 podman run --rm --entrypoint /usr/bin/ldd '$img' /usr/local/bin/airlock) && echo \"\$out\" && ! grep -q 'not found' <<<\"\$out\""
  expect "airlock --version in the image" timeout 60 podman run --rm --read-only "$img" --version
  expect "/etc/airlock/airlock.yaml passes --check-config" \
    timeout 60 podman run --rm --read-only "$img" --check-config /etc/airlock/airlock.yaml
  # The init container: root with NET_ADMIN alone, in the container's own network namespace.
  # shellcheck disable=SC2016 # expanded by the shell in the container
  expect "egress-init: airlock-egress-lock with NET_ADMIN only, twice (idempotent)" \
    timeout 120 podman run --rm --cap-drop ALL --cap-add NET_ADMIN --entrypoint /bin/bash "$init_img" -c \
    'airlock-egress-lock && airlock-egress-lock && [ "$(iptables -S OUTPUT | grep -c AIRLOCK_EGRESS)" = 1 ] && iptables -S AIRLOCK_EGRESS | grep -q "uid-owner 65532"'
}

# ---- run: the image's own config, hardened as in the README, ports published to loopback.
run_checks() {
  echo "== run (the default config, hardened, -p 127.0.0.1)"
  local c="al-default-$$" pp mp
  pp=$(free_port) mp=$(free_port)
  if ! timeout 120 podman run -d --name "$c" --read-only --tmpfs /tmp --cap-drop ALL \
    --security-opt no-new-privileges --user 65532:65532 --ulimit memlock=8388608:8388608 "${ulimits[@]}" \
    -p "127.0.0.1:$pp:3128" -p "127.0.0.1:$mp:9464" "$img" >"$tmp/last.out" 2>&1; then
    bad "podman run -d (hardened)"
    tail -8 "$tmp/last.out" | sed 's/^/     /'
    return
  fi
  ok "podman run -d --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges --user 65532:65532"
  expect "/healthz 200 on the published metrics port within 20 s" wait_for 20 status_is "$mp" /healthz 200
  expect "/readyz 200 (the default config requires no secret)" status_is "$mp" /readyz 200
  expect "podman healthcheck run: healthy" timeout 30 podman healthcheck run "$c"
  expect "id inside is 65532:65532" test "$(timeout 30 podman exec "$c" id -u):$(timeout 30 podman exec "$c" id -g)" = 65532:65532
  expect "no capabilities inside (CapEff 0)" bash -c \
    "timeout 30 podman exec '$c' grep -q '^CapEff:[[:space:]]*0000000000000000$' /proc/1/status"
  expect "no_new_privs set inside" bash -c "timeout 30 podman exec '$c' grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/1/status"
  expect_not "root filesystem is read-only" timeout 30 podman exec "$c" touch /etc/airlock/x
  expect "/tmp is a writable tmpfs" timeout 30 podman exec "$c" bash -c 'echo x >/tmp/x'
  expect_not "the 1 MiB secret arena is locked (no 'NOT fully protected' in the log)" \
    bash -c "timeout 30 podman logs '$c' 2>&1 | grep -q 'NOT fully protected'"
  # block_private_addresses: a loopback target (the container's own metrics port) is refused.
  expect "the default config refuses a loopback target (403)" test \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "http://127.0.0.1:$pp" http://127.0.0.1:9464/metrics)" = 403
  # The admin API: a socket in the /run/airlock-admin volume, which took the image's 65532:0700.
  expect "admin socket directory is 65532's, 0700; the socket 0600" test \
    "$(timeout 30 podman exec "$c" stat -c %u:%a /run/airlock-admin /run/airlock-admin/admin.sock | xargs)" = "65532:700 65532:600"
  expect "airlock revoke --config over the socket (podman exec, as 65532)" \
    timeout 30 podman exec "$c" /usr/local/bin/airlock revoke --config /etc/airlock/airlock.yaml
  expect "podman stop (SIGTERM): exits 0" stop_exits_0 "$c"
  timeout 30 podman rm -f "$c" >/dev/null 2>&1
}

# ---- proxy: --network host, so the upstreams can be on the host's 127.0.0.1 and nowhere else.
proxy_checks() {
  echo "== proxy (--network host, upstreams on 127.0.0.1)"
  local c="al-proxy-$$" v="al-ca-$$" d="$tmp/proxy" pp mp up tp
  pp=$(free_port) mp=$(free_port) up=$(free_port) tp=$(free_port)
  mkdir -p "$d/www" "$d/secrets"
  echo upstream-ok >"$d/www/ok"
  printf 'sk-image-check-not-a-real-key\n' >"$d/secrets/anthropic"
  chmod 0444 "$d/secrets/anthropic"
  # Plain HTTP upstream, and an HTTPS one that records the x-api-key it receives in a file
  # (its echo to the client would come back scrubbed: airlock masks the key in responses).
  timeout 300 python3 -m http.server --bind 127.0.0.1 "$up" --directory "$d/www" >"$d/http.log" 2>&1 &
  pids+=($!)
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=upstream.test \
    -addext subjectAltName=DNS:upstream.test -keyout "$d/up.key" -out "$d/up.pem" >/dev/null 2>&1
  chmod 0644 "$d/up.pem"
  cat >"$d/echo.py" <<'EOF'
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[4], "a") as f:
            f.write("x-api-key=%s\n" % self.headers.get("x-api-key", ""))
        body = b"recorded\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
EOF
  timeout 300 python3 "$d/echo.py" "$tp" "$d/up.pem" "$d/up.key" "$d/received" >"$d/https.log" 2>&1 &
  pids+=($!)
  cat >"$d/airlock.yaml" <<EOF
proxy: { listen: "127.0.0.1:$pp", workers: 1, timeouts: { drain: 10s } }
admin: { socket: /run/airlock-admin/admin.sock }
metrics: { listen: "127.0.0.1:$mp" }
tls:
  ca: { export_dir: /run/airlock }
  upstream: { ca_file: /etc/airlock/upstream.pem }
secrets:
  anthropic: { file: /run/secrets/anthropic }
credentials:
  - { host: upstream.test, headers: { x-api-key: "{{anthropic}}" } }
resolve:
  "plain.test:$up": "127.0.0.1:$up"
  "upstream.test:$up": "127.0.0.1:$up"
  "upstream.test:$tp": "127.0.0.1:$tp"
egress:
  default: deny
  allow: [plain.test, upstream.test]
  block_private_addresses: true
  allow_private: [127.0.0.0/8]
log: { level: info, format: json, access: true }
EOF
  chmod 0644 "$d/airlock.yaml"
  expect "podman volume create $v (fresh named volume for /run/airlock)" timeout 30 podman volume create "$v"
  if ! timeout 120 podman run -d --name "$c" --network host --read-only --tmpfs /tmp --cap-drop ALL \
    --security-opt no-new-privileges --user 65532:65532 --ulimit memlock=8388608:8388608 "${ulimits[@]}" \
    -e "AIRLOCK_METRICS_PORT=$mp" -v "$d/airlock.yaml:/etc/airlock/airlock.yaml:ro" \
    -v "$d/up.pem:/etc/airlock/upstream.pem:ro" -v "$d/secrets/anthropic:/run/secrets/anthropic:ro" \
    -v "$v:/run/airlock" "$img" >"$tmp/last.out" 2>&1; then
    bad "podman run -d --network host (config, secret, CA volume mounted)"
    tail -8 "$tmp/last.out" | sed 's/^/     /'
    return
  fi
  ok "podman run -d --network host (config, secret, CA volume mounted)"
  expect "/healthz 200 within 20 s" wait_for 20 status_is "$mp" /healthz 200
  expect "/readyz 200 within 10 s (the required secret is mounted)" wait_for 10 status_is "$mp" /readyz 200
  expect "podman healthcheck run (AIRLOCK_METRICS_PORT=$mp): healthy" timeout 30 podman healthcheck run "$c"
  local mnt f
  mnt=$(podman volume inspect --format '{{.Mountpoint}}' "$v")
  for f in ca.pem ca-bundle.pem truststore.p12 wgetrc ca.env proxy.env telemetry.env airlock.env; do
    expect "$f written to the /run/airlock volume" wait_for 10 test -s "$mnt/$f"
  done
  expect "the volume took the image directory's owner (65532:65532)" test "$(stat -c %u:%g "$mnt")" = 65532:65532
  expect "ca.env exports the container paths" bash -c \
    ". '$mnt/ca.env' && [ \"\$SSL_CERT_FILE\" = /run/airlock/ca-bundle.pem ] && [ \"\$NODE_EXTRA_CA_CERTS\" = /run/airlock/ca.pem ] && [ \"\$WGETRC\" = /run/airlock/wgetrc ]"
  # plain.test has no credential rule: airlock forwards plain http as is (a host with a
  # credential rule is always dialled with TLS, so its secret never crosses in clear text).
  expect "plain GET through airlock to 127.0.0.1 (plain.test via resolve)" bash -c \
    "curl -sf --max-time 10 -x 'http://127.0.0.1:$pp' 'http://plain.test:$up/ok' | grep -qx upstream-ok"
  expect "http:// to the credentialed host is dialled with TLS, never in clear" bash -c \
    "curl -s -D - -o /dev/null --max-time 5 -x 'http://127.0.0.1:$pp' 'http://upstream.test:$up/ok' | grep -qi '^proxy-status:.*tls'"
  expect "a host off the allow list is refused (403)" test \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "http://127.0.0.1:$pp" "http://127.0.0.1:$up/ok")" = 403
  expect "HTTPS through airlock: client trusts the exported ca.pem, upstream gets the credential" bash -c \
    "curl -sf --max-time 10 --cacert '$mnt/ca.pem' -x 'http://127.0.0.1:$pp' -H 'x-api-key: placeholder' \
      'https://upstream.test:$tp/v1' | grep -qx recorded &&
     grep -qx 'x-api-key=sk-image-check-not-a-real-key' '$d/received'"
  expect "airlock revoke --config over the socket (podman exec, as 65532)" \
    timeout 30 podman exec "$c" /usr/local/bin/airlock revoke --config /etc/airlock/airlock.yaml
  expect "/readyz 503 after revoke" status_is "$mp" /readyz 503
  expect "podman stop (SIGTERM): exits 0" stop_exits_0 "$c"
  expect_not "the secret value is not in the logs" bash -c \
    "timeout 30 podman logs '$c' 2>&1 | grep -q sk-image-check-not-a-real-key"
  timeout 30 podman rm -f "$c" >/dev/null 2>&1
}

# ---- compose: the compose file as written, with podman-compose (Debian has no `podman compose`).
compose_checks() {
  echo "== compose (podman-compose)"
  if ! have podman-compose; then
    skipped+=("compose (podman-compose is not installed: apt-get install podman-compose)")
    return
  fi
  local d="$tmp/compose" mp proj="alchk$$" pc
  mp=$(free_port)
  mkdir -p "$d/secrets"
  # A copy: the build context made absolute, the metrics port moved to a free one, a test secret.
  # (and nofile/nproc beside memlock: compose's ulimits replace the engine's defaults, see
  # engine_setup).
  local nofile="${ulimits[1]#nofile=}" nproc="${ulimits[3]#nproc=}"
  sed -e "s#context: \.\./\.\.#context: $root#" -e "s#127.0.0.1:9464:9464#127.0.0.1:$mp:9464#" \
    -e "s#^\( *\)memlock: .*#&\n\1nofile: ${nofile%%:*}\n\1nproc: ${nproc%%:*}#" \
    "$here/compose/docker-compose.yaml" >"$d/docker-compose.yaml"
  cp "$here/compose/airlock.yaml" "$d/"
  chmod 0644 "$d/airlock.yaml"
  printf 'sk-compose-check-not-a-real-key' >"$d/secrets/anthropic-api-key"
  chmod 0444 "$d/secrets/anthropic-api-key"
  # The images compose names: airlock:0.1.0 (already built, so no rebuild) and the agent's
  # debian:bookworm-slim (the local stand-in).
  podman tag "$img" localhost/airlock:0.1.0
  podman tag "$base" docker.io/library/debian:bookworm-slim
  pc=(timeout 300 podman-compose -p "$proj" -f "$d/docker-compose.yaml")
  if ! "${pc[@]}" up -d >"$tmp/last.out" 2>&1; then
    bad "podman-compose up -d"
    tail -8 "$tmp/last.out" | sed 's/^/     /'
    "${pc[@]}" down -t 5 >/dev/null 2>&1
    return
  fi
  ok "podman-compose up -d"
  local a="${proj}_airlock_1" g="${proj}_agent_1"
  expect "airlock /readyz 200 on 127.0.0.1:$mp within 30 s (compose secret loaded)" wait_for 30 status_is "$mp" /readyz 200
  expect "airlock healthcheck (/readyz) passes" timeout 30 podman healthcheck run "$a"
  expect "CA volume is owned by 65532" bash -c \
    "timeout 30 podman exec '$a' stat -c %u:%g /run/airlock | grep -qx 65532:65532"
  # podman-compose 1.0.3 creates named volumes without driver_opts, and does not wait for
  # depends_on's service_healthy: both are Docker Compose behaviour this cannot show.
  if ! timeout 30 podman exec "$a" grep -q ' /run/airlock tmpfs ' /proc/mounts; then
    skipped+=("compose: the airlock-ca tmpfs (podman-compose ignores volumes' driver_opts)")
  fi
  if ! timeout 30 podman exec "$a" grep -q ' /run/airlock-admin tmpfs ' /proc/mounts; then
    skipped+=("compose: the airlock-admin-socket tmpfs (podman-compose ignores volumes' driver_opts)")
  fi
  expect "agent is running" wait_for 20 bash -c "[ \"\$(podman inspect --format '{{.State.Status}}' '$g')\" = running ]"
  # shellcheck disable=SC2016 # expanded by the shell in the container
  expect "agent sees airlock.env and ca-bundle.pem, read-only" timeout 30 podman exec "$g" bash -c \
    '. /run/airlock/airlock.env && test -s "$SSL_CERT_FILE" && [ "$HTTPS_PROXY" = http://airlock:3128 ] && ! touch /run/airlock/x 2>/dev/null'
  expect "agent reaches airlock:3128 by name" timeout 30 podman exec "$g" bash -c 'exec 3<>/dev/tcp/airlock/3128'
  # shellcheck disable=SC2016 # expanded by the shell in the container
  expect "agent has no default route (internal network)" timeout 30 podman exec "$g" bash -c \
    '! awk "NR > 1 && \$2 == \"00000000\"" /proc/net/route | grep -q .'
  expect "agent runs as 1000, airlock as 65532" test \
    "$(timeout 30 podman exec "$g" id -u):$(timeout 30 podman exec "$a" id -u)" = 1000:65532
  expect "admin socket directory is 65532's, 0700" test \
    "$(timeout 30 podman exec "$a" stat -c %u:%a /run/airlock-admin)" = 65532:700
  expect_not "the agent has no admin socket" timeout 30 podman exec "$g" test -e /run/airlock-admin/admin.sock
  expect "airlock revoke --config (docker compose exec airlock ...)" \
    timeout 30 podman exec "$a" /usr/local/bin/airlock revoke --config /etc/airlock/airlock.yaml
  expect "podman stop airlock (SIGTERM, stop_grace_period 45 s): exits 0" stop_exits_0 "$a"
  expect "podman-compose down" "${pc[@]}" down -t 45
}

engine_setup
base_image
build_images
image_checks
run_checks
proxy_checks
compose_checks
finish

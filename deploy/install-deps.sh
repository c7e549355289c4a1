#!/usr/bin/env bash
# Installs the Debian packages airlock needs, only those that are missing.
# Usage: deploy/install-deps.sh [build|test|bench|fuzz|image|compat|all]   (default: test = build + test peers)
# Idempotent and silent when nothing is missing; uses sudo when not root.
set -euo pipefail

profile="${1:-test}"

build_pkgs=(build-essential cmake pkg-config libboost1.81-dev libssl-dev libyaml-cpp-dev
  libspdlog-dev libfmt-dev prometheus-cpp-dev zlib1g-dev libgtest-dev libgmock-dev clang-format)
test_pkgs=(nginx curl git python3 python3-requests python3-yaml python3-aiohttp python3-websockets
  python3-httpx procps iproute2 iptables openssl gdb)
fuzz_pkgs=(clang libclang-rt-14-dev)  # libFuzzer and the sanitizer runtimes (make test, make fuzz)
bench_pkgs=(wrk hey haproxy squid-openssl tinyproxy mitmproxy)
# deploy/image-check.sh: rootful podman (its build is buildah's, built in), runc for hosts with
# hybrid cgroups that crun refuses, netavark/aardvark-dns named explicitly because
# --no-install-recommends could pick CNI instead, debootstrap for the local base image.
image_pkgs=(podman runc netavark aardvark-dns iptables debootstrap debian-archive-keyring podman-compose
  curl python3 openssl)

# make compat: npm fetches the pinned clients; Node from Debian unless one is installed already
# (a NodeSource or nvm Node ships its own npm, which Debian's npm package would conflict with).
compat_pkgs=(curl python3 openssl iproute2 util-linux)
command -v npm >/dev/null || compat_pkgs+=(nodejs npm)

case "$profile" in
  build) want=("${build_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  fuzz) want=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  bench) want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${fuzz_pkgs[@]}" "${bench_pkgs[@]}") ;;
  image) want=("${image_pkgs[@]}") ;;
  compat) want=("${build_pkgs[@]}" "${compat_pkgs[@]}") ;;
  all) want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  *)
    echo "install-deps.sh: unknown profile '$profile' (build|test|bench|fuzz|image|compat|all)" >&2
    exit 2
    ;;
esac

missing=()
for p in "${want[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "install-deps.sh: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  }
  sudo_cmd=(sudo)
fi

echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Package post-install scripts start daemons on some images; tests start their own instances.
for svc in nginx squid haproxy tinyproxy; do
  if [ -x "/etc/init.d/$svc" ] && pgrep -x "$svc" >/dev/null 2>&1; then
    "${sudo_cmd[@]}" "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  fi
done

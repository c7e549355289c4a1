#!/bin/bash
# airlock-egress-lock: the pod's egress lock, run once by a Kubernetes init container (the
# only container with NET_ADMIN) before airlock and the agent start. In the pod's network
# namespace, which every container shares, it lets a packet leave the pod only when
#   - it goes to loopback (the agent reaches airlock on 127.0.0.1:3128), or
#   - its socket belongs to airlock's UID (airlock's upstream connections and its DNS), or
#   - it belongs to a connection that came in (probe and scrape answers, ICMP errors);
# everything else is rejected at once, so the agent cannot go around the proxy by
# ignoring HTTPS_PROXY, by raw DNS (no exfiltration through queries) or by any other port.
# The agent must run under another UID and must not be able to change it (no root, no
# setuid: allowPrivilegeEscalation false, capabilities dropped).
#
# Environment:
#   AIRLOCK_UID    airlock's runAsUser (default 65532); must match the sidecar's securityContext
#   IPTABLES_MODE  nft (default: Debian's iptables, nf_tables; needs only CAP_NET_ADMIN) or
#                  legacy (xtables; also needs CAP_NET_RAW)
# Idempotent: a rerun in the same pod (an init container retried) replaces the chain.
set -euo pipefail

uid="${AIRLOCK_UID:-65532}"
mode="${IPTABLES_MODE:-nft}"
case "$uid" in
  '' | *[!0-9]*) echo "egress-lock: AIRLOCK_UID must be a number, got '$uid'" >&2 && exit 2 ;;
esac
if [ "$uid" = 0 ]; then
  echo "egress-lock: AIRLOCK_UID 0 would let every root process out; run airlock as non-root" >&2
  exit 2
fi
case "$mode" in
  nft | legacy) ;;
  *) echo "egress-lock: IPTABLES_MODE must be nft or legacy, got '$mode'" >&2 && exit 2 ;;
esac

chain=AIRLOCK_EGRESS

# lock BINARY: installs the chain for one address family and hooks it first into OUTPUT.
# RETURN rather than ACCEPT so rules others put in OUTPUT (a CNI, a mesh) still apply.
lock() {
  local ipt="$1"
  "$ipt" -w -N "$chain" 2>/dev/null || "$ipt" -w -F "$chain"
  "$ipt" -w -A "$chain" -o lo -j RETURN
  "$ipt" -w -A "$chain" -m owner --uid-owner "$uid" -j RETURN
  "$ipt" -w -A "$chain" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  # A reset rather than a silent drop: a tool that ignores the proxy fails at once with
  # "connection refused" instead of hanging until its own timeout.
  "$ipt" -w -A "$chain" -p tcp -j REJECT --reject-with tcp-reset
  "$ipt" -w -A "$chain" -j REJECT
  "$ipt" -w -C OUTPUT -j "$chain" 2>/dev/null || "$ipt" -w -I OUTPUT 1 -j "$chain"
  "$ipt" -w -S "$chain"
}

lock "iptables-$mode"
# Without IPv6 in the namespace there is no IPv6 way out to close; with it, failing to close
# it fails the init container, and so the pod (fail closed).
if [ -e /proc/net/if_inet6 ]; then
  lock "ip6tables-$mode"
else
  echo "egress-lock: no IPv6 in this network namespace; IPv4 rules only" >&2
fi
echo "egress-lock: only UID $uid may open connections leaving the pod" >&2

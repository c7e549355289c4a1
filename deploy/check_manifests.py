#!/usr/bin/env python3
"""Asserts the deployment invariants of issues 7 and 16 on the files in deploy/: among them
the admin API on a Unix socket only airlock mounts, and every airlock config's connection
and memory settings fitting its container's memory limit.

usage: check_manifests.py DEPLOY_DIR [RENDERED_K8S.yaml ...]

DEPLOY_DIR is deploy/; each RENDERED file is `kubectl kustomize` output of a base or overlay
(without one, the base's workspace.yaml is checked as written). Prints one line per failed
invariant and a closing 'N passed, N failed' line; exits 1 on any failure.
"""

import glob
import os
import re
import sys

import yaml

AIRLOCK_UID = 65532
results = []  # (ok, text)

# The worst case of README.md "Memory": what airlock can hold at most, from its config.
MIB = 1024 * 1024
FIXED_BYTES = 32 * MIB                   # code, libraries, CA and leaf cache, metrics, slack
PER_CONNECTION_INTERCEPTED = 192 * 1024  # TLS on both sides: possible in every config
DEFAULT_MAX_CONNECTIONS = 10000
DEFAULT_HEAD_BUDGET = 32 * MIB
DEFAULT_DECODING_BUDGET = 16 * MIB
IMAGE_MEMORY_LIMIT = 256 * MIB           # what deploy/README.md tells image users to give it


def check(ok, text):
    results.append((bool(ok), text))
    if not ok:
        print(f"FAIL: {text}")


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def duration_s(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", str(text))
    assert m, f"duration {text!r}"
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def size_bytes(text):
    """An airlock size: 65536, 64KiB, 16MiB, 1GiB."""
    m = re.fullmatch(r"(\d+)(|KiB|MiB|GiB)", str(text))
    assert m, f"size {text!r}"
    return int(m.group(1)) * {"": 1, "KiB": 1024, "MiB": MIB, "GiB": 1024 * MIB}[m.group(2)]


def limit_bytes(text):
    """A Kubernetes quantity (256Mi, 1Gi, 268435456) or a compose size (256m, 1g)."""
    m = re.fullmatch(r"(\d+)(|Ki|Mi|Gi|k|m|g|K|M|G)", str(text))
    assert m, f"memory limit {text!r}"
    unit = {"": 1, "Ki": 1024, "Mi": MIB, "Gi": 1024 * MIB, "k": 1024, "m": MIB, "g": 1024 * MIB,
            "K": 1000, "M": 1000 * 1000, "G": 1000 ** 3}[m.group(2)]
    return int(m.group(1)) * unit


def worst_case_bytes(cfg):
    proxy = cfg.get("proxy") or {}
    # Any connection may be intercepted, whatever the config: the agent can CONNECT to the
    # doctor's check host (or a host with telemetry path entries) as often as it likes.
    per = PER_CONNECTION_INTERCEPTED
    connections = int(proxy.get("max_connections", DEFAULT_MAX_CONNECTIONS))
    return FIXED_BYTES + connections * per + budgets_bytes(proxy)


def budgets_bytes(proxy):
    """The shared budgets: large heads, and decoding compressed answers being scrubbed."""
    return size_bytes(proxy.get("max_pending_head_bytes", DEFAULT_HEAD_BUDGET)) + \
        size_bytes(proxy.get("max_decoding_bytes", DEFAULT_DECODING_BUDGET))


def check_memory(where, cfg, limit, per_connection=None):
    """max_connections and the head budget agree with the container's memory limit."""
    proxy = cfg.get("proxy") or {}
    check("max_connections" in proxy, f"{where}: sets proxy.max_connections (the default fits "
          "no container)")
    check("max_pending_head_bytes" in proxy, f"{where}: sets proxy.max_pending_head_bytes")
    check("max_decoding_bytes" in proxy, f"{where}: sets proxy.max_decoding_bytes")
    worst = worst_case_bytes(cfg)
    if per_connection is not None:  # a config without rules that may be given some
        worst = FIXED_BYTES + int(proxy.get("max_connections", DEFAULT_MAX_CONNECTIONS)) * \
            per_connection + budgets_bytes(proxy)
    check(worst < limit, f"{where}: worst case {worst / MIB:.0f} MiB < memory limit "
          f"{limit / MIB:.0f} MiB")


def port_of(listen):
    return int(str(listen).rsplit(":", 1)[1])


def socket_dir(cfg):
    return os.path.dirname(str(cfg.get("admin", {}).get("socket", "")))


def hardened(where, sc, run_as_non_root=True):
    """The securityContext every long-running container carries."""
    sc = sc or {}
    if run_as_non_root:
        check(sc.get("runAsNonRoot") is True, f"{where}: runAsNonRoot true")
    check(sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem true")
    check(sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation false")
    check((sc.get("capabilities") or {}).get("drop") == ["ALL"], f"{where}: capabilities drop ALL")
    check((sc.get("seccompProfile") or {}).get("type") == "RuntimeDefault",
          f"{where}: seccompProfile RuntimeDefault")


def check_configs(deploy):
    """Facts about airlock configs that the manifests depend on."""
    configs = {}
    for path in ["image/airlock.yaml", "compose/airlock.yaml", "kubernetes/base/airlock.yaml",
                 *sorted(os.path.relpath(p, deploy) for p in
                         glob.glob(os.path.join(deploy, "kubernetes/overlays/*/airlock.yaml")))]:
        full = os.path.join(deploy, path)
        cfg = yaml.safe_load(open(full, encoding="utf-8"))
        configs[path] = cfg
        # The admin API on a Unix socket only: a TCP port would be reachable by the agent in
        # the same network namespace (Kubernetes), and the socket is what the mounts fence.
        admin = cfg.get("admin", {})
        check(str(admin.get("socket", "")).startswith("/"), f"{path}: admin API on a Unix socket")
        check("listen" not in admin, f"{path}: no TCP admin listener")
        export = cfg.get("tls", {}).get("ca", {}).get("export_dir", "")
        check(export and not (socket_dir(cfg) + "/").startswith(export.rstrip("/") + "/"),
              f"{path}: admin socket outside the agent's CA directory")
        check(cfg.get("egress", {}).get("block_private_addresses", True) is True,
              f"{path}: block_private_addresses stays on")
        check(port_of(cfg["metrics"]["listen"]) == 9464, f"{path}: metrics on 9464 (probes)")
    # Users add credential rules to the image's config: it must fit as if it had them.
    check_memory("image/airlock.yaml", configs["image/airlock.yaml"], IMAGE_MEMORY_LIMIT,
                 PER_CONNECTION_INTERCEPTED)
    return configs


def check_kubernetes(docs, cfg, where):
    deployments = [d for d in docs if d.get("kind") == "Deployment"]
    check(len(deployments) == 1, f"{where}: one Deployment")
    if not deployments:
        return
    pod = deployments[0]["spec"]["template"]["spec"]
    inits = {c["name"]: c for c in pod.get("initContainers", [])}
    mains = {c["name"]: c for c in pod.get("containers", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    lock, airlock, agent = inits.get("egress-lock"), inits.get("airlock"), mains.get("agent")
    check(lock and airlock and agent, f"{where}: egress-lock, airlock (init) and agent exist")
    if not (lock and airlock and agent):
        return

    check(pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{where}: pod runAsNonRoot")
    check("fsGroup" not in pod.get("securityContext", {}),
          f"{where}: no fsGroup (it would give the agent the group of airlock's volumes)")
    check(pod.get("automountServiceAccountToken") is False, f"{where}: no service account token")
    check(not pod.get("shareProcessNamespace"), f"{where}: no shared process namespace")
    check(not pod.get("hostNetwork") and not pod.get("hostPID"), f"{where}: no host namespaces")

    # Order: the lock runs first and to completion; airlock is a native sidecar.
    order = [c["name"] for c in pod["initContainers"]]
    check(order.index("egress-lock") < order.index("airlock"), f"{where}: egress-lock before airlock")
    check("restartPolicy" not in lock, f"{where}: egress-lock is a plain init container")
    check(airlock.get("restartPolicy") == "Always", f"{where}: airlock is a native sidecar")

    # Only the lock has a capability, and only NET_ADMIN.
    lsc = lock.get("securityContext", {})
    hardened(f"{where}: egress-lock", lsc, run_as_non_root=False)
    check(lsc.get("capabilities", {}).get("add") == ["NET_ADMIN"], f"{where}: egress-lock adds NET_ADMIN only")
    env = {e["name"]: e.get("value") for e in lock.get("env", [])}
    check(env.get("AIRLOCK_UID") == str(AIRLOCK_UID), f"{where}: egress-lock lets UID {AIRLOCK_UID} out")

    asc, gsc = airlock.get("securityContext", {}), agent.get("securityContext", {})
    hardened(f"{where}: airlock", asc)
    hardened(f"{where}: agent", gsc)
    check(asc.get("runAsUser") == AIRLOCK_UID, f"{where}: airlock runs as {AIRLOCK_UID}")
    check(isinstance(gsc.get("runAsUser"), int) and gsc["runAsUser"] not in (0, AIRLOCK_UID),
          f"{where}: agent runs as a UID that is neither root nor airlock's")
    for name, c in [("airlock", airlock), ("agent", agent)]:
        check(c.get("securityContext", {}).get("capabilities", {}).get("add") in (None, []),
              f"{where}: {name} adds no capability")
        res = c.get("resources", {})
        check(res.get("requests", {}).get("memory") and res.get("limits", {}).get("memory")
              and res.get("limits", {}).get("cpu"), f"{where}: {name} has requests and limits")
    memory = (airlock.get("resources", {}).get("limits") or {}).get("memory")
    if memory:
        check_memory(f"{where}: airlock", cfg, limit_bytes(memory))

    # Probes match airlock's endpoints and its metrics port.
    metrics_port = port_of(cfg["metrics"]["listen"])
    named = {p.get("name"): p["containerPort"] for p in airlock.get("ports", [])}
    for probe, path in [("startupProbe", "/readyz"), ("readinessProbe", "/readyz"),
                        ("livenessProbe", "/healthz")]:
        get = (airlock.get(probe) or {}).get("httpGet", {})
        port = named.get(get.get("port"), get.get("port"))
        check(get.get("path") == path and port == metrics_port,
              f"{where}: airlock {probe} GET {path} on {metrics_port}")
    check(str(cfg["metrics"]["listen"]).startswith("0.0.0.0:"),
          f"{where}: metrics listens where the kubelet's probes arrive")

    # Shutdown: revoke in preStop, grace above the drain.
    pre = (airlock.get("lifecycle") or {}).get("preStop", {}).get("exec", {}).get("command", [])
    check(len(pre) > 1 and pre[0].endswith("airlock") and pre[1] == "revoke",
          f"{where}: preStop runs airlock revoke")
    check(pre[2:] == ["--config", "/etc/airlock/airlock.yaml"],
          f"{where}: preStop revoke finds the admin socket in the pod's config")
    drain = duration_s(cfg["proxy"].get("timeouts", {}).get("drain", "30s"))
    check(pod.get("terminationGracePeriodSeconds", 30) > drain, f"{where}: grace > drain ({drain}s)")

    # Secrets reach airlock only; the agent gets the CA directory read-only and the proxy env.
    secret_vols = {n for n, v in volumes.items() if "secret" in v}
    check(secret_vols, f"{where}: secrets come from Secret volumes")
    agent_mounts = {m["name"]: m for m in agent.get("volumeMounts", [])}
    check(not secret_vols & set(agent_mounts), f"{where}: no Secret volume mounted into the agent")
    check(not agent.get("envFrom") and not any("valueFrom" in e for e in agent.get("env", [])),
          f"{where}: the agent takes no value from a Secret")
    export = cfg["tls"]["ca"]["export_dir"]
    ca = [m for m in agent_mounts.values() if m["mountPath"] == export]
    check(ca and ca[0].get("readOnly") is True, f"{where}: agent mounts {export} read-only")
    airlock_ca = [m for m in airlock.get("volumeMounts", []) if m["mountPath"] == export]
    check(airlock_ca and ca and airlock_ca[0]["name"] == ca[0]["name"]
          and "emptyDir" in volumes.get(ca[0]["name"], {}), f"{where}: the CA emptyDir is shared")
    proxy = f"http://127.0.0.1:{port_of(cfg['proxy']['listen'])}"
    aenv = {e["name"]: e.get("value") for e in agent.get("env", [])}
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]:
        check(aenv.get(var) == proxy, f"{where}: agent {var}={proxy}")
    check("127.0.0.1" in (aenv.get("NO_PROXY") or ""), f"{where}: agent NO_PROXY has 127.0.0.1")
    check_kit_env(aenv, export, where)

    # The config the pod runs is the ConfigMap mounted at /etc/airlock.
    mounts = {m["mountPath"]: m["name"] for m in airlock.get("volumeMounts", [])}
    check("configMap" in volumes.get(mounts.get("/etc/airlock"), {}), f"{where}: config from a ConfigMap")
    token = [cfg["admin"]["token_file"]] if "token_file" in cfg["admin"] else []
    for path in token + [s["file"] for s in cfg.get("secrets", {}).values() if "file" in s]:
        mounted = [m for m in airlock.get("volumeMounts", [])
                   if path.startswith(m["mountPath"].rstrip("/") + "/")]
        check(mounted and "secret" in volumes.get(mounted[0]["name"], {}),
              f"{where}: {path} comes from a Secret volume mounted into airlock")

    check_admin_socket(pod, airlock, volumes, cfg, metrics_port, where)

    policies = [d for d in docs if d.get("kind") == "NetworkPolicy"]
    check(policies and "Egress" in policies[0]["spec"].get("policyTypes", []),
          f"{where}: a NetworkPolicy restricts egress")
    ingress_ports = {p.get("port") for rule in (policies[0]["spec"].get("ingress") or [])
                     for p in rule.get("ports", [])} if policies else set()
    check(ingress_ports == {metrics_port}, f"{where}: the NetworkPolicy admits metrics only")
    ann = deployments[0]["spec"]["template"]["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/port") == str(metrics_port), f"{where}: scrape annotation port")


# What ca.env exports (proxy/tls/agent_kit_ca.cpp): the bundle where a variable replaces the
# tool's store, ca.pem where it adds to one.
KIT_BUNDLE_VARS = ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO",
                   "CARGO_HTTP_CAINFO", "DENO_CERT", "PIP_CERT", "AWS_CA_BUNDLE",
                   "CODEX_CA_CERTIFICATE", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "NPM_CONFIG_CAFILE"]


def check_kit_env(env, export, where):
    """The agent's own environment repeats airlock.env, for processes that never source it."""
    for var in KIT_BUNDLE_VARS:
        check(env.get(var) == f"{export}/ca-bundle.pem", f"{where}: agent {var}")
    check(env.get("NODE_EXTRA_CA_CERTS") == f"{export}/ca.pem", f"{where}: agent NODE_EXTRA_CA_CERTS")
    check(env.get("WGETRC") == f"{export}/wgetrc", f"{where}: agent WGETRC")
    check(f"-Djavax.net.ssl.trustStore={export}/truststore.p12" in (env.get("JAVA_TOOL_OPTIONS") or ""),
          f"{where}: agent JAVA_TOOL_OPTIONS names the trust store")
    check(str(env.get("NODE_USE_ENV_PROXY")) == "1", f"{where}: agent NODE_USE_ENV_PROXY=1")


def check_admin_socket(pod, airlock, volumes, cfg, metrics_port, where):
    """The admin socket's directory is an in-memory emptyDir that only airlock mounts, and
    no container offers a TCP port but airlock's metrics."""
    sock_dir = socket_dir(cfg)
    mounted = [m for m in airlock.get("volumeMounts", []) if m["mountPath"].rstrip("/") == sock_dir]
    name = mounted[0]["name"] if mounted else None
    vol = volumes.get(name, {})
    check(mounted and not mounted[0].get("readOnly") and "emptyDir" in vol
          and vol["emptyDir"].get("medium") == "Memory",
          f"{where}: airlock mounts an in-memory emptyDir at {sock_dir} (admin socket)")
    others = [c["name"] for c in pod.get("initContainers", []) + pod.get("containers", [])
              if c is not airlock and any(m["name"] == name for m in c.get("volumeMounts", []))]
    check(name and not others, f"{where}: the admin socket volume is mounted into airlock only"
          + (f" (also: {', '.join(others)})" if others else ""))
    ports = [(c["name"], p["containerPort"])
             for c in pod.get("initContainers", []) + pod.get("containers", [])
             for p in c.get("ports", [])]
    check(ports == [("airlock", metrics_port)],
          f"{where}: the only containerPort is airlock's metrics (no admin port 9901), got {ports}")


def check_compose(path, cfg):
    doc = yaml.safe_load(open(path, encoding="utf-8"))
    services, networks = doc["services"], doc.get("networks", {})
    airlock, agent = services.get("airlock"), services.get("agent")
    check(airlock and agent, "compose: airlock and agent services")
    if not (airlock and agent):
        return
    for name, svc in [("airlock", airlock), ("agent", agent)]:
        check(svc.get("read_only") is True, f"compose: {name} read_only")
        check(svc.get("cap_drop") == ["ALL"], f"compose: {name} cap_drop ALL")
        check("no-new-privileges:true" in svc.get("security_opt", []), f"compose: {name} no-new-privileges")
        check(any(str(t).startswith("/tmp") for t in svc.get("tmpfs", [])), f"compose: {name} tmpfs /tmp")
        check(svc.get("user") and not str(svc["user"]).startswith("0"), f"compose: {name} user non-root")
        check(not svc.get("privileged") and not svc.get("cap_add"), f"compose: {name} no privileges added")
    check(str(airlock["user"]).split(":")[0] == str(AIRLOCK_UID), f"compose: airlock user {AIRLOCK_UID}")
    agent_nets = agent.get("networks", [])
    check(all(networks.get(n, {}).get("internal") is True for n in agent_nets) and agent_nets,
          "compose: the agent is on internal networks only")
    check(set(agent_nets) <= set(airlock.get("networks", [])), "compose: airlock shares the agent's network")
    check(any(not networks.get(n, {}).get("internal") for n in airlock.get("networks", [])),
          "compose: airlock has a network with a way out")
    check(not agent.get("secrets") and airlock.get("secrets"), "compose: secrets go to airlock only")
    check(not agent.get("ports"), "compose: the agent publishes no port")
    export = cfg["tls"]["ca"]["export_dir"]
    ca = [v for v in agent.get("volumes", []) if str(v).split(":")[1:2] == [export]]
    check(ca and str(ca[0]).endswith(":ro"), f"compose: agent mounts {export} read-only")
    check(any(str(v).split(":")[:2] == [str(ca[0]).split(":")[0], export] for v in airlock.get("volumes", []))
          if ca else False, "compose: the CA volume is shared with airlock")
    proxy = f"http://airlock:{port_of(cfg['proxy']['listen'])}"
    env = agent.get("environment", {})
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]:
        check(env.get(var) == proxy, f"compose: agent {var}={proxy}")
    check(str(cfg["proxy"]["listen"]).startswith("0.0.0.0:"), "compose: proxy listens beyond loopback")
    check("airlock" in cfg["proxy"].get("route_hosts", []), "compose: route_hosts has airlock")
    # proxy.env must name airlock as the agent reaches it, and reverse routes by that name must
    # go to airlock directly: a proxied request to its own listener is refused as a loop.
    check(cfg["proxy"].get("agent_url") == proxy, f"compose: proxy.agent_url is {proxy}")
    for var in ["NO_PROXY", "no_proxy"]:
        check("airlock" in str(env.get(var) or "").split(","), f"compose: agent {var} has airlock")
    check_kit_env(env, export, "compose")
    test = airlock.get("healthcheck", {}).get("test", [])
    check("/readyz" in test, "compose: healthcheck on /readyz")
    check(agent.get("depends_on", {}).get("airlock", {}).get("condition") == "service_healthy",
          "compose: the agent waits for a healthy airlock")
    drain = duration_s(cfg["proxy"].get("timeouts", {}).get("drain", "30s"))
    check(duration_s(airlock.get("stop_grace_period", "10s")) > drain, "compose: stop_grace_period > drain")
    check(airlock.get("mem_limit"), "compose: airlock has mem_limit")
    if airlock.get("mem_limit"):
        check_memory("compose: airlock", cfg, limit_bytes(airlock["mem_limit"]))
    for s in cfg.get("secrets", {}).values():
        if "file" in s:
            check(s["file"].startswith("/run/secrets/"), f"compose: {s['file']} is a compose secret")

    # The admin socket: an in-memory volume, airlock's own and 0700, mounted into airlock only.
    sock_dir = socket_dir(cfg)
    admin = [str(v).split(":")[0] for v in airlock.get("volumes", [])
             if str(v).split(":")[1:2] == [sock_dir] and not str(v).endswith(":ro")]
    opts = ((doc.get("volumes") or {}).get(admin[0] if admin else "") or {}).get("driver_opts", {})
    o = set(str(opts.get("o", "")).split(","))
    check(admin and opts.get("type") == "tmpfs" and {f"uid={AIRLOCK_UID}", "mode=0700"} <= o,
          f"compose: airlock mounts a tmpfs volume of its own (uid {AIRLOCK_UID}, 0700) at {sock_dir}")
    users = [n for n, svc in services.items() if svc is not airlock and any(
        str(v).split(":")[0] == (admin[0] if admin else None) for v in svc.get("volumes", []))]
    check(admin and not users, "compose: the admin socket volume is mounted into airlock only")
    check(not any(str(p).endswith("9901") for svc in services.values()
                  for p in svc.get("ports", []) + svc.get("expose", [])),
          "compose: no admin port published or exposed")


def check_dockerfile(path, cfg):
    text = open(path, encoding="utf-8").read()
    runtime = text[text.rindex("\nFROM "):]  # the last stage is the default target
    check(re.search(r"^USER 65532:65532$", runtime, re.M), "Dockerfile: runtime USER 65532:65532")
    check("find / -xdev -perm /6000 -type f -exec chmod a-s {} +" in runtime, "Dockerfile: setuid bits stripped")
    check(re.search(r'^VOLUME \["/run/airlock", "/run/airlock-admin"\]$', runtime, re.M),
          "Dockerfile: VOLUME /run/airlock /run/airlock-admin")
    check(f"install -d -o 65532 -g 65532 -m 0700 {socket_dir(cfg)} " in runtime,
          f"Dockerfile: {socket_dir(cfg)} (image config's admin socket) owned by 65532, 0700")
    check(re.search(r"^EXPOSE 3128 9464$", runtime, re.M), "Dockerfile: EXPOSE 3128 9464 (no admin port)")
    check(re.search(r"^HEALTHCHECK .*", runtime, re.M), "Dockerfile: HEALTHCHECK")
    check('ENTRYPOINT ["/usr/local/bin/airlock"]' in runtime, "Dockerfile: ENTRYPOINT airlock")
    check('CMD ["--config", "/etc/airlock/airlock.yaml"]' in runtime, "Dockerfile: CMD --config")
    check("install-deps.sh build" in text, "Dockerfile: build deps from install-deps.sh")


def main():
    deploy = sys.argv[1]
    configs = check_configs(deploy)
    rendered = sys.argv[2:]
    if rendered:
        for path in rendered:
            name = os.path.basename(path)
            overlay = re.match(r"k8s-overlay-(.+)\.yaml$", name)
            cfg = configs[f"kubernetes/overlays/{overlay.group(1)}/airlock.yaml"] if overlay \
                else configs["kubernetes/base/airlock.yaml"]
            check_kubernetes(load_all(path), cfg, name)
    else:
        docs = load_all(os.path.join(deploy, "kubernetes/base/workspace.yaml")) + load_all(
            os.path.join(deploy, "kubernetes/base/networkpolicy.yaml"))
        check_kubernetes(docs, configs["kubernetes/base/airlock.yaml"], "base (unrendered)")
    check_compose(os.path.join(deploy, "compose/docker-compose.yaml"), configs["compose/airlock.yaml"])
    check_dockerfile(os.path.join(deploy, "Dockerfile"), configs["image/airlock.yaml"])
    passed = sum(ok for ok, _ in results)
    print(f"manifests: {passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

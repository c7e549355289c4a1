#!/usr/bin/env python3
"""Turns the raw files bench/run.sh collected into bench/results/latest.{md,csv}.

Inputs in --dir (all tab-separated, written by run.sh):
  meta.txt     key=value lines (date, cpu, versions, mode, ...)
  runs.tsv     group scenario conns run rps p50_us p99_us requests errors non2xx cpu_ticks
               group: forward, forward-newconn, fixed-rate (wrk, plain HTTP),
               mitm-keepalive, mitm-newconn, tunnel (hey)
  bulk.tsv     scenario run http_code bytes seconds cpu_ticks   (curl, tunnel bulk)
  fail.tsv     scenario reason              (could not be measured at all)
  idle.tsv     scenario json-from-idle_conns.py
  newhost.tsv  scenario json-from-new_host.py
  sse.tsv      scenario run json-from-sse_client.py   (scenario 7, delays pooled over runs)
  scrub_bulk.tsv  scenario run http_code bytes seconds cpu_ticks   (issue 18, report_scrub.py)
  post.tsv     scenario run json-from-post_client.py   (issue 19, report_post.py)
  notes.tsv    scenario note               (appended to that scenario's FAILING throughput rows)
meta.txt's "groups" lists the run.sh --only groups that ran (all when it is missing); the
report leaves out the tables, ratios and targets of the others.
A scenario/conns with any socket error or non-2xx response in any run is FAILING.
cpu_ticks is what the measured process (the proxy; nginx for direct) used during the run;
per request it is the proxy's cost independent of how fast the load tool is.
"""
import argparse
import csv
import json
import statistics
from pathlib import Path

import report_post
import report_scrub
from report_common import pct, pooled_delays, ratio_row

# group -> (title, scenarios in table order, the airlock scenario, its ratio peers)
GROUPS = {
    "forward": ("Plain HTTP forward — wrk, keep-alive",
                ["direct", "airlock", "squid", "tinyproxy", "haproxy", "nginx-reverse"],
                "airlock", ["direct", "squid", "tinyproxy", "haproxy", "nginx-reverse"]),
    "forward-newconn": ("Plain HTTP forward — wrk, a new connection per request "
                        "(`Connection: close`)",
                        ["direct", "airlock", "squid", "tinyproxy", "haproxy", "nginx-reverse"],
                        "airlock", ["direct", "squid", "tinyproxy", "haproxy", "nginx-reverse"]),
    "mitm-keepalive": ("TLS interception with injection — hey, keep-alive",
                       ["tls-direct", "airlock-forward", "airlock-mitm",
                        *report_scrub.KEEPALIVE_SCENARIOS, "mitmdump", "squid-bump"],
                       "airlock-mitm", ["airlock-forward", "mitmdump", "squid-bump", "tls-direct"]),
    "mitm-newconn": ("TLS interception with injection — hey, a new connection per request",
                     ["tls-direct", "airlock-forward", "airlock-mitm", "mitmdump", "squid-bump"],
                     "airlock-mitm", ["airlock-forward", "mitmdump", "squid-bump", "tls-direct"]),
    "tunnel": ("CONNECT tunnel, not intercepted — hey, keep-alive, HTTPS to nginx",
               ["tls-direct", "airlock-tunnel", "squid-tunnel", "tinyproxy-tunnel"],
               "airlock-tunnel", ["tls-direct", "squid-tunnel", "tinyproxy-tunnel"]),
    "fixed-rate": ("Latency at a fixed rate — wrk, paced connections",
                   ["direct", "airlock"], "airlock", []),
}
# group -> the meta.txt key listing its connection counts
CONNS_KEY = {"forward": "conns", "forward-newconn": "newconn_conns", "mitm-keepalive": "mitm_conns",
             "mitm-newconn": "mitm_conns", "tunnel": "tunnel_conns", "fixed-rate": "rate_conns"}
BULK = ["direct", "airlock-tunnel", "squid-tunnel", "tinyproxy-tunnel"]
BULK_PEERS = ["direct", "squid-tunnel", "tinyproxy-tunnel"]  # airlock-tunnel over each
# scenario 7: (scenario, the baseline its delay is compared with), in table order
SSE = [("direct", "direct"), ("airlock", "direct"), ("squid", "direct"),
       ("tinyproxy", "direct"), ("haproxy", "direct"), ("nginx-reverse", "direct"),
       ("tls-direct", "tls-direct"), ("airlock-mitm", "tls-direct"), *report_scrub.SSE_SCENARIOS,
       ("mitmdump", "tls-direct"), ("squid-bump", "tls-direct")]
# report group -> the run.sh --only group it belongs to
SELECTOR = {"forward": "plain", "forward-newconn": "newconn", "fixed-rate": "rate",
            "tunnel-bulk": "bulk", "scrub-bulk": "scrub-bulk", "mitm-keepalive": "mitm",
            "mitm-newconn": "mitm-newconn",
            "tunnel": "tunnel", "sse": "sse", "idle": "idle", "newhost": "newhost",
            "post-latency": "post-latency"}
IDLE = [("airlock", "forward"), ("squid", "forward"), ("airlock-mitm", "intercepted"),
        ("squid-bump", "intercepted"), ("mitmdump", "intercepted")]
NEW_HOST = ["airlock-mitm", "mitmdump", "squid-bump"]
CSV_FIELDS = ["date", "kind", "group", "scenario", "conns", "rps_median", "rps_min", "rps_max",
              "p50_ms", "p99_ms", "errors", "non2xx", "rss_before_kib", "rss_after_kib",
              "kib_per_conn", "fds_added", "first_ms", "repeat_ms", "added_ms",
              "added_total_ms", "cpu_us_per_req", "mb_per_s_median", "mb_per_s_min",
              "mb_per_s_max", "cpu_s_per_gb", "events", "max_ms", "added_p50_ms",
              "added_p99_ms", "requests", "sends_per_request", "ratio", "cpu_ratio", "measured",
              "target", "status"]


def read_tsv(path):
    if not path.exists():
        return []
    return [line.rstrip("\n").split("\t") for line in path.open() if line.strip()]


def load(d):
    meta = dict(line.rstrip("\n").split("=", 1) for line in (d / "meta.txt").open() if "=" in line)
    fails = {r[0]: r[1] for r in read_tsv(d / "fail.tsv")}
    runs = {}
    tick_us = 1e6 / int(meta.get("clk_tck", 100))
    for g, s, c, _run, rps, p50, p99, req, err, non2xx, ticks in read_tsv(d / "runs.tsv"):
        runs.setdefault((g, s, int(c)), []).append(
            dict(rps=float(rps), p50=int(p50), p99=int(p99), errors=int(err), non2xx=int(non2xx),
                 cpu_us=int(ticks) * tick_us / int(req) if int(req) else None))
    idle = {r[0]: json.loads(r[1]) for r in read_tsv(d / "idle.tsv")}
    sse = {}
    for s, _run, js in read_tsv(d / "sse.tsv"):
        sse.setdefault(s, []).append(json.loads(js))
    notes = {r[0]: r[1] for r in read_tsv(d / "notes.tsv")}
    newhost = {r[0]: json.loads(r[1]) for r in read_tsv(d / "newhost.tsv")}
    bulk = {}
    for row in read_tsv(d / "bulk.tsv"):
        s, _run, code, nbytes, secs, ticks = (row + ["0"] * 6)[:6]
        bulk.setdefault(s, []).append(dict(code=code, bytes=int(float(nbytes)),
                                           secs=float(secs), cpu_s=int(ticks) * tick_us / 1e6))
    scrub_bulk = report_scrub.load_bulk(d / "scrub_bulk.tsv", tick_us)
    post = report_post.load(d / "post.tsv")
    return meta, fails, runs, idle, newhost, bulk, sse, notes, scrub_bulk, post


def ran(meta, group):
    """Whether the report group (forward, sse, idle, ...) was selected for this run."""
    groups = meta.get("groups")
    return groups is None or SELECTOR[group] in groups.split()


def group_conns(meta, group):
    return [int(c) for c in meta.get(CONNS_KEY[group], "").split()]


def median_or_none(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def summarize(meta, fails, runs, notes):
    """One row per group, scenario and connection count, in a fixed order."""
    rows = []
    for g, (_title, scenarios, _a, _p) in GROUPS.items():
        if not ran(meta, g):
            continue
        for s in scenarios:
            for c in group_conns(meta, g):
                row = dict(kind="throughput", group=g, scenario=s, conns=c)
                rs = runs.get((g, s, c), [])
                if s in fails:
                    row["status"] = f"FAILING: {fails[s]}"
                elif not rs:
                    row["status"] = "FAILING: no load-tool result"
                if rs:
                    rps = [r["rps"] for r in rs]
                    row.update(rps_median=round(statistics.median(rps)), rps_min=round(min(rps)),
                               rps_max=round(max(rps)),
                               p50_ms=round(statistics.median(r["p50"] for r in rs) / 1000, 3),
                               p99_ms=round(statistics.median(r["p99"] for r in rs) / 1000, 3),
                               cpu_us_per_req=median_or_none(r["cpu_us"] for r in rs),
                               errors=sum(r["errors"] for r in rs),
                               non2xx=sum(r["non2xx"] for r in rs))
                    if "status" not in row:
                        bad = row["errors"] or row["non2xx"]
                        row["status"] = "FAILING: errors/non-2xx" if bad else "ok"
                        if bad and s in notes:
                            row["status"] += f" ({notes[s]})"
                rows.append(row)
    return rows


def ratios(rows, meta):
    by = {(r["group"], r["scenario"], r["conns"]): r for r in rows}
    out = []
    for g, (_title, _s, a_name, peers) in GROUPS.items():
        if not ran(meta, g):
            continue
        for c in group_conns(meta, g):
            a = by.get((g, a_name, c))
            for p in peers:
                out.append(ratio_row(a, by.get((g, p, c)), g, f"{a_name}/{p}", c))
    return out


def bulk_rows(bulk, fails, meta):
    """Scenario 4: MB/s (10^6 bytes) and the measured process's CPU seconds per GB."""
    if not ran(meta, "tunnel-bulk"):
        return []
    want = int(meta.get("bulk_mib", 0)) * 1024 * 1024
    out = []
    for s in BULK:
        row = dict(kind="bulk", group="tunnel-bulk", scenario=s, conns=1)
        rs = bulk.get(s, [])
        reason = fails.get(f"{s}-bulk")
        if reason:
            row["status"] = f"FAILING: {reason}"
        elif not rs:
            row["status"] = "FAILING: not measured"
        if rs:
            mbps = [r["bytes"] / r["secs"] / 1e6 if r["secs"] else 0 for r in rs]
            row.update(mb_per_s_median=round(statistics.median(mbps)), mb_per_s_min=round(min(mbps)),
                       mb_per_s_max=round(max(mbps)),
                       cpu_s_per_gb=round(statistics.median(
                           r["cpu_s"] / (r["bytes"] / 1e9) for r in rs if r["bytes"]), 3)
                       if any(r["bytes"] for r in rs) else None)
            bad = [r for r in rs if r["code"] != "200" or r["bytes"] != want]
            if "status" not in row:
                row["status"] = (f"FAILING: {len(bad)} download(s) short or not 200" if bad
                                 else "ok")
        out.append(row)
    a = next(r for r in out if r["scenario"] == "airlock-tunnel")
    for p in BULK_PEERS:
        b = next(r for r in out if r["scenario"] == p)
        row = dict(kind="ratio", group="tunnel-bulk", scenario=f"airlock-tunnel/{p}", conns=1)
        if a["status"] == "ok" and b["status"] == "ok" and b["mb_per_s_median"]:
            row.update(ratio=round(a["mb_per_s_median"] / b["mb_per_s_median"], 3), status="ok")
            if a.get("cpu_s_per_gb") and b.get("cpu_s_per_gb"):
                row["cpu_ratio"] = round(b["cpu_s_per_gb"] / a["cpu_s_per_gb"], 3)
        else:
            row["status"] = "n/a"
        out.append(row)
    return out


def added_latency(rows, meta):
    """Scenario 9: airlock's median p50/p99 minus direct's at the same offered rate."""
    if not ran(meta, "fixed-rate"):
        return None
    by = {r["scenario"]: r for r in rows if r["group"] == "fixed-rate"}
    a, d = by.get("airlock"), by.get("direct")
    row = dict(kind="latency", group="fixed-rate", scenario="airlock-direct",
               conns=a["conns"] if a else None)
    if a and d and a["status"] == "ok" and d["status"] == "ok":
        row.update(p50_ms=round(a["p50_ms"] - d["p50_ms"], 3),
                   p99_ms=round(a["p99_ms"] - d["p99_ms"], 3), status="ok")
    else:
        row["status"] = "n/a"
    return row


def probe_rows(results, fails, names, kind, n, keys):
    """Rows for the idle-memory and new-host probes: values, or FAILING with the reason."""
    out = []
    for s, label in names:
        row = dict(kind=kind, group=label, scenario=s, conns=n)
        r = results.get(s)
        if s in fails:
            row["status"] = f"FAILING: {fails[s]}"
        elif r is None:
            row["status"] = "FAILING: not measured"
        else:
            row.update({k: r[src] for k, src in keys.items() if src in r})
            row["status"] = f"FAILING: {r['error']}" if r.get("error") else "ok"
        out.append(row)
    return out


def idle_rows(idle, fails, meta):
    if not ran(meta, "idle"):
        return []
    keys = {k: k for k in ["rss_before_kib", "rss_after_kib", "kib_per_conn", "fds_added"]}
    out = []
    for s, label in IDLE:
        n = int(meta["idle_conns" if label == "forward" else "idle_tls_conns"])
        out += probe_rows(idle, fails, [(s, label)], "idle", n, keys)
    return out


def newhost_rows(newhost, fails, meta):
    if not ran(meta, "newhost"):
        return []
    keys = dict(first_ms="first_handshake_ms", repeat_ms="repeat_handshake_ms",
                added_ms="added_handshake_ms", added_total_ms="added_total_ms")
    return probe_rows(newhost, fails, [(s, "intercepted") for s in NEW_HOST], "newhost",
                      int(meta["new_host_names"]), keys)


def sse_rows(sse, fails, meta):
    """Scenario 7: per path, p50/p99/max of the per-event delays pooled over the runs (ms),
    and the same minus its baseline's (direct for plain HTTP, tls-direct over TLS)."""
    if not ran(meta, "sse"):
        return []
    out = {}
    for s, base in SSE:
        row = dict(kind="sse", group="sse-tls" if base == "tls-direct" else "sse-plain",
                   scenario=s, conns=1)
        out[s] = pooled_delays(row, sse.get(s, []), fails.get("sse") or fails.get(s), "streams",
                               "events")
    for s, base in SSE:
        row, b = out[s], out[base]
        if s != base and row["status"] == "ok" and b["status"] == "ok":
            row.update(added_p50_ms=round(row["p50_ms"] - b["p50_ms"], 3),
                       added_p99_ms=round(row["p99_ms"] - b["p99_ms"], 3))
    return list(out.values())


def targets(rat, idle, newhost, meta, bulk, added, sse, scrub, post):
    """Issues 3, 8, 18 and 19's performance targets, each met / missed / n/a (a figure is
    missing); only those of the groups that ran. scrub: (ratios, bulk rows, SSE diff)."""
    out = []

    def add(what, value, target, met):
        out.append(dict(kind="target", scenario=what, measured=value, target=target,
                        status="n/a" if value is None else ("met" if met(value) else "MISSED")))

    by = {(r["group"], r["scenario"], r["conns"]): r.get("ratio") for r in rat}
    cpu = {(r["group"], r["scenario"], r["conns"]): r.get("cpu_ratio") for r in rat}
    if ran(meta, "mitm-keepalive"):
        top = max(group_conns(meta, "mitm-keepalive"))
        add(f"MITM keep-alive req/s / airlock plain forward (c={top})",
            by.get(("mitm-keepalive", "airlock-mitm/airlock-forward", top)), ">= 0.5",
            lambda v: v >= 0.5)
        add(f"the same by proxy CPU per request (capacity, load-tool independent; c={top})",
            cpu.get(("mitm-keepalive", "airlock-mitm/airlock-forward", top)), ">= 0.5",
            lambda v: v >= 0.5)
        add(f"MITM keep-alive req/s / mitmdump (c={top})",
            by.get(("mitm-keepalive", "airlock-mitm/mitmdump", top)), ">= 20", lambda v: v >= 20)
    if newhost:
        nh = next(r for r in newhost if r["scenario"] == "airlock-mitm")
        add("new-host latency added, ms (leaf mint, median)",
            nh.get("added_ms") if nh["status"] == "ok" else None, "< 2", lambda v: v < 2)
    if idle:
        il = next(r for r in idle if r["scenario"] == "airlock-mitm")
        add("RSS per idle intercepted connection pair, KiB",
            il.get("kib_per_conn") if il["status"] == "ok" else None, "<= 150",
            lambda v: v <= 150)
    if ran(meta, "forward") and group_conns(meta, "forward"):
        fc = 32 if 32 in group_conns(meta, "forward") else max(group_conns(meta, "forward"))
        add(f"plain forward req/s / haproxy (keep-alive, c={fc})",
            by.get(("forward", "airlock/haproxy", fc)), ">= 1", lambda v: v >= 1)
        add(f"plain forward req/s / squid (keep-alive, c={fc})",
            by.get(("forward", "airlock/squid", fc)), ">= 5", lambda v: v >= 5)
    if bulk:
        br = next((r for r in bulk
                   if r["kind"] == "ratio" and r["scenario"] == "airlock-tunnel/direct"), {})
        add("tunnel bulk MB/s / direct", br.get("ratio"), ">= 0.8", lambda v: v >= 0.8)
    if added is not None:
        add(f"added p99 latency at ~half load ({meta.get('rate_target', '?')} req/s offered), ms",
            added.get("p99_ms") if added["status"] == "ok" else None, "< 0.5", lambda v: v < 0.5)
    for r in (r for r in sse if r["scenario"] in ("airlock", "airlock-mitm")):
        how = "plain forward" if r["scenario"] == "airlock" else "intercepted"
        add(f"SSE added delay per event, p99 ({how}: {r['scenario']} − "
            f"{'direct' if how == 'plain forward' else 'tls-direct'}), ms",
            r.get("added_p99_ms"), "< 1", lambda v: v < 1)
    top = max(group_conns(meta, "mitm-keepalive")) if ran(meta, "mitm-keepalive") else None
    report_scrub.targets(add, meta, *scrub, top)
    report_post.targets(add, post)
    return out


def fmt(v, spec="{:,}"):
    return "–" if v is None or v == "" else spec.format(v)


def groups_run(meta):
    groups = meta.get("groups")
    if groups is None or set(groups.split()) >= set(SELECTOR.values()):
        return "all"
    return ", ".join(groups.split()) + " (`bench/run.sh --only`; the others are left out)"


def header(meta):
    L = [f"# airlock benchmark — {meta['date']}", "",
         f"- CPU: {meta['cpu']} ({meta['cores']} cores), kernel {meta['kernel']}",
         f"- Versions: airlock {meta['airlock']}, nginx {meta['nginx']}, squid {meta['squid']}, "
         f"haproxy {meta['haproxy']}, tinyproxy {meta.get('tinyproxy', '?')}, "
         f"mitmproxy {meta.get('mitmdump', '?')}, "
         f"wrk {meta['wrk']}, hey {meta.get('hey', '?')}, OpenSSL {meta.get('openssl', '?')}",
         f"- Mode: {meta['mode']} — {meta['runs']} runs × {meta['duration']} s per figure "
         + ("" if meta.get("short_duration", meta["duration"]) == meta["duration"] else
            f"({meta['short_duration']} s for the new-connection and fixed-rate figures) ")
         + f"(median; spread is min–max), GET of a {meta['body_bytes']} B body from nginx on "
         "127.0.0.1",
         f"- Groups run: {groups_run(meta)}",
         "- Load tools: wrk -t1 for plain HTTP (absolute-form to the proxy); hey -cpus 1 for "
         "TLS (CONNECT through the proxy, HTTP/1.1, one connection per hey worker; hey does "
         "not verify certificates, the curl preflight does). Over TLS nginx answers 403 "
         "unless x-api-key is the injected credential, so a proxy that does not inject fails.",
         "- Proxies: one worker/thread each; load tool, proxy and nginx share the same cores. "
         "Rounds interleave the scenarios; a response slower than 10 s counts as an error.",
         f"- Load average (1 min): {meta['load_start']} before the run, "
         f"{meta.get('load_end', '?')} at its end (the bench itself adds about 2)."]
    if float(meta["load_start"]) > 0.5:
        L.append("- **Warning: the machine was busy before the run; the figures are skewed by "
                 "other work.**")
    return L


def throughput_table(rows, group):
    L = ["", f"## {GROUPS[group][0]}", "",
         "| scenario | conns | req/s (median) | min–max | p50 ms | p99 ms | CPU µs/req | errors | "
         "non-2xx | status |",
         "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    for r in (r for r in rows if r["group"] == group):
        spread = (f"{r['rps_min']:,}–{r['rps_max']:,}" if "rps_min" in r else "–")
        L.append(f"| {r['scenario']} | {r['conns']} | {fmt(r.get('rps_median'))} | {spread} | "
                 f"{fmt(r.get('p50_ms'), '{:.2f}')} | {fmt(r.get('p99_ms'), '{:.2f}')} | "
                 f"{fmt(r.get('cpu_us_per_req'), '{:.1f}')} | "
                 f"{fmt(r.get('errors'))} | {fmt(r.get('non2xx'))} | {r['status']} |")
    return L


def ratio_table(rat, groups, meta):
    """One table for groups that share the airlock scenario and its peers."""
    _t, _s, a_name, peers = GROUPS[groups[0]]
    L = ["| load | conns | " + " | ".join(f"{a_name}/{p}" for p in peers) + " |",
         "|---|--:|" + "--:|" * len(peers)]
    for g in groups:
        for c in group_conns(meta, g):
            cells = [fmt(r.get("ratio"), "{:.2f}") + " (" + fmt(r.get("cpu_ratio"), "{:.2f}") + ")"
                     for r in rat if r["group"] == g and r["conns"] == c]
            L.append(f"| {g} | {c} | " + " | ".join(cells) + " |")
    return L


def bulk_section(meta, bulk):
    L = ["", "## CONNECT tunnel bulk — curl, one download at a time", "",
         f"{meta.get('bulk_mib', '?')} MiB from nginx's plain HTTP port; through the proxies with "
         "`curl --proxytunnel` (CONNECT to 127.0.0.1, relayed blind). MB = 10^6 bytes. CPU s/GB "
         "is the measured process's user + system time per 10^9 bytes (nginx for direct, "
         "otherwise the proxy).", "",
         "| scenario | MB/s (median) | min–max | CPU s/GB | status |", "|---|--:|--:|--:|---|"]
    for r in (r for r in bulk if r["kind"] == "bulk"):
        spread = f"{r['mb_per_s_min']:,}–{r['mb_per_s_max']:,}" if "mb_per_s_min" in r else "–"
        L.append(f"| {r['scenario']} | {fmt(r.get('mb_per_s_median'))} | {spread} | "
                 f"{fmt(r.get('cpu_s_per_gb'), '{:.3f}')} | {r['status']} |")
    return L


def rate_section(meta, rows, added):
    L = throughput_table(rows, "fixed-rate")
    L += ["", f"Each of {meta.get('rate_conns', '?')} connections pauses a random 0–"
          f"{2 * int(meta.get('rate_delay_ms', 0))} ms after every response (mean "
          f"{meta.get('rate_delay_ms', '?')} ms), offering about {meta.get('rate_target', '?')} "
          "req/s — half of airlock's keep-alive req/s at 32 connections in this run — to direct "
          "and to airlock alike; latency from wrk (per request, µs resolution).", "",
          f"Added by airlock (median over runs): p50 {fmt(added.get('p50_ms'), '{:.3f}')} ms, "
          f"p99 {fmt(added.get('p99_ms'), '{:.3f}')} ms ({added['status']})."]
    return L


def sse_section(meta, sse):
    L = ["", "## Server-sent events — added delay per event (scenario 7)", "",
         f"`lib/sse_server.py` sends one event every {meta.get('sse_interval_ms', '?')} ms, "
         "each carrying its send time (CLOCK_MONOTONIC ns); `lib/sse_client.py` (raw sockets, "
         "reads bytes as they arrive) takes its receive time per event, directly and through each "
         f"proxy. {meta.get('runs', '?')} interleaved streams per path, "
         f"{meta.get('sse_events', '?')} events pooled (after {meta.get('sse_warmup', '?')} "
         "uncounted ones per stream). Delay = receive − send, ms; \"added\" is the path's "
         "percentile minus its baseline's: `direct` for plain HTTP (forward proxies "
         "absolute-form, haproxy and nginx-reverse as reverse proxies), `tls-direct` for the "
         "intercepting proxies (CONNECT + TLS, credential injected: the upstream answers 403 "
         "without it).", "",
         "| path | baseline | events | p50 | p99 | max | added p50 | added p99 | status |",
         "|---|---|--:|--:|--:|--:|--:|--:|---|"]
    base = dict(SSE)
    for r in sse:
        L.append(f"| {r['scenario']} | {base[r['scenario']]} | {fmt(r.get('events'))} | "
                 f"{fmt(r.get('p50_ms'), '{:.3f}')} | {fmt(r.get('p99_ms'), '{:.3f}')} | "
                 f"{fmt(r.get('max_ms'), '{:.3f}')} | {fmt(r.get('added_p50_ms'), '{:.3f}')} | "
                 f"{fmt(r.get('added_p99_ms'), '{:.3f}')} | {r['status']} |")
    by = {r["scenario"]: r for r in sse}
    parts = []
    for s in ("airlock", "airlock-mitm"):
        r = by[s]
        ok = "ok" if "added_p99_ms" in r else "n/a"
        parts.append(f"{s} p50 {fmt(r.get('added_p50_ms'), '{:.3f}')} ms, "
                     f"p99 {fmt(r.get('added_p99_ms'), '{:.3f}')} ms ({ok})")
    L += ["", "Added by airlock per event: " + "; ".join(parts) + "."]
    return L


def markdown(meta, rows, rat, idle, newhost, tgt, bulk, added, sse, scrub, post):
    L = header(meta)
    for g in ["forward", "forward-newconn", "mitm-keepalive", "mitm-newconn", "tunnel"]:
        if ran(meta, g):
            L += throughput_table(rows, g)
    if bulk:
        L += bulk_section(meta, bulk)
    if added is not None:
        L += rate_section(meta, rows, added)
    if sse:
        L += sse_section(meta, sse)
    if post:
        L += report_post.section(meta, post)
    if any(scrub[:2]) or scrub[2] is not None:
        conns = group_conns(meta, "mitm-keepalive") if ran(meta, "mitm-keepalive") else []
        L += report_scrub.section(meta, rows, *scrub, conns)
    tables = [gs for gs in (["forward", "forward-newconn"], ["mitm-keepalive", "mitm-newconn"],
                            ["tunnel"]) if any(ran(meta, g) for g in gs)]
    if tables or bulk:
        L += ["", "## Ratios", "",
              "Median req/s of airlock over the peer; in brackets the same from the processes' "
              "CPU time per request (peer µs/req ÷ airlock µs/req): the capacity ratio if each "
              "had a core of its own, not capped by the load tool.", ""]
        for i, gs in enumerate(tables):
            L += ([""] if i else []) + ratio_table(rat, [g for g in gs if ran(meta, g)], meta)
    if bulk:
        L += ["", "| load | " + " | ".join(f"airlock-tunnel/{p}" for p in BULK_PEERS) + " |",
              "|---|" + "--:|" * len(BULK_PEERS),
              "| tunnel bulk MB/s (CPU s/GB) | " + " | ".join(
                  fmt(r.get("ratio"), "{:.2f}") + " (" + fmt(r.get("cpu_ratio"), "{:.2f}") + ")"
                  for r in bulk if r["kind"] == "ratio") + " |"]
    if newhost:
        L += ["", f"## New-host latency ({meta['new_host_names']} names never seen, each then "
              "repeated; median ms)", "",
              "Handshake = TCP connect + CONNECT + TLS handshake with the proxy's leaf; \"added\" "
              "is the median of first − repeat per name (the leaf mint). \"added total\" includes "
              "the request, so also the first upstream connection to that name.", "",
              "| proxy | first handshake | repeat handshake | added | added total | status |",
              "|---|--:|--:|--:|--:|---|"]
        for r in newhost:
            L.append(f"| {r['scenario']} | {fmt(r.get('first_ms'), '{:.2f}')} | "
                     f"{fmt(r.get('repeat_ms'), '{:.2f}')} | {fmt(r.get('added_ms'), '{:.2f}')} | "
                     f"{fmt(r.get('added_total_ms'), '{:.2f}')} | {r['status']} |")
    if idle:
        L += ["", "## Memory of idle connections", "",
              f"Forward: {meta['idle_conns']} keep-alive connections, one request each. "
              f"Intercepted: {meta['idle_tls_conns']} connections through CONNECT + TLS, one "
              "request each in flight at once (so the proxy holds a client and an upstream side: "
              "a pair), then idle. \"fds added\" counts the proxy's new file descriptors (client "
              "+ upstream sockets).", "",
              "| proxy | connections | RSS before KiB | RSS after KiB | KiB per connection | "
              "fds added | status |",
              "|---|---|--:|--:|--:|--:|---|"]
        for r in idle:
            L.append(f"| {r['scenario']} | {r['conns']:,} {r['group']} | "
                     f"{fmt(r.get('rss_before_kib'))} | {fmt(r.get('rss_after_kib'))} | "
                     f"{fmt(r.get('kib_per_conn'), '{:.1f}')} | {fmt(r.get('fds_added'))} | "
                     f"{r['status']} |")
    if tgt:
        L += ["", "## Targets (issues 3, 8, 18 and 19, one airlock worker)", "",
              "| target | measured | wanted | status |", "|---|--:|--:|---|"]
        for t in tgt:
            L.append(f"| {t['scenario']} | {fmt(t['measured'], '{:.2f}')} | {t['target']} | "
                     f"{t['status']} |")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--md", required=True, type=Path)
    ap.add_argument("--csv", required=True, type=Path)
    a = ap.parse_args()
    meta, fails, runs, idle, newhost, bulk, sse, notes, scrub_bulk, post = load(a.dir)
    rows = summarize(meta, fails, runs, notes)
    rat = ratios(rows, meta)
    idl = idle_rows(idle, fails, meta)
    nh = newhost_rows(newhost, fails, meta)
    blk = bulk_rows(bulk, fails, meta)
    added = added_latency(rows, meta)
    ss = sse_rows(sse, fails, meta)
    scrub = (report_scrub.keepalive_ratios(rows, group_conns(meta, "mitm-keepalive"))
             if ran(meta, "mitm-keepalive") else [],
             report_scrub.bulk_rows(scrub_bulk, fails, meta) if ran(meta, "scrub-bulk") else [],
             report_scrub.sse_diff(ss) if ss else None)
    pst = report_post.rows(post, fails) if ran(meta, "post-latency") else []
    tgt = targets(rat, idl, nh, meta, blk, added, ss, scrub, pst)
    a.md.write_text(markdown(meta, rows, rat, idl, nh, tgt, blk, added, ss, scrub, pst))
    with a.csv.open("w", newline="") as f:
        w = csv.DictWriter(f, CSV_FIELDS)
        w.writeheader()
        for k in ["cpu", "cores", "kernel", "load_start", "load_end", "mode", "groups", "duration",
                  "short_duration", "runs", "clk_tck", "bulk_mib", "scrub_bulk_mib",
                  "scrub_gzip_mib", "rate_target", "rate_conns",
                  "rate_delay_ms", "sse_events", "sse_interval_ms", "sse_warmup", "post_requests",
                  "post_warmup", "airlock", "nginx", "squid", "haproxy", "tinyproxy", "mitmdump",
                  "wrk", "hey", "openssl", "requests"]:
            w.writerow(dict(date=meta["date"], kind="meta", scenario=k, status=meta.get(k, "")))
        extra = scrub[0] + scrub[1] + ([scrub[2]] if scrub[2] else [])
        for r in rows + rat + blk + ([added] if added else []) + ss + extra + pst + idl + nh + tgt:
            w.writerow(dict(date=meta["date"], **r))
    print(a.md.read_text(), end="")


if __name__ == "__main__":
    main()

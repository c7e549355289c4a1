#!/usr/bin/env python3
"""Turns the raw files bench/run.sh collected into bench/results/latest.{md,csv}.

Inputs in --dir (all tab-separated, written by run.sh):
  meta.txt   key=value lines (date, cpu, versions, mode, ...)
  runs.tsv   scenario conns run rps p50_us p99_us requests errors non2xx
  fail.tsv   scenario reason              (could not be measured at all)
  idle.tsv   scenario json-from-idle_conns.py
A scenario/conns with any socket error or non-2xx response in any run is FAILING.
"""
import argparse
import csv
import json
import statistics
from pathlib import Path

SCENARIOS = ["direct", "airlock", "squid", "haproxy"]
RATIO_PEERS = ["direct", "squid", "haproxy"]
CSV_FIELDS = ["date", "kind", "scenario", "conns", "rps_median", "rps_min", "rps_max",
              "p50_ms", "p99_ms", "errors", "non2xx", "rss_before_kib", "rss_after_kib",
              "kib_per_conn", "ratio", "status"]


def read_tsv(path):
    if not path.exists():
        return []
    return [line.rstrip("\n").split("\t") for line in path.open() if line.strip()]


def load(d):
    meta = dict(line.rstrip("\n").split("=", 1) for line in (d / "meta.txt").open() if "=" in line)
    fails = {r[0]: r[1] for r in read_tsv(d / "fail.tsv")}
    runs = {}
    for s, c, _run, rps, p50, p99, _req, err, non2xx in read_tsv(d / "runs.tsv"):
        runs.setdefault((s, int(c)), []).append(
            dict(rps=float(rps), p50=int(p50), p99=int(p99), errors=int(err), non2xx=int(non2xx)))
    idle = {r[0]: json.loads(r[1]) for r in read_tsv(d / "idle.tsv")}
    return meta, fails, runs, idle


def summarize(meta, fails, runs):
    """One row per scenario and connection count, in a fixed order."""
    conns = [int(c) for c in meta["conns"].split()]
    rows = []
    for s in SCENARIOS:
        for c in conns:
            row = dict(kind="throughput", scenario=s, conns=c)
            rs = runs.get((s, c), [])
            if s in fails:
                row["status"] = f"FAILING: {fails[s]}"
            elif not rs:
                row["status"] = "FAILING: no wrk result"
            if rs:
                rps = [r["rps"] for r in rs]
                row.update(rps_median=round(statistics.median(rps)), rps_min=round(min(rps)),
                           rps_max=round(max(rps)),
                           p50_ms=round(statistics.median(r["p50"] for r in rs) / 1000, 3),
                           p99_ms=round(statistics.median(r["p99"] for r in rs) / 1000, 3),
                           errors=sum(r["errors"] for r in rs),
                           non2xx=sum(r["non2xx"] for r in rs))
                if "status" not in row:
                    bad = row["errors"] or row["non2xx"]
                    row["status"] = "FAILING: errors/non-2xx" if bad else "ok"
            rows.append(row)
    return rows


def ratios(rows, conns):
    by = {(r["scenario"], r["conns"]): r for r in rows}
    out = []
    for c in conns:
        a = by.get(("airlock", c))
        for p in RATIO_PEERS:
            b = by.get((p, c))
            row = dict(kind="ratio", scenario=f"airlock/{p}", conns=c)
            if a and b and a["status"] == "ok" and b["status"] == "ok":
                row.update(ratio=round(a["rps_median"] / b["rps_median"], 3), status="ok")
            else:
                row["status"] = "n/a"
            out.append(row)
    return out


def idle_rows(idle, fails, n):
    out = []
    for s in ["airlock", "squid"]:
        row = dict(kind="idle", scenario=s, conns=n)
        r = idle.get(s)
        if s in fails:
            row["status"] = f"FAILING: {fails[s]}"
        elif r is None:
            row["status"] = "FAILING: not measured"
        else:
            for k in ["rss_before_kib", "rss_after_kib", "kib_per_conn"]:
                if k in r:
                    row[k] = r[k]
            row["status"] = f"FAILING: {r['error']}" if r.get("error") else "ok"
        out.append(row)
    return out


def fmt(v, spec="{:,}"):
    return "–" if v is None or v == "" else spec.format(v)


def markdown(meta, rows, rat, idle, conns):
    L = [f"# airlock benchmark — {meta['date']}", "",
         f"- CPU: {meta['cpu']} ({meta['cores']} cores), kernel {meta['kernel']}",
         f"- Versions: airlock {meta['airlock']}, nginx {meta['nginx']}, squid {meta['squid']}, "
         f"haproxy {meta['haproxy']}, wrk {meta['wrk']}",
         f"- Mode: {meta['mode']} — wrk -t1, {meta['runs']} runs × {meta['duration']} s per figure "
         f"(median; spread is min–max), keep-alive, GET of a {meta['body_bytes']} B body from "
         "nginx on 127.0.0.1",
         "- Proxies: one worker/thread each; wrk, proxy and nginx share the same cores. "
         "Rounds interleave the scenarios; a response slower than 10 s counts as an error.",
         f"- Load average (1 min): {meta['load_start']} before the run, "
         f"{meta.get('load_end', '?')} at its end (the bench itself adds about 2)."]
    if float(meta["load_start"]) > 0.5:
        L.append("- **Warning: the machine was busy before the run; the figures are skewed by "
                 "other work.**")
    L += ["",
          "## Throughput", "",
          "| scenario | conns | req/s (median) | min–max | p50 ms | p99 ms | errors | non-2xx | status |",
          "|---|--:|--:|--:|--:|--:|--:|--:|---|"]
    for r in rows:
        spread = (f"{r['rps_min']:,}–{r['rps_max']:,}" if "rps_min" in r else "–")
        L.append(f"| {r['scenario']} | {r['conns']} | {fmt(r.get('rps_median'))} | {spread} | "
                 f"{fmt(r.get('p50_ms'), '{:.2f}')} | {fmt(r.get('p99_ms'), '{:.2f}')} | "
                 f"{fmt(r.get('errors'))} | {fmt(r.get('non2xx'))} | {r['status']} |")
    L += ["", "## Ratios (median req/s)", "",
          "| conns | " + " | ".join(f"airlock/{p}" for p in RATIO_PEERS) + " |",
          "|--:|" + "--:|" * len(RATIO_PEERS)]
    for c in conns:
        cells = [fmt(r.get("ratio"), "{:.2f}") for r in rat if r["conns"] == c]
        L.append(f"| {c} | " + " | ".join(cells) + " |")
    L += ["", f"## Memory at {meta['idle_conns']} idle keep-alive connections", "",
          "| proxy | RSS before KiB | RSS after KiB | KiB per connection | status |",
          "|---|--:|--:|--:|---|"]
    for r in idle:
        L.append(f"| {r['scenario']} | {fmt(r.get('rss_before_kib'))} | "
                 f"{fmt(r.get('rss_after_kib'))} | {fmt(r.get('kib_per_conn'), '{:.1f}')} | "
                 f"{r['status']} |")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--md", required=True, type=Path)
    ap.add_argument("--csv", required=True, type=Path)
    a = ap.parse_args()
    meta, fails, runs, idle = load(a.dir)
    conns = [int(c) for c in meta["conns"].split()]
    rows = summarize(meta, fails, runs)
    rat = ratios(rows, conns)
    idl = idle_rows(idle, fails, int(meta["idle_conns"]))
    a.md.write_text(markdown(meta, rows, rat, idl, conns))
    with a.csv.open("w", newline="") as f:
        w = csv.DictWriter(f, CSV_FIELDS)
        w.writeheader()
        for k in ["cpu", "cores", "kernel", "load_start", "load_end", "mode", "duration", "runs", "airlock", "nginx",
                  "squid", "haproxy", "wrk"]:
            w.writerow(dict(date=meta["date"], kind="meta", scenario=k, status=meta.get(k, "")))
        for r in rows + rat + idl:
            w.writerow(dict(date=meta["date"], **r))
    print(a.md.read_text(), end="")


if __name__ == "__main__":
    main()

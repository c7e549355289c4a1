"""The response-scrubbing part of the bench report (issue 18), used by report.py.

Scrubbing on (airlock-mitm: the default) against "scrub: false" (airlock-mitm-noscrub: the
same four rules on a second port of the same upstream, relayed as before issue 18), all in
one run of one airlock:
  - keep-alive req/s and CPU per request of /small (100 B, no secret in it), and of /echo
    (airlock-mitm-echo: 100 B holding the key, masked in every response);
  - the p50/p99 delay per SSE event, scrubbing on minus off;
  - scrub-bulk (scrub_bulk.tsv: scenario run http_code bytes seconds cpu_ticks): an
    intercepted text download's MB/s and airlock's CPU seconds per GB, on and off (their
    difference is the scan's own cost), nginx's TLS alone as the ceiling, and a gzip-coded
    one airlock decodes (MB of decoded output).
"""
import statistics

from report_common import ratio_row

ON, OFF, ECHO = "airlock-mitm", "airlock-mitm-noscrub", "airlock-mitm-echo"
GZIP = "airlock-mitm-gzip"
KEEPALIVE_SCENARIOS = [OFF, ECHO]  # shown in the keep-alive table right after airlock-mitm
SSE_SCENARIOS = [(OFF, "tls-direct")]
BULK = ["tls-direct", OFF, ON, GZIP]
SCAN = "scrub-scan"  # the bulk row holding on − off


def load_bulk(path, tick_us):
    out = {}
    if not path.exists():
        return out
    for line in path.open():
        if not line.strip():
            continue
        s, _run, code, nbytes, secs, ticks = (line.rstrip("\n").split("\t") + ["0"] * 6)[:6]
        out.setdefault(s, []).append(dict(code=code, bytes=int(float(nbytes)), secs=float(secs),
                                          cpu_s=int(ticks) * tick_us / 1e6))
    return out


def keepalive_ratios(rows, conns):
    """airlock-mitm and airlock-mitm-echo over airlock-mitm-noscrub: req/s, and in cpu_ratio
    the capacity ratio from CPU per request (off µs/req ÷ on µs/req)."""
    by = {(r["scenario"], r["conns"]): r for r in rows if r["group"] == "mitm-keepalive"}
    out = []
    for c in conns:
        b = by.get((OFF, c))
        for a_name in (ON, ECHO):
            out.append(ratio_row(by.get((a_name, c)), b, "mitm-keepalive", f"{a_name}/{OFF}", c))
    return out


def sse_diff(sse):
    """Scrubbing's own share of the delay per intercepted event: on minus off."""
    by = {r["scenario"]: r for r in sse}
    a, b = by.get(ON), by.get(OFF)
    row = dict(kind="sse", group="sse-tls", scenario=f"{ON} − {OFF}", conns=1)
    if a and b and a["status"] == "ok" and b["status"] == "ok":
        row.update(added_p50_ms=round(a["p50_ms"] - b["p50_ms"], 3),
                   added_p99_ms=round(a["p99_ms"] - b["p99_ms"], 3), status="ok")
    else:
        row["status"] = "n/a"
    return row


def bulk_rows(bulk, fails, meta):
    want = {s: int(meta.get("scrub_gzip_mib" if s == GZIP else "scrub_bulk_mib", 0)) << 20
            for s in BULK}
    out = []
    for s in BULK:
        row = dict(kind="bulk", group="scrub-bulk", scenario=s, conns=1)
        rs = bulk.get(s, [])
        reason = fails.get(f"{s}-scrub-bulk") or (fails.get(s) if s != "tls-direct" else None)
        if reason:
            row["status"] = f"FAILING: {reason}"
        elif not rs:
            row["status"] = "FAILING: not measured"
        if rs:
            mbps = [r["bytes"] / r["secs"] / 1e6 if r["secs"] else 0 for r in rs]
            row.update(mb_per_s_median=round(statistics.median(mbps)),
                       mb_per_s_min=round(min(mbps)), mb_per_s_max=round(max(mbps)))
            if any(r["bytes"] for r in rs):
                row["cpu_s_per_gb"] = round(statistics.median(
                    r["cpu_s"] / (r["bytes"] / 1e9) for r in rs if r["bytes"]), 3)
            bad = [r for r in rs if r["code"] != "200" or r["bytes"] != want[s]]
            row.setdefault("status", f"FAILING: {len(bad)} download(s) short or not 200"
                           if bad else "ok")
        out.append(row)
    by = {r["scenario"]: r for r in out}
    a, b = by[ON], by[OFF]
    ratio = dict(kind="ratio", group="scrub-bulk", scenario=f"{ON}/{OFF}", conns=1, status="n/a")
    scan = dict(kind="bulk", group="scrub-bulk", scenario=SCAN, conns=1, status="n/a")
    if a["status"] == "ok" and b["status"] == "ok" and b.get("mb_per_s_median"):
        ratio.update(ratio=round(a["mb_per_s_median"] / b["mb_per_s_median"], 3), status="ok")
        if a.get("cpu_s_per_gb") and b.get("cpu_s_per_gb"):
            ratio["cpu_ratio"] = round(b["cpu_s_per_gb"] / a["cpu_s_per_gb"], 3)
            cost = round(a["cpu_s_per_gb"] - b["cpu_s_per_gb"], 3)
            # MB per CPU second of the scan alone: its rate on one core
            scan.update(cpu_s_per_gb=cost, status="ok",
                        mb_per_s_median=round(1000 / cost) if cost > 0 else None)
    return out + [ratio, scan]


def targets(add, meta, rat, blk, diff, top):
    """Issue 18's three performance targets (only those of the groups that ran)."""
    if top is not None:
        by = {(r["scenario"], r["conns"]): r for r in rat if r["group"] == "mitm-keepalive"}
        r = by.get((f"{ON}/{OFF}", top), {})
        add(f"MITM keep-alive req/s, scrubbing on / scrub: false (c={top})", r.get("ratio"),
            ">= 0.95", lambda v: v >= 0.95)
        add(f"the same by airlock CPU per request (c={top})", r.get("cpu_ratio"), ">= 0.95",
            lambda v: v >= 0.95)
    if blk:
        by = {r["scenario"]: r for r in blk if r["kind"] == "bulk"}
        mib = meta.get("scrub_bulk_mib", "?")
        # the scan's rate, not the relay's: TLS in and out costs airlock more than 1 s/GB
        # on its own (airlock-mitm-noscrub's row)
        add(f"{mib} MiB intercepted, four secrets: the scan's own CPU s/GB (on − off; <= 1 is "
            ">= 1 GB/s on one core)", by[SCAN].get("cpu_s_per_gb"), "<= 1", lambda v: v <= 1)
    if diff is not None:
        add("SSE delay per intercepted event, p99, scrubbing on − scrub: false, ms",
            diff.get("added_p99_ms"), "<= 0.05", lambda v: v <= 0.05)


def fmt(v, spec):
    return "–" if v is None else spec.format(v)


def section(meta, rows, rat, blk, diff, keepalive_conns):
    L = ["", "## Response scrubbing (issue 18) — on (default) vs `scrub: false`, one airlock", "",
         "`airlock-mitm` is intercepted with scrubbing on (the default), `airlock-mitm-noscrub` "
         "the same four rules (four secrets scanned for) with `scrub: false` on a second port of "
         "the same upstream: airlock relays as before issue 18. `airlock-mitm-echo` fetches a "
         "100 B body that holds the key, so every response has an occurrence to mask. Ratios "
         "are over `airlock-mitm-noscrub`; in brackets from airlock's CPU per request."]
    if keepalive_conns:
        by = {(r["scenario"], r["conns"]): r for r in rows if r["group"] == "mitm-keepalive"}
        rt = {(r["scenario"], r["conns"]): r for r in rat if r["group"] == "mitm-keepalive"}
        L += ["", "| conns | scrub: false req/s | µs/req | on req/s | µs/req | on/off | "
              "echo req/s | µs/req | echo/off |", "|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
        for c in keepalive_conns:
            cells = []
            for s in (OFF, ON, ECHO):
                r = by.get((s, c), {})
                cells += [fmt(r.get("rps_median"), "{:,}"), fmt(r.get("cpu_us_per_req"), "{:.1f}")]
                if s != OFF:
                    q = rt.get((f"{s}/{OFF}", c), {})
                    cells.append(fmt(q.get("ratio"), "{:.3f}") + " ("
                                 + fmt(q.get("cpu_ratio"), "{:.3f}") + ")")
            L.append(f"| {c} | " + " | ".join(cells) + " |")
    if diff is not None:
        L += ["", f"SSE through interception, added by scrubbing ({ON} − {OFF}, delays in the "
              f"SSE table): p50 {fmt(diff.get('added_p50_ms'), '{:.3f}')} ms, p99 "
              f"{fmt(diff.get('added_p99_ms'), '{:.3f}')} ms ({diff['status']})."]
    if blk:
        L += ["", f"### {meta.get('scrub_bulk_mib', '?')} MiB intercepted — curl, one download "
              "at a time", "",
              f"JSON/SSE-like text without a secret from nginx over TLS (`lib/scrub_body.py`), "
              f"`tls-direct` straight from nginx (the ceiling; CPU is nginx's), the others "
              f"through airlock (CPU is airlock's: TLS from nginx, the scan, TLS to curl; one "
              f"worker). `{GZIP}`: {meta.get('scrub_gzip_mib', '?')} MiB of the same text sent "
              "gzip-coded although airlock asked for identity; airlock decodes, scans and relays "
              "it chunked, so MB and GB are of decoded output. MB = 10^6 bytes.", "",
              "| scenario | MB/s (median) | min–max | CPU s/GB | status |",
              "|---|--:|--:|--:|---|"]
        by = {r["scenario"]: r for r in blk if r["kind"] == "bulk"}
        for s in BULK:
            r = by[s]
            spread = (f"{r['mb_per_s_min']:,}–{r['mb_per_s_max']:,}" if "mb_per_s_min" in r
                      else "–")
            L.append(f"| {s} | {fmt(r.get('mb_per_s_median'), '{:,}')} | {spread} | "
                     f"{fmt(r.get('cpu_s_per_gb'), '{:.3f}')} | {r['status']} |")
        ratio = next(r for r in blk if r["kind"] == "ratio")
        scan = by[SCAN]
        L += ["", f"Scrubbing on / off: {fmt(ratio.get('ratio'), '{:.2f}')} of the MB/s, "
              f"{fmt(ratio.get('cpu_ratio'), '{:.2f}')} by airlock's CPU per GB. The scan's own "
              f"cost (on − off): {fmt(scan.get('cpu_s_per_gb'), '{:.3f}')} CPU s/GB, i.e. "
              f"{fmt(scan.get('mb_per_s_median'), '{:,}')} MB per CPU second on one core."]
    return L

"""The post-latency part of the bench report (issue 19, failure 7), used by report.py.

post.tsv: scenario run json-from-post_client.py. Per path (direct to lib/post_server.py,
through airlock, through Squid, both as forward proxies), the wall time of each small POST
python-requests made on one reused connection, pooled over the interleaved rounds: p50,
p99, max (ms), and the same minus direct's ("added"). Failure 7 was a delayed ACK meeting
Nagle on the client (urllib3 sends a proxied request's head and body in two writes): about
44 ms added per request. Target: no more than 2 ms added over direct.
"""
import json

from report_common import pooled_delays

DIRECT = "direct"
SCENARIOS = [DIRECT, "airlock", "squid"]
TARGET_MS = 2.0


def load(path):
    out = {}
    if not path.exists():
        return out
    for line in path.open():
        if line.strip():
            s, _run, js = line.rstrip("\n").split("\t", 2)
            out.setdefault(s, []).append(json.loads(js))
    return out


def rows(post, fails):
    """One row per path; FAILING with the reason when it could not be measured."""
    out = {}
    for s in SCENARIOS:
        row = dict(kind="post", group="post-latency", scenario=s, conns=1)
        rs = post.get(s, [])
        pooled_delays(row, rs, fails.get("post-latency") or fails.get(f"post:{s}"), "rounds",
                      "requests")
        if "requests" in row:
            row["sends_per_request"] = max(r.get("sends_per_request", 0) for r in rs)
        out[s] = row
    d = out[DIRECT]
    for s in SCENARIOS[1:]:
        row = out[s]
        if row["status"] == "ok" and d["status"] == "ok":
            row.update(added_p50_ms=round(row["p50_ms"] - d["p50_ms"], 3),
                       added_p99_ms=round(row["p99_ms"] - d["p99_ms"], 3))
    return list(out.values())


def targets(add, post):
    """Issue 19's: airlock adds no more than 2 ms over direct to a small POST, at the median
    and at p99 (the delayed-ACK wait hit every request; p99 also catches an occasional one)."""
    if not post:
        return
    a = next(r for r in post if r["scenario"] == "airlock")
    for p in ("p50", "p99"):
        add(f"small POST added over direct, {p} (python-requests, reused connection: airlock − "
            "direct), ms", a.get(f"added_{p}_ms"), f"<= {TARGET_MS:g}",
            lambda v: v <= TARGET_MS)


def fmt(v, spec="{:.3f}"):
    return "–" if v is None else spec.format(v)


def section(meta, post):
    L = ["", "## Small POST latency — python-requests, one reused connection (issue 19)", "",
         f"Debian's /usr/bin/python3 with requests {meta.get('requests', '?')} "
         "(`lib/post_client.py`) POSTs a 78 B JSON body to `lib/post_server.py` (answers in one "
         "write), directly and through each forward proxy (plain http, absolute-form), all on "
         f"one `requests.Session`: {meta.get('runs', '?')} interleaved rounds of one connection "
         f"per path, {meta.get('post_requests', '?')} requests pooled (after "
         f"{meta.get('post_warmup', '?')} uncounted ones per round). Time = the wall time of one "
         "`s.post()`, ms; \"added\" is the path's percentile minus direct's. \"sends\" is how "
         "many send() calls urllib3 made per request (2: the head, then the body — the pattern "
         "that met a delayed ACK, about 44 ms per request, before the fix).", "",
         "| path | requests | sends | p50 | p99 | max | added p50 | added p99 | status |",
         "|---|--:|--:|--:|--:|--:|--:|--:|---|"]
    for r in post:
        L.append(f"| {r['scenario']} | {fmt(r.get('requests'), '{:,}')} | "
                 f"{fmt(r.get('sends_per_request'), '{}')} | {fmt(r.get('p50_ms'))} | "
                 f"{fmt(r.get('p99_ms'))} | {fmt(r.get('max_ms'))} | "
                 f"{fmt(r.get('added_p50_ms'))} | {fmt(r.get('added_p99_ms'))} | {r['status']} |")
    a = next(r for r in post if r["scenario"] == "airlock")
    verdicts = [f"{p} {verdict(a.get(f'added_{p}_ms'))}" for p in ("p50", "p99")]
    L += ["", f"Added by airlock per small POST: p50 {fmt(a.get('added_p50_ms'))} ms, p99 "
          f"{fmt(a.get('added_p99_ms'))} ms; target <= {TARGET_MS:g} ms: "
          + ", ".join(verdicts) + ". The delayed-ACK wait moved both by about 44 ms; the p99 "
          "of a few hundred requests is their 2nd or 3rd slowest, so one descheduling of a "
          "process on shared cores moves it: read p99 only from an idle machine."]
    return L


def verdict(v):
    return "n/a" if v is None else "met" if v <= TARGET_MS else "MISSED"

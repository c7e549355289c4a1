#!/usr/bin/env python3
"""Turns hey's text summary (stdin) into the one BENCH line wrk-absolute.lua prints:
  BENCH rps=... p50_us=... p99_us=... requests=... bytes=... errors=... non2xx=... detail=...
so run.sh and report.py treat both load tools alike.

hey counts a request in Requests/sec and in the latency percentiles only when it got a
response; failed requests are listed under "Error distribution" (errors here, detail names
the most frequent one). non2xx counts responses outside 200-299. hey prints its latencies
in seconds with 4 decimals, so p50/p99 resolve to 100 us. No summary at all (hey crashed
or was killed) gives errors=1 detail=no-summary.
"""
import re
import sys


def parse(text):
    out = dict(rps=0.0, p50_us=0, p99_us=0, requests=0, bytes=0, errors=0, non2xx=0,
               detail="-")
    if "Requests/sec:" not in text:
        out.update(errors=1, detail="no-summary")
        return out
    section = None
    top_error, top_count = "", 0
    for line in text.splitlines():
        s = line.strip()
        if s.endswith("distribution:"):
            section = s
            continue
        if m := re.match(r"Requests/sec:\s+([\d.]+)", s):
            out["rps"] = float(m.group(1))
        elif m := re.match(r"Total data:\s+(\d+) bytes", s):
            out["bytes"] = int(m.group(1))
        elif section == "Latency distribution:" and (m := re.match(r"(\d+)% in ([\d.]+) secs", s)):
            if m.group(1) in ("50", "99"):
                out[f"p{m.group(1)}_us"] = round(float(m.group(2)) * 1e6)
        elif section == "Status code distribution:" and (m := re.match(r"\[(\d+)\]\s+(\d+) resp", s)):
            out["requests"] += int(m.group(2))
            if not 200 <= int(m.group(1)) < 300:
                out["non2xx"] += int(m.group(2))
        elif section == "Error distribution:" and (m := re.match(r"\[(\d+)\]\s+(.*)", s)):
            out["errors"] += int(m.group(1))
            if int(m.group(1)) > top_count:
                top_error, top_count = m.group(2), int(m.group(1))
    if top_error:
        # the BENCH line is split on spaces; keep the message readable but in one field
        out["detail"] = re.sub(r"\s+", "_", top_error)[-100:]
    return out


def main():
    r = parse(sys.stdin.read())
    print("BENCH rps={rps:.1f} p50_us={p50_us} p99_us={p99_us} requests={requests} "
          "bytes={bytes} errors={errors} non2xx={non2xx} detail={detail}".format(**r))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Small-POST latency probe of the post-latency group (issue 19, failure 7). Runs under
Debian's /usr/bin/python3 with its python3-requests, the client that showed the delay:
--warmup + --requests POSTs of a small JSON body on ONE requests.Session (one reused
connection), directly or through a forward proxy (plain http: urllib3 sends the
absolute-form head and the body in two send() calls). Prints one JSON line:

  {"requests": N, "connects": 1, "sends_per_request": 2, "p50_us": .., "p99_us": ..,
   "max_us": .., "delays_us": [...]}
  {"error": "..."}          (a status other than 200, a wrong answer, a second connection)

Each delay is the wall time of one s.post() call (time.perf_counter), the first --warmup
(connection set-up included) not counted. The same code times every path, so requests' own
cost is in direct's figure too and cancels in "added". Only the proxy given here is used
(trust_env off). The connection count is checked: a path that does not keep the connection
is not measuring a reused connection and is an error.
"""
import argparse
import http.client
import json
import sys
import time

import requests
import urllib3.connection

# 78 bytes, as report_post.py's text says
BODY = b'{"model":"bench","max_tokens":1,"messages":[{"role":"user","content":"ping"}]}'


def pct(sorted_values, p):
    """Nearest-rank percentile of a sorted list."""
    return sorted_values[max(0, -(-len(sorted_values) * p // 100) - 1)]


def count_calls(cls, name, counter):
    original = getattr(cls, name)

    def counted(self, *args, **kwargs):
        counter[name] += 1
        return original(self, *args, **kwargs)

    setattr(cls, name, counted)


def measure(url, proxy, n, warmup, timeout):
    counter = {"connect": 0, "send": 0}
    count_calls(urllib3.connection.HTTPConnection, "connect", counter)
    count_calls(http.client.HTTPConnection, "send", counter)
    s = requests.Session()
    s.trust_env = False
    proxies = {"http": f"http://{proxy}"} if proxy else {}
    delays, sends = [], 0
    for i in range(warmup + n):
        sends_before = counter["send"]
        t = time.perf_counter()
        r = s.post(url, data=BODY, headers={"Content-Type": "application/json"},
                   proxies=proxies, timeout=timeout)
        elapsed = time.perf_counter() - t
        if r.status_code != 200:
            return {"error": f"request {i + 1}: status {r.status_code}: {r.text[:120]!r}"}
        if r.json().get("read") != len(BODY):
            return {"error": f"request {i + 1}: the upstream read {r.text[:120]!r}, "
                             f"not {len(BODY)} bytes"}
        if i >= warmup:
            delays.append(round(elapsed * 1e6))
            sends = counter["send"] - sends_before
    if counter["connect"] != 1:
        return {"error": f"{counter['connect']} connections for {warmup + n} requests "
                         "(the path does not keep the connection)"}
    d = sorted(delays)
    return {"requests": n, "connects": counter["connect"], "sends_per_request": sends,
            "p50_us": pct(d, 50), "p99_us": pct(d, 99), "max_us": d[-1], "delays_us": delays}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="http://H:P/post")
    ap.add_argument("--proxy", help="H:P of a forward proxy (absolute-form)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    a = ap.parse_args()
    try:
        out = measure(a.url, a.proxy, a.requests, a.warmup, a.timeout)
    except (requests.RequestException, ValueError) as e:
        out = {"error": f"{type(e).__name__}: {e}"[:300]}
    print(json.dumps(out))
    return 0 if "error" not in out else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What a host the intercepting proxy has never seen costs: leaf certificate minted.

For each name (h1.bench.test ... hN.bench.test, none seen before) two probes run back to
back through the proxy, each on a new connection: CONNECT name:port, a full TLS handshake
verified against the proxy's CA (no session resumption), then one GET of /small.
  first   the proxy has to mint a leaf for the name (and open an upstream connection)
  repeat  the same name again: leaf cached (and, for a pooling proxy, upstream idle)
"handshake" is connect + CONNECT + TLS (what the leaf mint adds to); "total" adds the
request. Prints one JSON object with the medians over the names, in ms:
  {"names": N, "first_handshake_ms", "repeat_handshake_ms", "added_handshake_ms",
   "first_total_ms", "repeat_total_ms", "added_total_ms", "error": "..."}
added_* is the median over names of (first - repeat), so a slow moment of the machine
shifts one pair rather than one side.
Usage: new_host.py --proxy-port P --cafile ca.pem --port UPSTREAM_PORT --header 'k: v'
       NAME...
"""
import argparse
import json
import ssl
import statistics
import sys
import time

sys.dont_write_bytecode = True  # keeps bench/lib free of __pycache__
from idle_conns import open_tunnel, read_response  # noqa: E402


def probe(a, ctx, name):
    """(handshake_s, total_s) for one new connection to NAME through the proxy."""
    target = f"{name}:{a.port}"
    t0 = time.perf_counter()
    tls = open_tunnel(a.proxy_port, target, ctx)
    with tls:
        t1 = time.perf_counter()
        extra = "".join(f"{h}\r\n" for h in a.header)
        tls.sendall(f"GET /small HTTP/1.1\r\nHost: {target}\r\n{extra}\r\n".encode())
        if (status := read_response(tls)) != 200:
            raise ConnectionError(f"GET https://{target}/small answered {status}")
        t2 = time.perf_counter()
    return t1 - t0, t2 - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy-port", type=int, required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--port", type=int, required=True, help="upstream port in the CONNECT")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("names", nargs="+")
    a = ap.parse_args()
    ctx = ssl.create_default_context(cafile=a.cafile)
    result = {"names": len(a.names), "error": ""}
    first, repeat = [], []
    try:
        for name in a.names:
            first.append(probe(a, ctx, name))
            repeat.append(probe(a, ctx, name))
    except Exception as e:  # reported, not raised: the caller marks the proxy failing
        result["error"] = f"{type(e).__name__}: {e} (after {len(repeat)} names)"
    if first and repeat:
        n = len(repeat)
        for i, part in enumerate(["handshake", "total"]):
            f = [p[i] * 1000 for p in first[:n]]
            r = [p[i] * 1000 for p in repeat]
            result[f"first_{part}_ms"] = round(statistics.median(f), 3)
            result[f"repeat_{part}_ms"] = round(statistics.median(r), 3)
            result[f"added_{part}_ms"] = round(statistics.median(x - y for x, y in zip(f, r)), 3)
    print(json.dumps(result))
    return 1 if result["error"] else 0


if __name__ == "__main__":
    sys.exit(main())

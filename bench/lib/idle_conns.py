#!/usr/bin/env python3
"""Memory cost of idle keep-alive connections through a forward proxy.

Opens N connections to the proxy, sends one absolute-form GET on each, reads the whole
response (keeping the connection open), then holds all N idle and reads the proxy's VmRSS
from /proc/PID/status before and after. Prints one JSON object:
  {"conns": N, "ok": ..., "open": ..., "rss_before_kib": ..., "rss_after_kib": ...,
   "kib_per_conn": ..., "error": "..."}
Usage: idle_conns.py --proxy-port P --pid PID --url http://127.0.0.1:U/small [--conns 1000]
"""
import argparse
import json
import resource
import socket
import sys
import time


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def read_response(sock):
    """Reads one response with Content-Length; returns its status code."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before response head")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk
    return status


def still_open(sock):
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy-port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--settle", type=float, default=1.0)
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, a.conns + 100)), hard))
    authority = a.url.split("/")[2]
    request = (f"GET {a.url} HTTP/1.1\r\nHost: {authority}\r\n"
               f"User-Agent: airlock-bench\r\n\r\n").encode()

    result = {"conns": a.conns, "ok": 0, "open": 0, "error": ""}
    socks = []
    try:
        time.sleep(a.settle)
        result["rss_before_kib"] = vm_rss_kib(a.pid)
        for _ in range(a.conns):
            s = socket.create_connection(("127.0.0.1", a.proxy_port), timeout=5)
            socks.append(s)
            s.sendall(request)
            if read_response(s) == 200:
                result["ok"] += 1
        time.sleep(a.settle)
        result["rss_after_kib"] = vm_rss_kib(a.pid)
        result["open"] = sum(still_open(s) for s in socks)
        delta = result["rss_after_kib"] - result["rss_before_kib"]
        result["kib_per_conn"] = round(delta / a.conns, 2)
    except Exception as e:  # reported, not raised: the caller marks the peer failing
        result["error"] = f"{type(e).__name__}: {e} (after {len(socks)} connections)"
    finally:
        for s in socks:
            s.close()
    if not result["error"] and (result["ok"] != a.conns or result["open"] != a.conns):
        result["error"] = f"{result['ok']} of {a.conns} got 200, {result['open']} still open"
    print(json.dumps(result))
    return 1 if result["error"] else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Memory cost of idle keep-alive connections through a forward proxy.

Plain (default): opens N connections to the proxy, sends one absolute-form GET on each,
reads the whole response (keeping the connection open), then holds all N idle.
Intercepted (--connect HOST:PORT --cafile CA): each connection sends CONNECT HOST:PORT and
completes a TLS handshake verified against CA (the intercepting proxy's); once all N are
up, one GET goes out on every connection before any response is read, so the proxy has N
requests in flight and opens as many upstream connections as it needs; the responses are
read and all N held idle. The proxy's cost is then that of N connection pairs (client TLS
+ whatever it keeps upstream). One warm-up connection runs first, so the leaf certificate
for HOST (minted once per host, not per connection) is not counted.
Reads the proxy's VmRSS (and its open file descriptors) from /proc/PID before and after.
Prints one JSON object:
  {"conns": N, "ok": ..., "open": ..., "rss_before_kib": ..., "rss_after_kib": ...,
   "kib_per_conn": ..., "fds_added": ..., "error": "..."}
Usage: idle_conns.py --proxy-port P --pid PID --url http://127.0.0.1:U/small [--conns 1000]
       idle_conns.py --proxy-port P --pid PID --url https://HOST:PORT/small \\
                     --connect HOST:PORT --cafile CA [--header 'k: v'] [--conns 1000]
"""
import argparse
import json
import os
import resource
import select
import socket
import ssl
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
    """An idle connection has nothing to read; readable means the proxy closed it (for
    TLS, a close_notify or EOF)."""
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
    if not poller.poll(0):
        return True
    if isinstance(sock, ssl.SSLSocket):
        return False
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def open_tunnel(proxy_port, authority, ctx):
    """A connection through CONNECT AUTHORITY with the TLS handshake done (SNI and
    verification for AUTHORITY's host); raises when any step fails."""
    raw = socket.create_connection(("127.0.0.1", proxy_port), timeout=10)
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = raw.recv(4096)
            if not chunk:
                raise ConnectionError(f"CONNECT {authority}: closed before the response")
            buf += chunk
        status_line = buf.split(b"\r\n", 1)[0].decode("latin-1")
        if status_line.split(" ", 2)[1] != "200":
            raise ConnectionError(f"CONNECT {authority} answered '{status_line}'")
        return ctx.wrap_socket(raw, server_hostname=authority.rsplit(":", 1)[0])
    except BaseException:
        raw.close()
        raise


def open_idle(a, request, socks, result):
    """Opens a.conns connections into socks, one request each; counts 200s in result."""
    if not a.connect:
        for _ in range(a.conns):
            s = socket.create_connection(("127.0.0.1", a.proxy_port), timeout=5)
            socks.append(s)
            s.sendall(request)
            if read_response(s) == 200:
                result["ok"] += 1
        return
    ctx = ssl.create_default_context(cafile=a.cafile)
    warm = open_tunnel(a.proxy_port, a.connect, ctx)
    warm.sendall(request)
    read_response(warm)
    warm.close()
    time.sleep(a.settle)
    result["rss_before_kib"] = vm_rss_kib(a.pid)
    result["fds_before"] = open_fds(a.pid)
    for _ in range(a.conns):
        socks.append(open_tunnel(a.proxy_port, a.connect, ctx))
    for s in socks:
        s.sendall(request)
    for s in socks:
        if read_response(s) == 200:
            result["ok"] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy-port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--connect", help="HOST:PORT: go through CONNECT and TLS (intercepted)")
    ap.add_argument("--cafile", help="the intercepting proxy's CA (with --connect)")
    ap.add_argument("--header", action="append", default=[], help="extra request header")
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, a.conns + 100)), hard))
    authority = a.url.split("/")[2]
    target = "/" + a.url.split("/", 3)[3] if a.connect else a.url
    extra = "".join(f"{h}\r\n" for h in a.header)
    request = (f"GET {target} HTTP/1.1\r\nHost: {authority}\r\n"
               f"User-Agent: airlock-bench\r\n{extra}\r\n").encode()

    result = {"conns": a.conns, "ok": 0, "open": 0, "error": ""}
    socks = []
    try:
        time.sleep(a.settle)
        result["rss_before_kib"] = vm_rss_kib(a.pid)
        result["fds_before"] = open_fds(a.pid)
        open_idle(a, request, socks, result)
        time.sleep(a.settle)
        result["rss_after_kib"] = vm_rss_kib(a.pid)
        fds_after = open_fds(a.pid)
        if fds_after is not None and result["fds_before"] is not None:
            result["fds_added"] = fds_after - result["fds_before"]
        result["open"] = sum(still_open(s) for s in socks)
        delta = result["rss_after_kib"] - result["rss_before_kib"]
        result["kib_per_conn"] = round(delta / a.conns, 2)
    except Exception as e:  # reported, not raised: the caller marks the peer failing
        result["error"] = f"{type(e).__name__}: {e} (after {len(socks)} connections)"
    finally:
        for s in socks:
            s.close()
    result.pop("fds_before", None)
    if not result["error"] and (result["ok"] != a.conns or result["open"] != a.conns):
        result["error"] = f"{result['ok']} of {a.conns} got 200, {result['open']} still open"
    print(json.dumps(result))
    return 1 if result["error"] else 0


if __name__ == "__main__":
    sys.exit(main())

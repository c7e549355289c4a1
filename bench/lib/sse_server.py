#!/usr/bin/env python3
"""The SSE upstream of bench scenario 7 (stdlib only): GET /sse?n=N streams N server-sent
events, one every --interval-ms, each carrying the moment it is handed to the kernel:

    id: <seq>\\ndata: <time.monotonic_ns()>\\n\\n

CLOCK_MONOTONIC is one clock for every process on the machine, so lib/sse_client.py can
subtract it from its own receive time. --port serves plain HTTP, --tls-port the same over
TLS with --cert/--key (given twice, on two ports: airlock names one with a scrubbing rule and
the other with "scrub: false", so both run against one server); over TLS a request whose
x-api-key is not $BENCH_KEY gets 403 (so an intercepting proxy that does not inject fails,
as with nginx's /small).

HTTP/1.1 requests get a chunked response (one chunk per event) and the connection stays
open for the next request (proxies that pool upstream connections reuse it); HTTP/1.0
requests or "Connection: close" get a close-delimited body. TCP_NODELAY on every socket, and
"X-Accel-Buffering: no" (what SSE servers send so that nginx relays unbuffered). Listens on
127.0.0.1 only; a thread per connection. Runs until killed.
"""
import argparse
import os
import socket
import ssl
import threading
import time
from urllib.parse import parse_qs, urlsplit

MAX_EVENTS = 100_000
HEAD_LIMIT = 16384


def read_head(conn, buf):
    """Returns (head bytes, rest) or (None, b"") on EOF or an oversized head."""
    while b"\r\n\r\n" not in buf:
        if len(buf) > HEAD_LIMIT:
            return None, b""
        chunk = conn.recv(4096)
        if not chunk:
            return None, b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def reply(conn, status, body, close=True):
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
    conn.sendall((head + ("Connection: close\r\n" if close else "") + "\r\n").encode() + body)


def stream(conn, n, interval_ns, chunked):
    head = ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "X-Accel-Buffering: no\r\n"
            + ("Transfer-Encoding: chunked\r\n" if chunked else "Connection: close\r\n") + "\r\n")
    conn.sendall(head.encode())
    due = time.monotonic_ns()
    for i in range(n):
        now = time.monotonic_ns()
        if due > now:
            time.sleep((due - now) / 1e9)
        elif now - due > interval_ns:  # fell behind (descheduled): no burst to catch up
            due = now
        due += interval_ns
        ts = time.monotonic_ns()
        event = f"id: {i}\ndata: {ts}\n\n".encode()
        conn.sendall(b"%x\r\n%s\r\n" % (len(event), event) if chunked else event)
    if chunked:
        conn.sendall(b"0\r\n\r\n")


def serve(conn, key, interval_ns):
    buf = b""
    while True:
        head, buf = read_head(conn, buf)
        if head is None:
            return
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        if len(parts) != 3:
            reply(conn, "400 Bad Request", b"bad request line\n")
            return
        method, target, version = parts
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers or "transfer-encoding" in headers:
            reply(conn, "400 Bad Request", b"no request bodies here\n")
            return
        close = version == "HTTP/1.0" or "close" in headers.get("connection", "").lower()
        url = urlsplit(target)
        if method != "GET" or url.path != "/sse":
            reply(conn, "404 Not Found", b"GET /sse?n=N\n", close)
        elif key is not None and headers.get("x-api-key") != key:
            reply(conn, "403 Forbidden", b"x-api-key is not the bench credential\n", close)
        else:
            try:
                n = min(int(parse_qs(url.query).get("n", ["100"])[0]), MAX_EVENTS)
            except ValueError:
                reply(conn, "400 Bad Request", b"n must be a number\n")
                return
            stream(conn, n, interval_ns, chunked=not close)
        if close:
            return


def handle(conn, key, interval_ns, tls_ctx):
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(300)
        if tls_ctx is not None:
            conn = tls_ctx.wrap_socket(conn, server_side=True)
        serve(conn, key, interval_ns)
    except (OSError, ssl.SSLError):
        pass  # a client that went away mid-stream
    finally:
        try:
            conn.close()
        except OSError:
            pass


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(128)
    return s


def accept_loop(lsock, key, interval_ns, tls_ctx):
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=handle, args=(conn, key, interval_ns, tls_ctx),
                         daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls-port", type=int, action="append", default=[])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--interval-ms", type=float, default=10.0)
    a = ap.parse_args()
    interval_ns = int(a.interval_ms * 1e6)
    loops = [(listen(a.port), None, None)]
    if a.tls_port:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(a.cert, a.key)
        loops += [(listen(port), os.environ["BENCH_KEY"], ctx) for port in a.tls_port]
    for lsock, key, ctx in loops[1:]:
        threading.Thread(target=accept_loop, args=(lsock, key, interval_ns, ctx),
                         daemon=True).start()
    lsock, key, ctx = loops[0]
    accept_loop(lsock, key, interval_ns, ctx)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""SSE delay probe for bench scenario 7 (stdlib only, raw sockets): reads --warmup +
--events events from lib/sse_server.py, directly or through a proxy, and prints one JSON
line with the per-event delay (receive time - the send time the server put in the event):

  {"events": N, "p50_us": .., "p99_us": .., "max_us": .., "delays_us": [...]}
  {"error": "..."}                      (anything else: no 200, lost events, stalled ...)

  --url http://H:P/sse                  direct, or a reverse proxy (origin-form)
  --url http://H:P/sse --proxy A:B      forward proxy (absolute-form request line)
  --url https://H:P/sse --proxy A:B     CONNECT H:P, then TLS verified against --cafile
  --url https://H:P/sse                 direct TLS

Nothing buffers on this side: every recv() returns whatever bytes have arrived, the receive
time is taken as it returns, and each event completed by those bytes gets that time. The
first --warmup events are read but not counted. The same code reads every path, so its own
overhead (and the server's) is in direct's figure too and cancels in "added".
"""
import argparse
import json
import socket
import ssl
import sys
import time
from urllib.parse import urlsplit


class Fail(Exception):
    pass


class Dechunker:
    """Incremental Transfer-Encoding: chunked decoder (trailers ignored)."""

    def __init__(self):
        self.buf, self.remaining, self.need_crlf, self.done = b"", 0, False, False

    def feed(self, data):
        self.buf += data
        out = []
        while not self.done:
            if self.remaining == 0:
                if self.need_crlf:
                    if len(self.buf) < 2:
                        break
                    if self.buf[:2] != b"\r\n":
                        raise Fail("bad chunk framing")
                    self.buf, self.need_crlf = self.buf[2:], False
                i = self.buf.find(b"\r\n")
                if i < 0:
                    break
                try:
                    size = int(self.buf[:i].split(b";")[0], 16)
                except ValueError:
                    raise Fail("bad chunk size line") from None
                self.buf = self.buf[i + 2:]
                if size == 0:
                    self.done = True
                    break
                self.remaining = size
            if not self.buf:
                break
            take = self.buf[:self.remaining]
            out.append(take)
            self.buf = self.buf[len(take):]
            self.remaining -= len(take)
            if self.remaining == 0:
                self.need_crlf = True
        return b"".join(out)


def percentile(sorted_values, p):  # nearest rank
    return sorted_values[max(0, -(-len(sorted_values) * p // 100) - 1)]


def open_stream(a, url):
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    authority = f"{host}:{port}"
    target = url.path + (f"?{url.query}" if url.query else "")
    if a.proxy:
        phost, pport = a.proxy.rsplit(":", 1)
        sock = socket.create_connection((phost, int(pport)), timeout=5)
    else:
        sock = socket.create_connection((host, port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if url.scheme == "https":
        if a.proxy:
            sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    raise Fail("proxy closed the connection after CONNECT")
                buf += chunk
            status = buf.split(b"\r\n", 1)[0].decode("latin-1")
            if len(status.split()) < 2 or status.split()[1] != "200":
                raise Fail(f"CONNECT got '{status}'")
        ctx = ssl.create_default_context(cafile=a.cafile)
        sock = ctx.wrap_socket(sock, server_hostname=host)
    elif a.proxy:
        target = url.geturl()  # absolute-form to the forward proxy
    extra = "".join(f"{h}\r\n" for h in a.header)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nAccept: text/event-stream\r\n"
                 f"Cache-Control: no-cache\r\n{extra}\r\n".encode())
    return sock


def measure(a):
    want = a.warmup + a.events
    url = urlsplit(a.url)
    if url.query:
        raise Fail("--url takes no query; the client adds n=")
    url = urlsplit(f"{a.url}?n={want}")
    deadline = time.monotonic() + want * a.interval_ms / 1000 * 2 + 10
    sock = open_stream(a, url)
    head, body_kind, dechunk, length = b"", None, None, None
    events_buf, delays, seq = b"", [], 0
    done = False
    while not done:
        left = deadline - time.monotonic()
        if left <= 0 and seq >= want:
            break
        if left <= 0:
            raise Fail(f"deadline passed after {seq} of {want} events")
        sock.settimeout(min(left, 5.0))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            if seq >= want:
                break
            raise Fail(f"nothing for 5 s after {seq} of {want} events") from None
        t_ns = time.monotonic_ns()
        if not data:
            if body_kind == "close":
                break
            raise Fail(f"connection closed after {seq} of {want} events")
        if body_kind is None:
            head += data
            if b"\r\n\r\n" not in head:
                if len(head) > 16384:
                    raise Fail("response head too large")
                continue
            head, data = head.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split()
            if len(parts) < 2 or parts[1] != "200":
                raise Fail(f"got '{lines[0]}'")
            hdrs = {k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:])}
            if not hdrs.get("content-type", "").startswith("text/event-stream"):
                raise Fail(f"content-type '{hdrs.get('content-type', '')}'")
            if "chunked" in hdrs.get("transfer-encoding", "").lower():
                body_kind, dechunk = "chunked", Dechunker()
            elif "content-length" in hdrs:
                body_kind, length = "length", int(hdrs["content-length"])
            else:
                body_kind = "close"
        if body_kind == "chunked":
            payload = dechunk.feed(data)
            done = dechunk.done
        else:
            payload = data
            if body_kind == "length":
                length -= len(data)
                done = length <= 0
        events_buf += payload
        while b"\n\n" in events_buf:
            event, events_buf = events_buf.split(b"\n\n", 1)
            fields = dict(line.split(": ", 1) for line in event.decode().split("\n")
                          if ": " in line)
            if fields.get("id") != str(seq):
                raise Fail(f"event {seq} expected, got id {fields.get('id')!r}")
            if seq >= a.warmup:
                delays.append((t_ns - int(fields["data"])) / 1000)
            seq += 1
        if seq >= want and not done:
            # all events in: let the response end (the proxy's upstream connection stays
            # clean for the next stream) but do not wait long for it
            deadline = min(deadline, time.monotonic() + 2)
    sock.close()
    if seq < want:
        raise Fail(f"stream ended after {seq} of {want} events")
    return delays


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--proxy")
    ap.add_argument("--cafile")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--events", type=int, default=500, choices=range(1, 100_001),
                    metavar="N (1..100000)")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--interval-ms", type=float, default=10.0)
    a = ap.parse_args()
    try:
        delays = measure(a)
    except Fail as e:
        print(json.dumps({"error": str(e)}))
        return
    except (OSError, ssl.SSLError, ValueError) as e:
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return
    s = sorted(delays)
    print(json.dumps({"events": len(s), "p50_us": round(percentile(s, 50), 1),
                      "p99_us": round(percentile(s, 99), 1), "max_us": round(s[-1], 1),
                      "delays_us": [round(d, 1) for d in delays]}))


if __name__ == "__main__":
    sys.exit(main())

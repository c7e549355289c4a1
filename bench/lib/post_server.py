#!/usr/bin/env python3
"""The upstream of the post-latency group (issue 19, failure 7; stdlib only): answers
POST /post with 200 and a small JSON body naming the length of the body it read, head and
body in ONE write (so any delay measured is the client's or the proxy's, never a split
response waiting on an ACK). Keep-alive: HTTP/1.1 requests stay on the connection.
nginx's static server refuses POST (405), hence this.

Bounded: heads up to 16 KiB, bodies up to 1 MiB (Content-Length only), a 300 s idle
timeout per connection. Listens on 127.0.0.1 only; a thread per connection. Runs until
killed.
"""
import argparse
import socket
import threading

HEAD_LIMIT = 16384
BODY_LIMIT = 1 << 20


def reply(conn, status, body, close):
    head = (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "")
            + "\r\n")
    conn.sendall(head.encode() + body)  # one write: head and body in one segment


def serve(conn):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            if len(buf) > HEAD_LIMIT:
                return
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        if len(parts) != 3:
            reply(conn, "400 Bad Request", b'{"error":"bad request line"}', True)
            return
        method, target, version = parts
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "transfer-encoding" in headers:
            reply(conn, "411 Length Required", b'{"error":"Content-Length only"}', True)
            return
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= BODY_LIMIT:
            reply(conn, "400 Bad Request", b'{"error":"bad Content-Length"}', True)
            return
        while len(buf) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
        buf = buf[length:]
        close = version == "HTTP/1.0" or "close" in headers.get("connection", "").lower()
        path = target.split("?", 1)[0]
        if method == "POST" and path.endswith("/post"):  # origin-form, or absolute-form
            reply(conn, "200 OK", b'{"ok":true,"read":%d}' % length, close)
        else:
            reply(conn, "404 Not Found", b'{"error":"POST /post"}', close)
        if close:
            return


def handle(conn):
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(300)
        serve(conn)
    except OSError:
        pass  # a client that went away
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", a.port))
    lsock.listen(128)
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()

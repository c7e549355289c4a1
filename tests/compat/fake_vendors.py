#!/usr/bin/env python3
"""Stand-in for the vendors' APIs behind airlock in `make compat`, on loopback only.

One TLS listener answers for every vendor host (airlock's `resolve:` points them here): the
Anthropic Messages API, the OpenAI Responses API (SSE and Codex's WebSocket), Gemini's
generateContent, and a recorder for everything else. Each request is appended to a JSONL
file with its host, path and headers, so the driver can check which key reached the vendor
and that no placeholder and no telemetry did.

Every answer echoes the credential the request carried (`key=<value>`), the way a request
bin would: airlock must mask it before the client prints it.
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "airlock-compat-pong"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RECORD_LOCK = threading.Lock()


def credential_of(headers, path):
    for name in ("x-api-key", "x-goog-api-key", "authorization", "api-key"):
        if headers.get(name):
            return headers[name]
    if "key=" in path:
        return path.split("key=", 1)[1].split("&", 1)[0]
    return "none"


def answer_text(headers, path):
    return f"{ANSWER} key={credential_of(headers, path)}"


def sse(event, data):
    head = f"event: {event}\n" if event else ""
    return (head + "data: " + json.dumps(data) + "\n\n").encode()


def anthropic_events(model, text):
    usage = {"input_tokens": 12, "output_tokens": 1}
    message = {"id": "msg_compat", "type": "message", "role": "assistant", "model": model,
               "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}
    yield sse("message_start", {"type": "message_start", "message": message})
    yield sse("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "text", "text": ""}})
    yield sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "text_delta", "text": text}})
    yield sse("content_block_stop", {"type": "content_block_stop", "index": 0})
    yield sse("message_delta", {"type": "message_delta",
                                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                "usage": {"output_tokens": 6}})
    yield sse("message_stop", {"type": "message_stop"})


def anthropic_message(model, text):
    return {"id": "msg_compat", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 6}}


def responses_events(model, text):
    rid = "resp_compat"
    item = {"type": "message", "id": "msg_compat", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}
    usage = {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": 6, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": 18}
    base = {"id": rid, "object": "response", "created_at": int(time.time()), "model": model}
    yield {"type": "response.created", "sequence_number": 0,
           "response": dict(base, status="in_progress", output=[])}
    yield {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
           "item": dict(item, status="in_progress", content=[])}
    yield {"type": "response.output_text.delta", "sequence_number": 2, "output_index": 0,
           "item_id": "msg_compat", "content_index": 0, "delta": text}
    yield {"type": "response.output_text.done", "sequence_number": 3, "output_index": 0,
           "item_id": "msg_compat", "content_index": 0, "text": text}
    yield {"type": "response.output_item.done", "sequence_number": 4, "output_index": 0,
           "item": item}
    yield {"type": "response.completed", "sequence_number": 5,
           "response": dict(base, status="completed", output=[item], usage=usage)}


def gemini_chunk(text):
    return {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 6,
                              "totalTokenCount": 18},
            "modelVersion": "gemini-2.5-flash"}


def sample_of(schema, text):
    """A value of a JSON schema (Gemini's OBJECT/STRING spelling or the usual one): clients
    that ask for structured output (Gemini CLI's model router) retry until they get one."""
    kind = str(schema.get("type", "object")).lower()
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "object":
        return {name: sample_of(sub, text) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample_of(schema.get("items", {}), text)] if schema.get("minItems") else []
    if kind in ("integer", "number"):
        return schema.get("minimum", 10)
    if kind == "boolean":
        return False
    return text


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "compat-vendors"

    def log_message(self, *args):
        pass

    def lower_headers(self):
        return {k.lower(): v for k, v in self.headers.items()}

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def record(self, body, websocket=False, frames=None):
        entry = {"time": time.time(), "method": self.command, "path": self.path,
                 "host": self.headers.get("Host", ""), "headers": self.lower_headers(),
                 "body": body.decode("utf-8", "replace")[:4096], "websocket": websocket}
        if frames is not None:
            entry["frames"] = frames
        with RECORD_LOCK, open(self.server.record_path, "a") as out:
            out.write(json.dumps(entry) + "\n")

    def send_json(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_stream(self, chunks):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        self.record(b"")
        host = self.headers.get("Host", "").split(":")[0]
        if self.path.split("?")[0] in ("/user", "/api/v4/user", "/api/whoami-v2"):
            # Who the token belongs to (GitHub, GitLab, Hugging Face): the echo as the name.
            text = answer_text(self.lower_headers(), self.path)
            return self.send_json(200, {"login": text, "username": text, "name": text, "id": 1,
                                        "type": "user", "auth": {}})
        if self.path.startswith("/v1/models") and host == "api.openai.com":
            return self.send_json(200, {"object": "list", "data": [
                {"id": "gpt-5", "object": "model", "created": 0, "owned_by": "compat"}]})
        if self.path.startswith("/v1beta/models") and "/" not in self.path[len("/v1beta/models"):].lstrip("/"):
            return self.send_json(200, {"models": [{"name": "models/gemini-2.5-flash"}]})
        self.send_json(404, {"error": {"message": "no such path in the compat stand-in"}})

    def do_POST(self):
        body = self.read_body()
        self.record(body)
        headers = self.lower_headers()
        text = answer_text(headers, self.path)
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = {}
        model = request.get("model", "compat-model") if isinstance(request, dict) else "compat-model"
        path = self.path.split("?")[0]
        if path.endswith("/v1/messages/count_tokens"):
            return self.send_json(200, {"input_tokens": 12})
        if path.endswith("/v1/messages"):
            if request.get("stream"):
                return self.send_stream(anthropic_events(model, text))
            return self.send_json(200, anthropic_message(model, text))
        if path.endswith("/v1/responses"):
            if request.get("stream"):
                return self.send_stream(sse(e["type"], e) for e in responses_events(model, text))
            return self.send_json(200, list(responses_events(model, text))[-1]["response"])
        if path.endswith("/chat/completions"):
            return self.send_json(200, {"id": "chatcmpl-compat", "object": "chat.completion",
                                        "created": 0, "model": model, "choices": [{
                                            "index": 0, "finish_reason": "stop",
                                            "message": {"role": "assistant", "content": text}}],
                                        "usage": {"prompt_tokens": 12, "completion_tokens": 6,
                                                  "total_tokens": 18}})
        if ":streamGenerateContent" in path:
            return self.send_stream([sse(None, gemini_chunk(text))])
        if ":generateContent" in path:
            config = request.get("generationConfig", {}) if isinstance(request, dict) else {}
            schema = config.get("responseJsonSchema") or config.get("responseSchema")
            if schema:
                text = json.dumps(sample_of(schema, text))
            return self.send_json(200, gemini_chunk(text))
        if ":countTokens" in path:
            return self.send_json(200, {"totalTokens": 12})
        self.send_json(200, {"recorded": True})

    # Codex speaks the Responses API over a WebSocket: each `response.create` message gets
    # the same events the SSE stream carries, one text frame each.
    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        text = answer_text(self.lower_headers(), self.path)
        frames = []
        try:
            while True:
                opcode, payload = read_frame(self.rfile)
                if opcode == 8:
                    write_frame(self.wfile, 8, payload[:2])
                    break
                if opcode == 9:
                    write_frame(self.wfile, 10, payload)
                    continue
                if opcode != 1:
                    continue
                message = json.loads(payload)
                frames.append(message.get("type", "?"))
                if message.get("type") == "response.create":
                    for event in responses_events(message.get("model", "gpt-5"), text):
                        write_frame(self.wfile, 1, json.dumps(event).encode())
        except (ConnectionError, ValueError, ssl.SSLError, OSError):
            pass
        self.record(b"", websocket=True, frames=frames)
        self.close_connection = True


def read_exact(stream, n):
    data = stream.read(n)
    if len(data) != n:
        raise ConnectionError("short read")
    return data


def read_frame(stream):
    first, second = read_exact(stream, 2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(read_exact(stream, 2), "big")
    elif length == 127:
        length = int.from_bytes(read_exact(stream, 8), "big")
    mask = read_exact(stream, 4) if second & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(read_exact(stream, length)))
    return first & 0x0F, payload


def write_frame(stream, opcode, payload):
    head = bytes([0x80 | opcode])
    if len(payload) < 126:
        head += bytes([len(payload)])
    elif len(payload) < 65536:
        head += bytes([126]) + len(payload).to_bytes(2, "big")
    else:
        head += bytes([127]) + len(payload).to_bytes(8, "big")
    stream.write(head + payload)
    stream.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET


def main():
    port, cert, key, record_path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    server = Server(("127.0.0.1", port), Handler)
    server.record_path = record_path
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    deadline = float(os.environ.get("COMPAT_VENDORS_SECONDS", "1800"))
    threading.Timer(deadline, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()

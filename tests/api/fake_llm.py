"""fake_llm.py — a fake language-model server for tests: Gemini and OpenAI-compatible.

It listens on 127.0.0.1 (an ephemeral port), speaks both wire formats, records
every request and answers from a queue of programmed behaviours. Standard
library only.

Routes (a "family" each):
    gemini  POST /v1beta/models/{model}:streamGenerateContent[?alt=sse]  (SSE)
            POST /v1beta/models/{model}:generateContent                  (one JSON)
    openai  POST /v1/chat/completions  (SSE when the body says "stream": true,
            else one JSON chat.completion)
    control (for tests in other languages; JSON in and out)
            POST /_control/queue    {"family": F, "behaviours": [B, ...]}
            POST /_control/default  {"family": F, "behaviour": B}
            GET  /_control/requests -> [request, ...]
            POST /_control/reset    forget requests, queues and defaults

From Python:
    import fake_llm
    with fake_llm.FakeLLM() as f:          # f.url == "http://127.0.0.1:PORT"
        f.queue("openai", {"text": "Hello", "chunk": 1})
        ... point LEADSCORE_LLAMA_URL / LEADSCORE_GEMINI_URL at f.url ...
        f.requests("openai")                # [{"family", "path", "headers", "body"}]

As a process (for the C tests):
    python3 tests/api/fake_llm.py --port-file F [--watch-stdin]
writes the port to F once listening; runs until SIGTERM, or with --watch-stdin
until its stdin closes (so it never outlives the test that started it).

A behaviour B is a dict; every key is optional. Each request pops the next
behaviour of its family; with the queue empty the family's default is used
(set_default), else {} (the text below, streamed).
    text         the answer ("Hello from the fake model.")
    piece        characters of text per event (4)
    chunk        bytes per write of the wire bytes (0: one write per event);
                 1 splits inside UTF-8 characters and between "\\r" and "\\n"
    gap          seconds to sleep between writes (0)
    delay        seconds before answering at all (before the status line)
    first_delay  seconds after the headers before the first body byte
    stall        seconds to sleep after stall_after events (then go on)
    stall_after  events sent before the stall (1)
    status       an HTTP status other than 200: answered with an error object
                 in the family's shape (message from "error") or with "body"
    headers      extra response headers, e.g. {"Retry-After": "1"}
    body         raw body (str or bytes) sent as it is, with content_type
    content_type for body ("text/plain")
    stream       False: one JSON reply instead of SSE, whatever was asked
    error        with status 200: an error object sent as an event after the text
    error_event  True: send that error as llama-server does ("error: {...}")
    after        raw SSE data payloads sent after the text events (broken JSON...)
    blocked      gemini: a promptFeedback.blockReason event instead of text
    finish       gemini finishReason of the last event ("STOP")
    crlf         line ends "\\r\\n" (default for gemini) or "\\n" (openai)
    done         openai: end with "data: [DONE]" (True)
    drop         close the connection after the text, without ending the body
    comments     bytes of SSE comment lines (": keep-alive") sent before the events
"""

import argparse
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_TEXT = "Hello from the fake model."

_GEMINI = re.compile(r"^/v1beta/models/([^/:]+):(streamGenerateContent|generateContent)$")


def _gemini_chunk(text, finish=None):
    cand = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    return {"candidates": [cand], "modelVersion": "fake"}


def _openai_chunk(text, finish=None):
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "fake",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


def _error_object(family, status, message):
    if family == "gemini":
        names = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                 503: "UNAVAILABLE"}
        return {"error": {"code": status, "message": message,
                          "status": names.get(status, "UNKNOWN")}}
    return {"error": {"code": status, "message": message, "type": "server_error"}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    # -- plumbing ---------------------------------------------------------
    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return raw, json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            return raw, None

    def _start(self, status, ctype, extra=None, chunked=True):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, str(v))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _whole(self, status, ctype, body, extra=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        extra = dict(extra or {})
        extra["Content-Length"] = len(body)
        self._start(status, ctype, extra, chunked=False)
        self.wfile.write(body)
        self.wfile.flush()

    # -- routes ---------------------------------------------------------------
    def do_GET(self):
        if self.path == "/_control/requests":
            self._whole(200, "application/json", json.dumps(self.server.fake.requests()))
        else:
            self._whole(404, "application/json", '{"error": "no such path"}')

    def do_POST(self):
        raw, body = self._read_body()
        fake = self.server.fake
        path = self.path.split("?", 1)[0]
        if path.startswith("/_control/"):
            return self._control(path, body or {})
        m = _GEMINI.match(path)
        if m:
            family, stream = "gemini", m.group(2) == "streamGenerateContent"
        elif path == "/v1/chat/completions":
            family, stream = "openai", bool(isinstance(body, dict) and body.get("stream"))
        else:
            return self._whole(404, "application/json", '{"error": "no such path"}')
        fake._record(family, self.path, dict((k.lower(), v) for k, v in self.headers.items()),
                     body, raw)
        b = fake._next(family)
        try:
            self._play(family, stream, b)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the client gave up: that is what some tests want

    def _control(self, path, body):
        fake = self.server.fake
        if path == "/_control/queue":
            for b in body.get("behaviours", []):
                fake.queue(body["family"], b)
        elif path == "/_control/default":
            fake.set_default(body["family"], body.get("behaviour") or {})
        elif path == "/_control/reset":
            fake.reset()
        else:
            return self._whole(404, "application/json", '{"error": "no such control"}')
        self._whole(200, "application/json", '{"ok": true}')

    # -- behaviours -------------------------------------------------------------
    def _play(self, family, stream, b):
        time.sleep(b.get("delay", 0))
        status = b.get("status", 200)
        if "body" in b:
            return self._whole(status, b.get("content_type", "text/plain"), b["body"],
                               b.get("headers"))
        if status != 200:
            err = _error_object(family, status, b.get("error", "fake failure"))
            return self._whole(status, "application/json", json.dumps(err), b.get("headers"))
        text = b.get("text", DEFAULT_TEXT)
        n = max(1, b.get("piece", 4))
        pieces = [text[i:i + n] for i in range(0, len(text), n)] or [""]
        if not b.get("stream", stream):
            if family == "gemini":
                reply = _gemini_chunk(text, b.get("finish", "STOP"))
            else:
                reply = {"id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": text}}]}
            return self._whole(200, "application/json", json.dumps(reply), b.get("headers"))

        eol = "\r\n" if b.get("crlf", family == "gemini") else "\n"
        events = []  # wire text of each event
        if b.get("blocked"):
            events.append("data: " + json.dumps({"promptFeedback": {"blockReason": b["blocked"]}}))
        else:
            for i, p in enumerate(pieces):
                last = i == len(pieces) - 1
                if family == "gemini":
                    o = _gemini_chunk(p, b.get("finish", "STOP") if last else None)
                else:
                    o = _openai_chunk(p, "stop" if last else None)
                events.append("data: " + json.dumps(o, ensure_ascii=False))
        for a in b.get("after", []):
            events.append("data: " + a)
        if "error" in b:
            err = json.dumps(_error_object(family, 500, b["error"]))
            events.append(("error: " if b.get("error_event") else "data: ") + err)
        if family == "openai" and b.get("done", True) and not b.get("drop"):
            events.append("data: [DONE]")
        wire = [(e + eol + eol).encode("utf-8") for e in events]
        if b.get("comments"):
            line = (": keep-alive" + eol).encode()
            wire.insert(0, line * (b["comments"] // len(line) + 1))

        self._start(200, "text/event-stream", b.get("headers"))
        time.sleep(b.get("first_delay", 0))
        chunk, gap = b.get("chunk", 0), b.get("gap", 0)
        stall_after = b.get("stall_after", 1)
        for k, w in enumerate(wire):
            if "stall" in b and k == stall_after:
                time.sleep(b["stall"])
            parts = [w[i:i + chunk] for i in range(0, len(w), chunk)] if chunk else [w]
            for p in parts:
                self._chunk(p)
                if gap:
                    time.sleep(gap)
        if b.get("drop"):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections when many callers come at once


class FakeLLM:
    """The fake server in a background thread; use as a context manager."""

    def __init__(self, host="127.0.0.1", port=0):
        self._lock = threading.Lock()
        self._requests = []
        self._queues = {"gemini": [], "openai": []}
        self._defaults = {"gemini": {}, "openai": {}}
        self._srv = _Server((host, port), _Handler)
        self._srv.fake = self
        self.port = self._srv.server_address[1]
        self.url = "http://%s:%d" % (host, self.port)
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._srv.shutdown()
        self._srv.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def queue(self, family, *behaviours):
        """Append behaviours for the next requests of family ("gemini" or "openai")."""
        with self._lock:
            self._queues[family].extend(behaviours)

    def set_default(self, family, behaviour):
        """The behaviour used when family's queue is empty."""
        with self._lock:
            self._defaults[family] = dict(behaviour)

    def requests(self, family=None):
        """The requests received so far (of family, or all), oldest first."""
        with self._lock:
            return [r for r in self._requests if family in (None, r["family"])]

    def reset(self):
        with self._lock:
            self._requests.clear()
            for q in self._queues.values():
                q.clear()
            self._defaults = {"gemini": {}, "openai": {}}

    def _record(self, family, path, headers, body, raw):
        with self._lock:
            self._requests.append({"family": family, "path": path, "headers": headers,
                                   "body": body,
                                   "raw": None if body is not None else raw.decode("utf-8", "replace")})

    def _next(self, family):
        with self._lock:
            q = self._queues[family]
            return q.pop(0) if q else dict(self._defaults[family])


def main():
    ap = argparse.ArgumentParser(description="fake Gemini + OpenAI-compatible server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    a = ap.parse_args()
    fake = FakeLLM(port=a.port).start()
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % fake.port)
        os.replace(tmp, a.port_file)  # readers never see half a number
    else:
        print(fake.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if a.watch_stdin:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            done.set()
        threading.Thread(target=watch, daemon=True).start()
    while not done.wait(0.2):
        pass
    fake.stop()


if __name__ == "__main__":
    main()

"""Webhook sink server (stdlib only; runs in a container as `python3 -m harness.sink.server`).

POST /<any path>   record the JSON body with its arrival time (epoch ms) and path
GET  /_sink/messages?after=<seq>   messages with seq > after
GET  /healthz
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class Inbox:
    """Thread-safe, append-only list of received messages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []

    def add(self, path: str, body: Any) -> dict[str, Any]:
        """Record one message."""
        with self._lock:
            message = {"seq": len(self._messages), "received_ms": int(time.time() * 1000), "path": path, "body": body}
            self._messages.append(message)
            return message

    def after(self, seq: int) -> list[dict[str, Any]]:
        """Messages newer than `seq`."""
        with self._lock:
            return [m for m in self._messages if m["seq"] > seq]


def make_handler(inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    """HTTP handler bound to `inbox`."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body: Any = json.loads(raw or b"null")
            except ValueError:
                body = {"raw": raw.decode(errors="replace")}
            self._reply(200, {"seq": inbox.add(urlparse(self.path).path, body)["seq"]})

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/healthz":
                self._reply(200, {"ok": True})
            elif url.path == "/_sink/messages":
                try:
                    after = int(parse_qs(url.query).get("after", ["-1"])[0])
                except ValueError:
                    self._reply(400, {"error": "after must be an integer sequence number"})
                    return
                self._reply(200, {"messages": inbox.after(after)})
            else:
                self._reply(404, {"error": "not found"})

        def log_message(self, *args: object) -> None:
            """Quiet."""

    return Handler


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    ns = parser.parse_args()
    ThreadingHTTPServer((ns.host, ns.port), make_handler(Inbox())).serve_forever()


if __name__ == "__main__":
    main()

"""The artifact store of the production stand-in (docs/production.md), Python stdlib only.

- `GET|HEAD /releases/<version>.tar.gz`: the release bundle of any version, synthesised
- `PUT|DELETE /_faults/<version>/<fault>`: set or clear a per-version fault (`migration-fails`)
- `GET /_faults`: {"faults": {"<version>": ["migration-fails"], ...}}
- `GET /healthz`: {"ok": true}
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bundles.py sits beside this file in the image

import bundles

_RELEASE = re.compile(r"/releases/(?P<version>[^/]+)\.tar\.gz")
_FAULT = re.compile(r"/_faults/(?P<version>[^/]+)/(?P<fault>[^/]+)")


class FaultBook:
    """Which faults are set on which release versions (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, set[str]] = {}

    def set(self, version: str, fault: str, active: bool) -> None:
        """Set or clear `fault` on `version`."""
        with self._lock:
            faults = self._faults.setdefault(version, set())
            if active:
                faults.add(fault)
            else:
                faults.discard(fault)
            if not faults:
                del self._faults[version]

    def has(self, version: str, fault: str) -> bool:
        """True when `fault` is set on `version`."""
        with self._lock:
            return fault in self._faults.get(version, set())

    def listing(self) -> dict[str, list[str]]:
        """Every version with a fault, and its faults."""
        with self._lock:
            return {v: sorted(f) for v, f in sorted(self._faults.items())}


class ArtifactServer(ThreadingHTTPServer):
    """The HTTP server, holding its fault book."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, Handler)
        self.faults = FaultBook()


class Handler(BaseHTTPRequestHandler):
    """Routes of the artifact store."""

    server: ArtifactServer
    protocol_version = "HTTP/1.1"  # keep-alive: the harness polls /_faults
    # headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms
    disable_nagle_algorithm = True

    def _send(self, status: int, body: bytes, content_type: str, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")  # a fault set now must show in the next download
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, head: bool = False) -> None:
        self._send(status, json.dumps(payload).encode() + b"\n", "application/json", head)

    def _get(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._json(200, {"ok": True}, head)
            return
        if path == "/_faults":
            self._json(200, {"faults": self.server.faults.listing()}, head)
            return
        match = _RELEASE.fullmatch(path)
        if match is None:
            self._json(404, {"error": f"no such path {path}; releases are at /releases/<version>.tar.gz"}, head)
            return
        version = match["version"]
        try:
            data = bundles.make_bundle(
                version, migration_fails=self.server.faults.has(version, bundles.MIGRATION_FAILS)
            )
        except bundles.BadVersion as exc:
            self._json(404, {"error": str(exc)}, head)
            return
        self._send(200, data, "application/gzip", head)

    def do_GET(self) -> None:
        """A bundle, the fault listing or the health answer."""
        self._get(head=False)

    def do_HEAD(self) -> None:
        """As GET, without the body."""
        self._get(head=True)

    def _fault(self, active: bool) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # the body is ignored, but must be consumed to keep the connection usable
        match = _FAULT.fullmatch(self.path.split("?", 1)[0])
        if match is None:
            self._json(404, {"error": "faults are at /_faults/<version>/<fault>"})
            return
        version, fault = match["version"], match["fault"]
        if fault not in bundles.FAULTS:
            self._json(404, {"error": f"unknown fault {fault!r}; known: {list(bundles.FAULTS)}"})
            return
        try:
            bundles.check_version(version)
        except bundles.BadVersion as exc:
            self._json(400, {"error": str(exc)})
            return
        self.server.faults.set(version, fault, active)
        print(f"fault {fault} on {version}: {'set' if active else 'cleared'}", flush=True)
        self._json(200, {"version": version, "fault": fault, "active": active})

    def do_PUT(self) -> None:
        """Set a fault on a version."""
        self._fault(active=True)

    def do_DELETE(self) -> None:
        """Clear a fault on a version."""
        self._fault(active=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep request logs out of the container log."""


def main(argv: list[str]) -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description="the production stand-in's artifact store")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="0.0.0.0")
    args = parser.parse_args(argv)
    server = ArtifactServer((args.host, args.port))
    print(f"artifact store on {args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

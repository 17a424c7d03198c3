"""The backend of the production stand-in (docs/production.md), Python stdlib only.

- `GET /version` -> {"version": <backend>}
- `GET /health` -> 200 {"status": "ok", "version", "schema", "redis", "started_at"} when Redis answers
  PING, PostgreSQL answers and its schema_state.release equals the backend's version, and the
  release is not marked broken on this host; otherwise 503 with the same fields, "status": "failing"
  (and "reasons", saying why).
- `GET /_faults` -> {"broken_releases": [...]}: the releases this host treats as broken (the harness
  proves its broken-release fault from here).

The version is read from /opt/app/backend/current/VERSION once, at start: a new release's backend
needs a restart (the supervisor loop starts it again when it is killed).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

VERSION_FILE = Path("/opt/app/backend/current/VERSION")
# A release listed here is broken *on this host* (the harness's broken-release fault): the backend
# serves it but reports unhealthy, as a release with a bad config would.
BROKEN_DIR = Path("/opt/app-faults/broken-releases")
DB_ENV = Path("/etc/app/db.env")


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (optionally `export KEY=VALUE`, optionally quoted), as the shell would source them."""
    values: dict[str, str] = {}
    try:
        text = path.read_text()
    except OSError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


def read_version(path: Path = VERSION_FILE) -> str | None:
    """The release version in `path`, or None when it cannot be read."""
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _one_release(rows: list[str]) -> str:
    if len(rows) != 1:
        raise RuntimeError(f"schema_state has {len(rows)} rows, expected 1")
    return rows[0].strip()


class PsqlSession:
    """schema_state.release over one long-lived psql process (the psql client, no driver needed).

    A one-off psql per health check costs ~30 ms of CPU (process, connection, SCRAM), and the harness
    asks for health every 100 ms through the lb while it samples: a kept session answers in ~1 ms.
    Each question ends with an `\\echo` of a sentinel, so the answer (or psql's error) is read up to it;
    on any failure or timeout the process is dropped and the next check starts a new one.
    """

    _END = "__dch_end__"

    def __init__(self, timeout_s: float = 3.0, psql: str = "psql") -> None:
        self.timeout_s, self.psql = timeout_s, psql
        self._proc: subprocess.Popen[bytes] | None = None
        self._env: dict[str, str] | None = None
        self._lock = threading.Lock()  # one psql process answers one question at a time

    def release(self, env: dict[str, str]) -> str:
        """The release in schema_state, asked on the kept session (started, or restarted, as needed)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None or env != self._env:
                self._start(env)
            try:
                return self._ask()
            except Exception:
                self._stop()
                raise

    def _start(self, env: dict[str, str]) -> None:
        self._stop()
        self._env = dict(env)
        self._proc = subprocess.Popen(
            [self.psql, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=0"],
            env={**os.environ, "PGCONNECT_TIMEOUT": "2", **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # errors arrive in order, before the sentinel
        )

    def _ask(self) -> str:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(f"SELECT 'release=' || release FROM schema_state;\n\\echo {self._END}\n".encode())
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # psql has exited (e.g. it could not connect): its output, read below, says why
        deadline = time.monotonic() + self.timeout_s
        out = b""
        fd = proc.stdout.fileno()
        while f"{self._END}\n".encode() not in out:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError(f"psql did not answer within {self.timeout_s:g} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(out.decode(errors="replace").strip()[-300:] or "psql exited")
            out += chunk
        lines = [line for line in out.decode(errors="replace").splitlines() if line.strip() and line != self._END]
        errors = [line for line in lines if not line.startswith("release=")]
        if errors:
            raise RuntimeError(" ".join(errors)[-300:])
        return _one_release([line.removeprefix("release=") for line in lines])

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout) if proc is not None else ():
            if stream is not None:
                stream.close()


def redis_ping(host: str, port: int = 6379, timeout_s: float = 1.0) -> None:
    """PING over a raw socket (RESP inline command); raises unless Redis answers +PONG."""
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(b"PING\r\n")
        answer = sock.recv(64)
    if not answer.startswith(b"+PONG"):
        raise RuntimeError(f"Redis answered {answer[:40]!r} to PING")


@dataclass
class Backend:
    """The backend's state and checks; the checks are injectable so tests run without PostgreSQL or Redis."""

    version: str | None
    broken_dir: Path = BROKEN_DIR
    db_env: Path = DB_ENV
    started_at: float = field(default_factory=time.time)
    schema: Callable[[dict[str, str]], str] = field(default_factory=lambda: PsqlSession().release)
    ping: Callable[[str], None] = redis_ping

    def broken_releases(self) -> list[str]:
        """Releases marked broken on this host."""
        try:
            return sorted(p.name for p in self.broken_dir.iterdir())
        except OSError:
            return []

    def health(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) of /health; every dependency is checked on every call."""
        env = read_env_file(self.db_env)
        reasons: list[str] = []
        schema: str | None = None
        try:
            schema = self.schema(env)
        except Exception as exc:  # any failure to read the schema is a failing dependency, reported
            reasons.append(f"postgresql: {exc}")
        try:
            self.ping(env.get("REDIS_HOST", "prod-cache"))
            redis = "ok"
        except Exception as exc:  # idem for Redis
            redis = f"failing: {exc}"
            reasons.append(f"redis: {exc}")
        if self.version is None:
            reasons.append(f"no version: {VERSION_FILE} was not readable at start")
        elif schema is not None and schema != self.version:
            reasons.append(f"schema is at {schema}, the backend at {self.version}")
        if self.version is not None and (self.broken_dir / self.version).exists():
            reasons.append(f"release {self.version} is marked broken on this host")
        body: dict[str, Any] = {
            "status": "failing" if reasons else "ok",
            "version": self.version,
            "schema": schema,
            "redis": redis,
            "started_at": self.started_at,
        }
        if reasons:
            body["reasons"] = reasons
        return (503 if reasons else 200), body


class BackendServer(ThreadingHTTPServer):
    """The HTTP server, holding the backend."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        super().__init__(address, Handler)
        self.backend = backend


class Handler(BaseHTTPRequestHandler):
    """GET /version, /health and /_faults."""

    server: BackendServer
    protocol_version = "HTTP/1.1"  # keep-alive: the harness samples every 100 ms
    # headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms
    disable_nagle_algorithm = True
    timeout = 30  # an idle keep-alive connection is closed after this

    def do_GET(self) -> None:
        """Answer one of the routes."""
        backend = self.server.backend
        path = self.path.split("?", 1)[0]
        if path == "/version":
            status, body = 200, {"version": backend.version}
        elif path == "/health":
            status, body = backend.health()
        elif path == "/_faults":
            status, body = 200, {"broken_releases": backend.broken_releases()}
        else:
            status, body = 404, {"error": "not found"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep request logs out of the container log."""


def main(argv: list[str]) -> int:
    """Read the version once, then serve until killed."""
    parser = argparse.ArgumentParser(description="the production stand-in's backend")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    backend = Backend(read_version())
    server = BackendServer(("0.0.0.0", args.port), backend)
    print(f"backend {backend.version} serving on :{args.port} (pid {os.getpid()})", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

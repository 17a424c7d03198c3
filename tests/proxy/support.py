"""Helpers for the proxy tests: upstream servers and client-side measurements (no fixtures here)."""

from __future__ import annotations

import socket
import socketserver
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from toxiproxy import Toxiproxy
from toxiproxy.proxy import Proxy

SEED = 20261127


def pattern(size: int) -> bytes:
    """`size` bytes of a recognisable, non-repeating-per-256 pattern."""
    return bytes(i * 7 % 251 for i in range(size))


class UpstreamHandler(socketserver.BaseRequestHandler):
    """First line picks the behaviour: `send N` (send N pattern bytes, then echo), `send-close N` (send N bytes,
    close), anything else is echoed back along with all that follows."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        first = b""
        while b"\n" not in first:
            data = sock.recv(65536)
            if not data:
                return
            first += data
        line, _, rest = first.partition(b"\n")
        words = line.split()
        if len(words) == 2 and words[0] in (b"send", b"send-close"):
            sock.sendall(pattern(int(words[1])))
            if words[0] == b"send-close":
                return
            rest = b""
        else:
            rest = first
        try:
            if rest:
                sock.sendall(rest)
            while data := sock.recv(65536):
                sock.sendall(data)
        except OSError:
            pass


class HttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = f"path={self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def use_server(url: str) -> Toxiproxy:
    """A toxiproxy-python client pointed at `url` (its API consumer is class-level, hence per test)."""
    parts = urlsplit(url)
    client = Toxiproxy()
    client.update_api_consumer(parts.hostname, parts.port or 8474)
    return client


def address(proxy: Proxy) -> tuple[str, int]:
    """Where the proxy listens."""
    host, port = proxy.listen.rsplit(":", 1)
    return host.strip("[]"), int(port)


def connect(target: Proxy | str, timeout: float = 3.0) -> socket.socket:
    """A TCP connection to a proxy or a `host:port`."""
    host, port = address(target) if isinstance(target, Proxy) else target.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    """Read `size` bytes (fewer only if the peer closes)."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def recv_all(sock: socket.socket) -> tuple[bytes, int]:
    """Read until EOF: the bytes and how many reads it took."""
    data, reads = b"", 0
    while chunk := sock.recv(65536):
        data += chunk
        reads += 1
    return data, reads


def round_trip_ms(sock: socket.socket, payload: bytes = b"ping\n") -> float:
    """Send `payload` to an echo and wait for it back: milliseconds."""
    started = time.perf_counter()
    sock.sendall(payload)
    assert recv_exactly(sock, len(payload)) == payload
    return (time.perf_counter() - started) * 1000


def free_port() -> int:
    """A port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

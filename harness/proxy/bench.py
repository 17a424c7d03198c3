"""Benchmark (not a test): what the proxy costs with no toxic, compared with talking to the upstream directly.

    PYTHONPATH=. python3 -m harness.proxy.bench [--requests 2000] [--megabytes 64] [--server http://host:8474]

Starts `python3 -m harness.proxy` as a subprocess (as it runs in the topology) unless --server names one (e.g.
Shopify's toxiproxy-server, to compare), plus a local upstream (echo, and "send N bytes then close"). Prints p50/p95
of a 64-byte round trip on a kept-open connection and of connect + first round trip, direct and proxied, the added
milliseconds and proxied/direct ratios, and downstream throughput direct vs proxied. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import socketserver
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class _Upstream(socketserver.BaseRequestHandler):
    """`send N\\n`: send N bytes and close; otherwise echo everything."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = sock.recv(65536)
        if data.startswith(b"send "):
            remaining = int(data.split()[1])
            block = b"\xa5" * 65536
            while remaining > 0:
                sock.sendall(block[: min(remaining, len(block))])
                remaining -= len(block)
            return
        while data:
            sock.sendall(data)
            data = sock.recv(65536)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(base: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


@contextmanager
def _server(url: str | None) -> Iterator[str]:
    if url:
        yield url.rstrip("/")
        return
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "harness.proxy", "--host", "127.0.0.1", "--port", str(port), "--seed", "1"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the proxy server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _round_trip(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(payload)
    received = 0
    while received < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid round trip")
        received += len(chunk)


def _interleaved(direct: Callable[[], None], proxied: Callable[[], None], count: int) -> tuple[list[float], ...]:
    """Time `direct` and `proxied` alternately (so load bursts on a shared machine hit both): milliseconds."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(count):
        for action, into in ((direct, samples[0]), (proxied, samples[1])):
            started = time.perf_counter()
            action()
            into.append((time.perf_counter() - started) * 1000)
    return samples


def round_trips(
    direct: tuple[str, int], proxied: tuple[str, int], count: int, payload: bytes
) -> tuple[list[float], ...]:
    """Milliseconds per round trip of `payload` on one kept-open connection each, direct and proxied."""
    with _connect(direct) as plain, _connect(proxied) as through:
        for _ in range(min(100, count)):
            _round_trip(plain, payload)
            _round_trip(through, payload)
        return _interleaved(lambda: _round_trip(plain, payload), lambda: _round_trip(through, payload), count)


def connect_round_trips(
    direct: tuple[str, int], proxied: tuple[str, int], count: int, payload: bytes
) -> tuple[list[float], ...]:
    """Milliseconds for connect + one round trip + close, direct and proxied."""

    def once(address: tuple[str, int]) -> None:
        with _connect(address) as sock:
            _round_trip(sock, payload)

    return _interleaved(lambda: once(direct), lambda: once(proxied), count)


def _transfer(address: tuple[str, int], size: int) -> float:
    with _connect(address) as sock:
        started = time.perf_counter()
        sock.sendall(f"send {size}\n".encode())
        received = 0
        while chunk := sock.recv(1 << 20):
            received += len(chunk)
        elapsed = time.perf_counter() - started
    if received != size:
        raise ConnectionError(f"received {received} of {size} bytes")
    return size / elapsed / 1e6


def throughput(direct: tuple[str, int], proxied: tuple[str, int], size: int) -> tuple[float, float]:
    """MB/s of `size` bytes sent by the upstream as the client receives them, direct and proxied (best of 3,
    interleaved)."""
    best = [0.0, 0.0]
    for _ in range(3):
        for index, address in enumerate((direct, proxied)):
            best[index] = max(best[index], _transfer(address, size))
    return best[0], best[1]


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))]}


def run(requests: int, megabytes: int, server_url: str | None) -> dict[str, Any]:
    """Measure direct vs proxied; returns the figures (milliseconds, MB/s, ratios)."""
    upstream = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Upstream)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    direct = ("127.0.0.1", upstream.server_address[1])
    payload = b"x" * 63 + b"\n"
    try:
        with _server(server_url) as base:
            name = f"bench_{os.getpid()}"
            spec = {"name": name, "listen": "127.0.0.1:0", "upstream": f"{direct[0]}:{direct[1]}"}
            created = _api(base, "POST", "/proxies", spec)
            host, port = created["listen"].rsplit(":", 1)
            proxied = (host.strip("[]"), int(port))
            try:
                result: dict[str, Any] = {"server": server_url or "python3 -m harness.proxy", "requests": requests}
                for label, measure in (("round_trip_ms", round_trips), ("connect_round_trip_ms", connect_round_trips)):
                    plain_samples, through_samples = measure(direct, proxied, requests, payload)
                    plain, through = _percentiles(plain_samples), _percentiles(through_samples)
                    result[label] = {
                        "direct": plain,
                        "proxied": through,
                        "added": {k: through[k] - plain[k] for k in plain},
                        "ratio": {k: through[k] / plain[k] for k in plain},
                    }
                plain_mbs, through_mbs = throughput(direct, proxied, megabytes * 1_000_000)
                result["throughput_mb_s"] = {
                    "direct": plain_mbs,
                    "proxied": through_mbs,
                    "ratio": through_mbs / plain_mbs,
                }
            finally:
                _api(base, "DELETE", f"/proxies/{name}")
    finally:
        upstream.shutdown()
        upstream.server_close()
    return result


def report(result: dict[str, Any]) -> str:
    """Human-readable table of `run`'s figures."""
    lines = [f"server: {result['server']}  ({result['requests']} requests each, no toxic)"]
    for label, title in (("round_trip_ms", "64 B round trip"), ("connect_round_trip_ms", "connect + round trip")):
        figures = result[label]
        for q in ("p50", "p95"):
            lines.append(
                f"{title:<22} {q}: direct {figures['direct'][q]:.3f} ms  proxied {figures['proxied'][q]:.3f} ms  "
                f"added {figures['added'][q]:.3f} ms  ratio {figures['ratio'][q]:.2f}x"
            )
    tp = result["throughput_mb_s"]
    lines.append(
        f"{'throughput':<27} direct {tp['direct']:.0f} MB/s  proxied {tp['proxied']:.0f} MB/s  ratio {tp['ratio']:.2f}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python3 -m harness.proxy.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="round trips per measurement")
    parser.add_argument("--megabytes", type=int, default=64, help="size of the throughput transfer")
    parser.add_argument("--server", default=None, help="benchmark this running server instead of starting one")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = run(args.requests, args.megabytes, args.server)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python3 -m harness.proxy`: stdlib only, --config, --seed, clean shutdown on SIGTERM."""

from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.proxy.__main__ import parse_args
from tests.proxy.support import connect, free_port, round_trip_ms, use_server

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "harness" / "proxy"


def _wait_for_port(port: int, process: subprocess.Popen[bytes], deadline_s: float = 10.0) -> None:
    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {process.communicate()[1].decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("server did not listen in time")


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_the_package_imports_only_the_standard_library(path: Path) -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    foreign = sorted(
        name
        for name in imported
        if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("harness.proxy")
    )
    assert foreign == []


def test_toxiproxy_style_single_dash_flags_are_accepted() -> None:
    args = parse_args(["-host", "0.0.0.0", "-port", "18474", "-seed", "5", "-config", "p.json"])
    assert (args.host, args.port, args.seed, args.config) == ("0.0.0.0", 18474, 5, "p.json")


def test_module_runs_without_site_packages_loads_config_and_stops_on_sigterm(tmp_path: Path, tcp_upstream: str) -> None:
    api_port, proxy_port = free_port(), free_port()
    config = tmp_path / "proxies.json"
    config.write_text(
        json.dumps([{"name": "from_config", "listen": f"127.0.0.1:{proxy_port}", "upstream": tcp_upstream}])
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-S",
        "-m",
        "harness.proxy",
        "--host",
        "127.0.0.1",
        "--port",
        str(api_port),
        "--seed",
        "3",
        "--config",
        str(config),
    ]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_port(api_port, process)
        client = use_server(f"http://127.0.0.1:{api_port}")
        proxy = client.get_proxy("from_config")
        assert proxy is not None and proxy.listen == f"127.0.0.1:{proxy_port}"
        held = connect(proxy)
        round_trip_ms(held)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert held.recv(16) == b"", "open connections are closed on shutdown"
        held.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert "Traceback" not in stderr, stderr
    assert "seed 3" in stderr
    for port in (api_port, proxy_port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()

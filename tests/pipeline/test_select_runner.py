"""pipeline/scripts/select-runner.sh against a fake Prometheus: pick primary, else secondary, else fail.

The script runs with bash as a subprocess (needs curl and jq); Prometheus is an http.server in a
thread on 127.0.0.1 whose answer depends on which runner the PromQL query asks about.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "pipeline" / "scripts" / "select-runner.sh"


@dataclass
class FakePrometheus:
    """Which runners are healthy, what status to answer with, and every query received."""

    healthy: dict[str, bool] = field(default_factory=lambda: {"primary": True, "secondary": True})
    http_status: int = 200
    queries: list[str] = field(default_factory=list)
    url: str = ""

    def answer(self, query: str) -> dict:
        result = []
        for role, ok in self.healthy.items():
            if f'runner="{role}"' in query and ok:
                result.append(
                    {
                        "metric": {"job": "github-runners", "runner": role, "instance": f"{role}:9200"},
                        "value": [1_700_000_000.0, "1"],
                    }
                )
        return {"status": "success", "data": {"resultType": "vector", "result": result}}


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    fake = FakePrometheus()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            if parsed.path != "/api/v1/query":
                self.send_error(404)
                return
            query = parse_qs(parsed.query).get("query", [""])[0]
            fake.queries.append(query)
            body = json.dumps(fake.answer(query)).encode()
            self.send_response(fake.http_status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    output_text: str


def run_script(tmp_path: Path, prometheus_url: str | None) -> Outcome:
    assert shutil.which("curl") and shutil.which("jq"), "select-runner.sh needs curl and jq on PATH"
    output = tmp_path / "github_output"
    output.write_text("")
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), "HOME": str(tmp_path)}
    if prometheus_url is not None:
        env["PROMETHEUS_URL"] = prometheus_url
    proc = subprocess.run(
        ["bash", str(SCRIPT)], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    text = output.read_text()
    outputs = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    return Outcome(proc.returncode, proc.stdout, proc.stderr, outputs, text)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_primary_healthy_selects_primary(tmp_path: Path, prometheus: FakePrometheus) -> None:
    out = run_script(tmp_path, prometheus.url)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.outputs["labels"]) == ["self-hosted", "production", "primary"]
    assert out.outputs["role"] == "primary"
    assert "selected runner role: primary" in out.stdout
    assert len(prometheus.queries) == 1  # the secondary is not even asked about


def test_query_asks_for_a_scraped_authorized_runner(tmp_path: Path, prometheus: FakePrometheus) -> None:
    run_script(tmp_path, prometheus.url)
    query = prometheus.queries[0]
    assert 'up{job="github-runners",runner="primary"} == 1' in query
    assert 'runner_status{runner="primary",authorized_for_prod="true"} == 1' in query
    assert re.search(r"\band on\(instance\)", query)


def test_primary_unhealthy_selects_secondary(tmp_path: Path, prometheus: FakePrometheus) -> None:
    prometheus.healthy = {"primary": False, "secondary": True}
    out = run_script(tmp_path, prometheus.url)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.outputs["labels"]) == ["self-hosted", "production", "secondary"]
    assert out.outputs["role"] == "secondary"
    assert "runner primary is not healthy" in out.stdout
    assert "selected runner role: secondary" in out.stdout
    assert [('runner="primary"' in q, 'runner="secondary"' in q) for q in prometheus.queries] == [
        (True, False),
        (False, True),
    ]


def test_both_unhealthy_fails_with_an_error_annotation(tmp_path: Path, prometheus: FakePrometheus) -> None:
    prometheus.healthy = {"primary": False, "secondary": False}
    out = run_script(tmp_path, prometheus.url)
    assert out.returncode == 1
    errors = [line for line in out.stdout.splitlines() if line.startswith("::error::")]
    assert len(errors) == 1
    assert "no healthy authorized production runner" in errors[0]
    assert out.output_text == ""


def test_prometheus_unreachable_fails_closed(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    out = run_script(tmp_path, url)
    assert out.returncode != 0
    assert out.returncode == 2
    combined = out.stdout + out.stderr
    assert "Prometheus" in combined
    assert f"::error::Prometheus unreachable at {url}" in out.stdout
    assert "failing closed" in out.stdout
    assert out.output_text == ""


def test_prometheus_http_error_fails_closed(tmp_path: Path, prometheus: FakePrometheus) -> None:
    prometheus.http_status = 503
    out = run_script(tmp_path, prometheus.url)
    assert out.returncode == 2
    assert "::error::Prometheus unreachable" in out.stdout
    assert out.output_text == ""
    assert len(prometheus.queries) == 1  # it did not fall through to the secondary


def test_missing_prometheus_url_is_an_error(tmp_path: Path) -> None:
    out = run_script(tmp_path, None)
    assert out.returncode != 0
    assert "PROMETHEUS_URL" in out.stderr
    assert out.output_text == ""

"""harness.github must run on Debian's python3 + PyYAML alone, as copied into the containers."""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from harness.github.tarballs import make_tarball

PACKAGE = Path(__file__).resolve().parents[2] / "harness"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_only_stdlib_yaml_and_harness_github_are_imported() -> None:
    offenders: dict[str, list[str]] = {}
    for path in sorted((PACKAGE / "github").glob("*.py")):
        bad = [
            name
            for name in imported_modules(path)
            if name.split(".")[0] not in sys.stdlib_module_names
            and name.split(".")[0] != "yaml"
            and not (name == "harness.github" or name.startswith("harness.github."))
        ]
        if bad:
            offenders[path.name] = bad
    assert offenders == {}
    assert imported_modules(PACKAGE / "__init__.py") == set()


def plain_python() -> str:
    """Debian's python3 (stdlib + python3-yaml only) when present, else this interpreter."""
    candidate = "/usr/bin/python3"
    if (
        os.path.exists(candidate)
        and subprocess.run([candidate, "-c", "import yaml"], capture_output=True, check=False).returncode == 0
    ):
        return candidate
    return sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(probe, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = probe()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_server_and_agent_entry_points_from_a_copied_package(tmp_path: Path) -> None:
    root = tmp_path / "opt-sim"
    (root / "harness").mkdir(parents=True)
    shutil.copy(PACKAGE / "__init__.py", root / "harness" / "__init__.py")
    shutil.copytree(PACKAGE / "github", root / "harness" / "github", ignore=shutil.ignore_patterns("__pycache__"))
    python = plain_python()
    port = free_port()
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(root), "HOME": str(tmp_path)}
    server = subprocess.Popen(
        [python, "-m", "harness.github.server", "--host", "127.0.0.1", "--port", str(port)],
        env={**base_env, "SIM_HEARTBEAT_TIMEOUT_S": "2", "SIM_QUEUE_TIMEOUT_S": "5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    state_file = tmp_path / "runner-state.json"
    agent = subprocess.Popen(
        [python, "-m", "harness.github.agent"],
        env={
            **base_env,
            "GITHUB_URL": f"http://127.0.0.1:{port}",
            "RUNNER_NAME": "primary",
            "RUNNER_LABELS": "self-hosted,linux,production,primary",
            "RUNNER_WORK_DIR": str(tmp_path / "work"),
            "RUNNER_HEARTBEAT_S": "0.2",
            "RUNNER_LEASE_RENEW_S": "0.5",
            "RUNNER_ACQUIRE_WAIT_S": "0.5",
            "RUNNER_STATE_FILE": str(state_file),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        wait_until(lambda: http.get("/healthz").status_code == 200, 10, "server health")
        config = http.get("/_sim/config").json()
        assert config["heartbeat_timeout_s"] == 2.0 and config["queue_timeout_s"] == 5.0
        workflow = textwrap.dedent("""\
            on: workflow_dispatch
            jobs:
              deploy:
                runs-on: [self-hosted, primary]
                steps:
                  - uses: actions/checkout@v4
                  - run: cat app.txt && python3 --version
            """)
        upload = http.put(
            "/_sim/repos/acme/app",
            content=make_tarball({".github/workflows/deploy.yml": workflow, "app.txt": "payload-from-tarball\n"}),
            headers={"Content-Type": "application/gzip"},
        )
        assert upload.status_code == 200, upload.text
        wait_until(lambda: http.get("/repos/acme/app/actions/runners").json()["total_count"] == 1, 10, "runner")
        run_id = http.post("/repos/acme/app/actions/workflows/deploy.yml/dispatches", json={"ref": "main"}).json()[
            "workflow_run_id"
        ]
        run = wait_until(
            lambda: (r := http.get(f"/repos/acme/app/actions/runs/{run_id}").json())["status"] == "completed" and r,
            20,
            "run completion",
        )
        assert run["conclusion"] == "success"
        job = http.get(f"/repos/acme/app/actions/runs/{run_id}/jobs").json()["jobs"][0]
        assert "payload-from-tarball" in http.get(f"/repos/acme/app/actions/jobs/{job['id']}/logs").text
        state = wait_until(lambda: state_file.exists() and json.loads(state_file.read_text()), 5, "state file")
        assert state["jobs_total"] >= 0 and state["last_checkin_ts"] > 0
    finally:
        http.close()
        for proc in (agent, server):
            proc.terminate()
        for proc in (agent, server):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert agent.returncode == 0, agent.stdout.read().decode() if agent.stdout else ""
    assert server.returncode == 0, server.stdout.read().decode() if server.stdout else ""

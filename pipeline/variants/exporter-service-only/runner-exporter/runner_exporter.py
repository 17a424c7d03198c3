"""Runner exporter: Prometheus metrics about one self-hosted GitHub Actions runner.

Part of the reference pipeline (it runs on every runner host). `runner_status` is 1 only
when the runner service process is alive AND it checked in with GitHub recently: a runner
whose service is up but cannot reach GitHub is reported down, closing the blind spot of an
exporter that only reports "runner service active".
"""

from __future__ import annotations

import json
import os
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

AGENT_MARKER = b"harness.github.agent"


def env(name: str, default: str) -> str:
    """A setting from the environment."""
    return os.environ.get(name, default)


def agent_alive() -> bool:
    """True when a runner agent process exists (and is not a zombie)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if AGENT_MARKER in (proc / "cmdline").read_bytes():
                stat = (proc / "stat").read_text()
                return stat.rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            continue
    return False


def read_state(path: Path) -> dict:
    """The runner agent's state file (last check-in, jobs), or {} if absent."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def cpu_percent(previous: list[int]) -> float:
    """CPU busy percentage since the previous call (host-wide /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields)
    if previous:
        d_total, d_idle = total - previous[0], idle - previous[1]
        value = 100.0 * (d_total - d_idle) / d_total if d_total > 0 else 0.0
    else:
        value = 0.0
    previous[:] = [total, idle]
    return value


def memory_percent() -> float:
    """Memory in use: the cgroup's usage against its limit when limited, else the host's."""
    usage = Path("/sys/fs/cgroup/memory/memory.usage_in_bytes")
    limit = Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        info[key] = int(value.split()[0]) * 1024
    try:
        lim = int(limit.read_text())
        if lim < info["MemTotal"]:
            return 100.0 * int(usage.read_text()) / lim
    except (OSError, ValueError):
        pass
    return 100.0 * (info["MemTotal"] - info["MemAvailable"]) / info["MemTotal"]


def render(previous_cpu: list[int]) -> str:
    """The metrics page."""
    work = Path(env("RUNNER_WORK_DIR", "/runner/work"))
    state = read_state(Path(env("RUNNER_STATE_FILE", "/runner/state.json")))
    stale_after = float(env("RUNNER_STALE_AFTER_S", "300"))
    last = float(state.get("last_checkin_ts") or 0)
    alive = agent_alive()
    fresh = last > 0 and time.time() - last <= stale_after
    hostname, environment = env("RUNNER_HOSTNAME", socket.gethostname()), env("RUNNER_ENVIRONMENT", "production")
    labels = (
        f'hostname="{hostname}",environment="{environment}",'
        f'role="{env("RUNNER_ROLE", "unknown")}",authorized_for_prod="{env("RUNNER_AUTHORIZED_FOR_PROD", "false")}"'
    )
    try:
        fs = os.statvfs(work)
        disk_total, disk_free = fs.f_blocks * fs.f_frsize, fs.f_bavail * fs.f_frsize
    except OSError:
        disk_total, disk_free = 0, 0
    current = state.get("current_job")
    lines = [
        "# HELP runner_status 1 when the runner service is running and checked in with GitHub recently.",
        "# TYPE runner_status gauge",
        # DEFECT (negative control): "runner service active" only; a runner cut off from GitHub
        # stays green.
        f"runner_status{{{labels}}} {1 if alive else 0}",
        "# HELP runner_service_active 1 when the runner service process exists.",
        "# TYPE runner_service_active gauge",
        f"runner_service_active{{{labels}}} {1 if alive else 0}",
        "# TYPE runner_last_checkin_timestamp_seconds gauge",
        f"runner_last_checkin_timestamp_seconds{{{labels}}} {last}",
        "# TYPE runner_cpu_usage_percent gauge",
        f"runner_cpu_usage_percent{{{labels}}} {cpu_percent(previous_cpu):.2f}",
        "# TYPE runner_memory_usage_percent gauge",
        f"runner_memory_usage_percent{{{labels}}} {memory_percent():.2f}",
        "# TYPE runner_disk_used_bytes gauge",
        f"runner_disk_used_bytes{{{labels}}} {disk_total - disk_free}",
        "# TYPE runner_disk_available_bytes gauge",
        f"runner_disk_available_bytes{{{labels}}} {disk_free}",
        "# TYPE runner_disk_free_percent gauge",
        f"runner_disk_free_percent{{{labels}}} {100.0 * disk_free / disk_total if disk_total else 0:.2f}",
        "# TYPE runner_jobs_total counter",
        f"runner_jobs_total{{{labels}}} {int(state.get('jobs_total') or 0)}",
        "# TYPE runner_jobs_failed_total counter",
        f"runner_jobs_failed_total{{{labels}}} {int(state.get('jobs_failed') or 0)}",
        "# TYPE runner_current_job gauge",
        f'runner_current_job{{{labels},job_name="{current or ""}"}} {1 if current else 0}',
    ]
    return "\n".join(lines) + "\n"


def make_handler(previous_cpu: list[int]) -> type[BaseHTTPRequestHandler]:
    """An HTTP handler serving /metrics and /health."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                body, ctype, status = render(previous_cpu).encode(), "text/plain; version=0.0.4", 200
            elif self.path == "/health":
                body, ctype, status = b'{"status":"ok"}', "application/json", 200
            else:
                body, ctype, status = b"not found", "text/plain", 404
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    return Handler


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(env("EXPORTER_PORT", "9102"))), make_handler([])).serve_forever()

"""Find, install or start a Docker engine, idempotently, or say exactly what to do."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException

from harness.bootstrap.progress import Progress
from harness.core.errors import EnginePermissionDenied, EngineUnavailable
from harness.core.waiting import now_ms, watch

DEFAULT_SOCKET = Path("/var/run/docker.sock")
DOCKERD_LOG = Path("/var/log/deploy-chaos-dockerd.log")
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class EngineInfo:
    """What engine the harness talks to and what it had to do to get there."""

    endpoint: str
    version: str
    action: str  # "reachable" | "started" | "installed and started"


def _client(endpoint: str | None) -> docker.DockerClient:
    if endpoint:
        return docker.DockerClient(base_url=endpoint, timeout=120)
    return docker.from_env(timeout=120)


def ping(endpoint: str | None = None) -> str | None:
    """Return the engine's version if it answers at `endpoint` (or the default), else None."""
    try:
        client = _client(endpoint)
        try:
            return str(client.version().get("Version", "?"))
        finally:
            client.close()
    except DockerException:
        return None


def docker_client() -> docker.DockerClient:
    """A client of the engine the harness uses, or EngineUnavailable that says how to get one."""
    if _socket_permission_problem(DEFAULT_SOCKET) and not os.environ.get("DOCKER_HOST"):
        raise permission_error(DEFAULT_SOCKET)
    try:
        client = _client(os.environ.get("DOCKER_HOST"))
        client.ping()
    except DockerException as exc:
        where = os.environ.get("DOCKER_HOST") or f"unix://{DEFAULT_SOCKET}"
        raise EngineUnavailable(
            f"no Docker engine answers at {where} ({' '.join(str(exc).split())[:160]}). "
            "Fix: run `deploy-chaos setup` (it starts or installs one), or set DOCKER_HOST to a running engine."
        ) from None
    return client


def _socket_permission_problem(sock: Path) -> bool:
    return sock.exists() and not os.access(sock, os.R_OK | os.W_OK)


def permission_error(sock: Path) -> EnginePermissionDenied:
    """The one-paragraph error for a socket this user may not use."""
    return EnginePermissionDenied(
        f"The Docker socket {sock} exists but user {_user()} may not use it (permission denied). "
        "The harness needs the engine to build images and start its test topology. Fix: run as root, "
        f"or add this user to the socket's group (`sudo usermod -aG {_group_of(sock)} {_user()}`, then "
        "log in again), or point DOCKER_HOST at an engine you may use."
    )


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, ImportError):
        return str(os.getuid())


def _group_of(path: Path) -> str:
    try:
        import grp

        return grp.getgrgid(path.stat().st_gid).gr_name
    except (KeyError, ImportError, OSError):
        return "docker"


def _is_debian_root() -> bool:
    return os.geteuid() == 0 and Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def install_docker_engine(progress: Progress) -> None:
    """Install Debian's docker.io (and iptables) with apt-get; Debian as root only."""
    with progress.step("install docker.io with apt-get") as rec:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "docker.io", "iptables"]):
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise EngineUnavailable(
                    f"No Docker engine is installed and `{' '.join(cmd)}` failed (exit {proc.returncode}): "
                    f"{proc.stderr.strip()[-400:]}. Fix: make Debian's package mirror reachable and re-run "
                    "`deploy-chaos setup`, or install a Docker engine yourself and set DOCKER_HOST."
                )
        rec.detail = "installed docker.io"


def start_dockerd(progress: Progress) -> None:
    """Start dockerd in the background (no systemd here) and wait until it answers."""
    with progress.step("start dockerd in the background") as rec:
        log = DOCKERD_LOG.open("ab")
        subprocess.Popen(["dockerd"], stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        answering, _ = watch(
            lambda: DEFAULT_SOCKET.exists() and ping(f"unix://{DEFAULT_SOCKET}"),
            now_ms() + int(START_TIMEOUT_S * 1000),
            0.25,
        )
        if answering:
            rec.detail = f"dockerd answering on {DEFAULT_SOCKET}, log in {DOCKERD_LOG}"
            return
        tail = DOCKERD_LOG.read_text(errors="replace")[-800:] if DOCKERD_LOG.exists() else ""
        raise EngineUnavailable(
            f"dockerd was started but did not answer on {DEFAULT_SOCKET} within {START_TIMEOUT_S:.0f} s. "
            f"Last lines of {DOCKERD_LOG}: {tail!r}. Fix: read that log (a stale /var/run/docker.pid or a "
            "kernel without overlay/iptables support are the usual causes), then re-run `deploy-chaos setup`."
        )


def ensure_engine(progress: Progress, install: bool = True) -> EngineInfo:
    """Return a reachable engine; install and start one on Debian as root if needed."""
    with progress.step("Docker engine") as rec:
        host = os.environ.get("DOCKER_HOST")
        if host:
            version = ping(host)
            if version is None:
                raise EngineUnavailable(
                    f"DOCKER_HOST is set to {host!r} but no Docker engine answers there. Fix: start that "
                    "engine, or unset DOCKER_HOST so the harness uses (or installs) the local one."
                )
            rec.detail = f"reachable at {host} (engine {version})"
            return EngineInfo(host, version, "reachable")
        if _socket_permission_problem(DEFAULT_SOCKET):
            raise permission_error(DEFAULT_SOCKET)
        version = ping(f"unix://{DEFAULT_SOCKET}") if DEFAULT_SOCKET.exists() else None
        if version:
            rec.detail = f"reachable at unix://{DEFAULT_SOCKET} (engine {version})"
            return EngineInfo(f"unix://{DEFAULT_SOCKET}", version, "reachable")
        action = "started"
        if shutil.which("dockerd") is None:
            if not (install and _is_debian_root()):
                raise EngineUnavailable(
                    "No Docker engine answers (DOCKER_HOST unset, nothing at /var/run/docker.sock) and "
                    "none is installed. The harness installs one by itself only on Debian as root. Fix: "
                    "install Docker Engine (https://docs.docker.com/engine/install/) and start it, or set "
                    "DOCKER_HOST to a reachable engine, then re-run `deploy-chaos setup`."
                )
            install_docker_engine(progress)
            action = "installed and started"
        elif os.geteuid() != 0:
            raise EngineUnavailable(
                "dockerd is installed but not running, and only root can start it. Fix: start it "
                "(`sudo dockerd &` or `sudo systemctl start docker`), then re-run `deploy-chaos setup`."
            )
        start_dockerd(progress)
        version = ping(f"unix://{DEFAULT_SOCKET}") or "?"
        rec.detail = f"{action} dockerd (engine {version})"
        return EngineInfo(f"unix://{DEFAULT_SOCKET}", version, action)

"""The container backend interface the harness needs, with the Docker implementation.

Faults and cleanup call this interface only, so tests can pass `FakeContainerBackend`
(harness.topology.fake) instead of a real engine.
"""

from __future__ import annotations

import math
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import docker
from docker.errors import APIError, DockerException, NotFound

LABEL_MANAGED = "dch.managed"
LABEL_RUN = "dch.run"
# the resource settings faults read and change (engine API names, as in HostConfig and POST /update)
REMOVAL_IN_PROGRESS = 409  # the engine's answer while another client removes the container
REMOVAL_WAIT_S = 60.0
PAUSE_ATTEMPTS = 5
RESOURCE_FIELDS = ("Memory", "MemorySwap", "NanoCpus", "CpuQuota", "CpuPeriod")


@dataclass(frozen=True)
class ContainerInfo:
    """What cleanup and fault checks need to know about a container."""

    id: str
    name: str
    status: str  # created | running | paused | exited | ...
    labels: dict[str, str]


class ContainerBackend(Protocol):
    """Operations on containers and networks, selected by labels."""

    def pause(self, name: str) -> None:
        """Freeze every process of a container."""

    def unpause(self, name: str) -> None:
        """Thaw a paused container."""

    def kill(self, name: str) -> None:
        """SIGKILL every process of a container (it stops, as a host losing power does)."""

    def start(self, name: str) -> None:
        """Start a stopped container again (its entrypoint runs anew)."""

    def status(self, name: str) -> str:
        """Current status of a container ('missing' if it does not exist)."""

    def list_containers(self, labels: dict[str, str]) -> list[ContainerInfo]:
        """Containers carrying all `labels` (any state)."""

    def remove_container(self, container_id: str) -> None:
        """Force-remove a container (unpausing it first if needed)."""

    def list_networks(self, labels: dict[str, str]) -> list[str]:
        """Ids of networks carrying all `labels`."""

    def remove_network(self, network_id: str) -> None:
        """Remove a network."""

    def ip_address(self, name: str) -> str:
        """The container's IP address on its (first) network."""

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        """Run `argv` inside the container; return exit code and output."""

    def netns_exec(self, name: str, argv: list[str]) -> tuple[int, str]:
        """Run a host binary (`argv`, e.g. iptables) inside the container's network namespace."""

    def stop(self, name: str, timeout_s: float = 10.0) -> None:
        """Stop a container: SIGTERM, then SIGKILL after `timeout_s` (docker stop)."""

    def exec_detached(self, name: str, argv: list[str]) -> None:
        """Start `argv` inside the container and return at once (it keeps running after this call)."""

    def mntns_exec(self, name: str, argv: list[str]) -> tuple[int, str]:
        """Run `argv` in the container's mount and PID namespaces with the host's privileges (e.g. mount)."""

    def resources(self, name: str) -> dict[str, int]:
        """The container's resource settings as the engine records them (Memory, MemorySwap, NanoCpus, ...)."""

    def update_resources(self, name: str, **fields: int) -> None:
        """Change resource settings of a running container (docker update; engine API field names)."""

    def cgroup_read(self, name: str, controller: str, filename: str) -> str:
        """Read a file of the container's cgroup v1 `controller` from the host (e.g. memory, memory.oom_control)."""

    def ports(self, name: str) -> dict[str, list[str]]:
        """Published ports: container port ("9090/tcp") -> host addresses ("127.0.0.1:32768")."""


def _filters(labels: dict[str, str]) -> dict[str, list[str]]:
    return {"label": [f"{k}={v}" if v else k for k, v in labels.items()]}


class DockerBackend:
    """ContainerBackend on a Docker engine (docker SDK)."""

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        self.client = client or docker.from_env(timeout=120)

    def pause(self, name: str) -> None:
        """Freeze a container (cgroup freezer), retrying the freezer's transient "unable to freeze"
        (a task that does not reach the frozen state in runc's short window, e.g. on a loaded machine)."""
        container = self.client.containers.get(name)
        for attempt in range(PAUSE_ATTEMPTS):
            try:
                container.pause()
                return
            except APIError as exc:
                if "unable to freeze" not in str(exc) or attempt == PAUSE_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def unpause(self, name: str) -> None:
        """Thaw a paused container."""
        self.client.containers.get(name).unpause()

    def kill(self, name: str) -> None:
        """docker kill (SIGKILL)."""
        self.client.containers.get(name).kill()

    def start(self, name: str) -> None:
        """docker start."""
        self.client.containers.get(name).start()

    def status(self, name: str) -> str:
        """Current status, or 'missing'."""
        try:
            return str(self.client.containers.get(name).status)
        except NotFound:
            return "missing"

    def list_containers(self, labels: dict[str, str]) -> list[ContainerInfo]:
        """Containers with all `labels`."""
        return [
            ContainerInfo(c.id, c.name, c.status, dict(c.labels))
            for c in self.client.containers.list(all=True, filters=_filters(labels))
        ]

    def remove_container(self, container_id: str) -> None:
        """Force-remove, unpausing first (a paused container cannot be killed cleanly).

        A removal already under way (another cleanup, or the run that owns it) is waited for."""
        try:
            container = self.client.containers.get(container_id)
            if container.status == "paused":
                container.unpause()
            container.remove(force=True, v=True)
        except NotFound:
            pass
        except APIError as exc:
            if exc.status_code != REMOVAL_IN_PROGRESS or not self._gone(container_id, REMOVAL_WAIT_S):
                raise

    def _gone(self, container_id: str, within_s: float) -> bool:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            try:
                self.client.containers.get(container_id)
            except NotFound:
                return True
            time.sleep(0.2)
        return False

    def list_networks(self, labels: dict[str, str]) -> list[str]:
        """Networks with all `labels`."""
        return [n.id for n in self.client.networks.list(filters=_filters(labels))]

    def remove_network(self, network_id: str) -> None:
        """Remove a network (ignore one already gone)."""
        try:
            self.client.networks.get(network_id).remove()
        except NotFound:
            pass
        except DockerException:
            raise

    def ip_address(self, name: str) -> str:
        """IP on the first network the container is attached to."""
        networks = self.client.containers.get(name).attrs["NetworkSettings"]["Networks"]
        for settings in networks.values():
            if settings.get("IPAddress"):
                return str(settings["IPAddress"])
        raise DockerException(f"container {name} has no IP address")

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        """docker exec, bounded by `timeout` inside the container."""
        result = self.client.containers.get(name).exec_run(["timeout", f"{timeout_s:g}", *argv])
        return int(result.exit_code), result.output.decode(errors="replace")

    def netns_exec(self, name: str, argv: list[str]) -> tuple[int, str]:
        """nsenter into the container's network namespace (needs root on the engine's host)."""
        pid = self.client.containers.get(name).attrs["State"]["Pid"]
        if not pid:
            raise DockerException(f"container {name} is not running")
        proc = subprocess.run(
            ["nsenter", "-t", str(pid), "-n", *argv],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
        )
        return proc.returncode, proc.stdout + proc.stderr

    def stop(self, name: str, timeout_s: float = 10.0) -> None:
        """docker stop (SIGTERM, SIGKILL after `timeout_s`, rounded up to whole seconds as the API wants)."""
        self.client.containers.get(name).stop(timeout=max(0, math.ceil(timeout_s)))

    def exec_detached(self, name: str, argv: list[str]) -> None:
        """docker exec -d: the process runs on in the container's namespaces and cgroup."""
        self.client.containers.get(name).exec_run(argv, detach=True)

    def _pid(self, name: str) -> int:
        pid = int(self.client.containers.get(name).attrs["State"]["Pid"] or 0)
        if not pid:
            raise DockerException(f"container {name} is not running")
        return pid

    def mntns_exec(self, name: str, argv: list[str]) -> tuple[int, str]:
        """nsenter into the container's mount and PID namespaces as the host's root.

        Entering the mount namespace makes binaries resolve in the container's filesystem; the PID
        namespace is entered too so that the container's /proc (and so /proc/self/mounts, df) works.
        The process keeps the host's capabilities (a container's root has no CAP_SYS_ADMIN to mount)
        and the host's cgroup (what it allocates, e.g. tmpfs pages, is not charged to the container).
        """
        proc = subprocess.run(
            ["nsenter", "-t", str(self._pid(name)), "-m", "-p", "--", *argv],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
        )
        return proc.returncode, proc.stdout + proc.stderr

    def resources(self, name: str) -> dict[str, int]:
        """Memory, MemorySwap, NanoCpus, CpuQuota, CpuPeriod from the container's HostConfig (0 = not set)."""
        host_config = self.client.containers.get(name).attrs["HostConfig"]
        return {key: int(host_config.get(key) or 0) for key in RESOURCE_FIELDS}

    def update_resources(self, name: str, **fields: int) -> None:
        """POST /containers/{id}/update with engine field names (the SDK's update() has no NanoCpus)."""
        unknown = set(fields) - set(RESOURCE_FIELDS)
        if unknown:
            raise ValueError(f"unknown resource fields {sorted(unknown)}; known: {RESOURCE_FIELDS}")
        api = self.client.api
        response = api._post_json(api._url("/containers/{0}/update", name), data=fields)
        api._result(response, True)

    def cgroup_read(self, name: str, controller: str, filename: str) -> str:
        """Read from /sys/fs/cgroup/<controller>/<the container's cgroup>/<filename> on the host (cgroup v1)."""
        for line in Path(f"/proc/{self._pid(name)}/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return (Path("/sys/fs/cgroup") / controller / path.lstrip("/") / filename).read_text()
        raise DockerException(f"container {name} has no cgroup v1 {controller} controller (cgroup v2 host?)")

    def ports(self, name: str) -> dict[str, list[str]]:
        """NetworkSettings.Ports as "ip:port" strings (empty while the container is stopped)."""
        published = self.client.containers.get(name).attrs["NetworkSettings"].get("Ports") or {}
        return {port: [f"{b['HostIp']}:{b['HostPort']}" for b in binds or []] for port, binds in published.items()}

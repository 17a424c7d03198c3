"""The container backend interface the harness needs, with the Docker implementation.

Faults and cleanup call this interface only, so tests can pass `FakeContainerBackend`
(harness.topology.fake) instead of a real engine.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Protocol

import docker
from docker.errors import DockerException, NotFound

LABEL_MANAGED = "dch.managed"
LABEL_RUN = "dch.run"


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


def _filters(labels: dict[str, str]) -> dict[str, list[str]]:
    return {"label": [f"{k}={v}" if v else k for k, v in labels.items()]}


class DockerBackend:
    """ContainerBackend on a Docker engine (docker SDK)."""

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        self.client = client or docker.from_env(timeout=120)

    def pause(self, name: str) -> None:
        """Freeze a container (cgroup freezer)."""
        self.client.containers.get(name).pause()

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
        """Force-remove, unpausing first (a paused container cannot be killed cleanly)."""
        try:
            container = self.client.containers.get(container_id)
            if container.status == "paused":
                container.unpause()
            container.remove(force=True, v=True)
        except NotFound:
            pass

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

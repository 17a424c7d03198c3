"""Remove what harness runs left behind, selected by label."""

from __future__ import annotations

from dataclasses import dataclass, field

from docker.errors import DockerException

from harness.topology.backend import LABEL_MANAGED, LABEL_RUN, ContainerBackend


@dataclass
class CleanupReport:
    """What was removed."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line each: what could not be removed, and why


def cleanup(backend: ContainerBackend, run_id: str | None = None) -> CleanupReport:
    """Remove containers, then networks, of run `run_id` (or of every harness run)."""
    labels = {LABEL_MANAGED: "true"}
    if run_id:
        labels[LABEL_RUN] = run_id
    report = CleanupReport()
    for info in backend.list_containers(labels):
        try:
            backend.remove_container(info.id)
        except DockerException as exc:  # the others are still removed; the caller names this one
            report.failed.append(f"container {info.name}: {_one_line(exc)}")
        else:
            report.containers.append(info.name)
    for network in backend.list_networks(labels):
        try:
            backend.remove_network(network)
        except DockerException as exc:
            report.failed.append(f"network {network}: {_one_line(exc)}")
        else:
            report.networks.append(network)
    return report


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def leftovers(backend: ContainerBackend, run_id: str) -> list[str]:
    """Names of containers of `run_id` that still exist, with their status."""
    return [f"{c.name} ({c.status})" for c in backend.list_containers({LABEL_MANAGED: "true", LABEL_RUN: run_id})]

"""Remove what harness runs left behind, selected by label."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.topology.backend import LABEL_MANAGED, LABEL_RUN, ContainerBackend


@dataclass
class CleanupReport:
    """What was removed."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)


def cleanup(backend: ContainerBackend, run_id: str | None = None) -> CleanupReport:
    """Remove containers, then networks, of run `run_id` (or of every harness run)."""
    labels = {LABEL_MANAGED: "true"}
    if run_id:
        labels[LABEL_RUN] = run_id
    report = CleanupReport()
    for info in backend.list_containers(labels):
        backend.remove_container(info.id)
        report.containers.append(info.name)
    for network in backend.list_networks(labels):
        backend.remove_network(network)
        report.networks.append(network)
    return report


def leftovers(backend: ContainerBackend, run_id: str) -> list[str]:
    """Names of containers of `run_id` that still exist, with their status."""
    return [f"{c.name} ({c.status})" for c in backend.list_containers({LABEL_MANAGED: "true", LABEL_RUN: run_id})]

"""The one interface scenarios use to reach an environment, and its Docker implementation.

Features and steps only see `Environment`: start it, find runners and production, inject
and revert faults, read GitHub, Prometheus (and later Alertmanager). A later backend can
target live infrastructure in a maintenance window behind the same interface.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Protocol

import docker

from harness.bootstrap.engine import ensure_engine
from harness.bootstrap.images import build_images
from harness.bootstrap.progress import Progress
from harness.core.errors import TopologyError
from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import Profile
from harness.drivers.github import GitHubClient
from harness.drivers.production import ProductionClient
from harness.drivers.prometheus import PrometheusClient
from harness.drivers.sink import SinkClient
from harness.faults.base import Fault
from harness.faults.broken_release import BrokenRelease
from harness.faults.connection_resets import ConnectionResets
from harness.faults.credentials import ExpiredCertificate
from harness.faults.deploy_lock import DeployLockHeld
from harness.faults.partition import NetworkPartition
from harness.faults.runner_offline import RunnerOffline
from harness.faults.service_paused import ServicePaused
from harness.topology.backend import DockerBackend
from harness.topology.docker_topology import REPO, DockerTopology
from harness.topology.ssh_material import cert_valid_before, issue_user_cert
from harness.topology.state_file import STATE_FILE, record_state_file, state_file_read


class Environment(Protocol):
    """What a scenario may do with the environment under test."""

    journal: Journal
    profile: Profile
    pipeline: PipelineSource
    github: GitHubClient
    prometheus: PrometheusClient
    production: ProductionClient
    sink: SinkClient

    def runner_name(self, role: str) -> str:
        """GitHub name of the runner with `role` (primary, secondary, ...)."""

    def runner_health_selector(self, role: str) -> str:
        """PromQL selector of the scrape target of the runner with `role`."""

    def runner_offline(self, role: str) -> Fault:
        """A fault that takes the runner with `role` offline."""

    def monitoring_unreachable(self) -> Fault:
        """A fault that makes Prometheus unreachable for the pipeline."""

    def production_unresponsive(self) -> Fault:
        """A fault that makes the production host stop answering (SSH and HTTP hang)."""

    def deploy_certificate_expired(self) -> Fault:
        """A fault that hands the pipeline an expired deploy certificate."""

    def release_broken(self, version: str) -> Fault:
        """A fault that makes release `version` fail its health check once installed."""

    def deploy_lock_held(self) -> Fault:
        """A fault that holds production's deploy lock, as a stuck earlier deploy would."""

    def ssh_to_production_flaky(self, every: int) -> Fault:
        """A fault that resets every `every`-th SSH connection from the runners to production."""

    def runner_cut_off_from_github(self, role: str) -> Fault:
        """A fault that partitions the runner with `role` from GitHub (Prometheus still reaches it)."""

    def runner_status_selector(self, role: str) -> str:
        """PromQL selector of the runner's own health report (the exporter's runner_status)."""

    def production_state(self) -> dict[str, Any]:
        """Read (and journal) the pipeline's state file on production: {"state": {...}} or {"error": "..."}."""

    def secrets(self) -> list[str]:
        """Secret values that must never appear in logs, artifacts or reports."""

    def leftovers(self) -> list[str]:
        """Faults or resources still in place that should not be (must be empty between scenarios)."""

    def close(self) -> None:
        """Tear everything down."""


class DockerEnvironment:
    """Environment backed by a DockerTopology on the local engine."""

    def __init__(
        self, pipeline: PipelineSource, profile: Profile, journal_dir: Path, progress: Progress | None = None
    ) -> None:
        progress = progress or Progress()
        ensure_engine(progress)
        client = docker.from_env(timeout=300)
        images = build_images(client, progress)
        run_id = uuid.uuid4().hex[:8]
        self.journal = Journal(
            run_id,
            journal_dir / f"journal-{run_id}.jsonl",
            profile=profile.name,
            meta={
                "timers": profile.timers,
                "budgets": profile.budgets,
                "pipeline": str(pipeline.root),
                "variant": pipeline.variant,
                "images": {k: v.tag for k, v in images.items()},
            },
        )
        self.profile = profile
        self.pipeline = pipeline
        self.backend = DockerBackend(client)
        self.topology = DockerTopology(
            {k: v.tag for k, v in images.items()}, pipeline, profile, self.journal, run_id=run_id, backend=self.backend
        )
        with progress.step("topology") as rec:
            endpoints = self.topology.start()
            rec.detail = f"run {run_id}: github {endpoints.github}, prometheus {endpoints.prometheus}"
        self.journal.redact_with(self.secrets)
        self.journal.info("secrets.registered", count=len(self.secrets()))
        self.github = GitHubClient(endpoints.github, REPO, journal=self.journal)
        self.prometheus = PrometheusClient(endpoints.prometheus, journal=self.journal)
        self.production = ProductionClient(endpoints.production, journal=self.journal)
        self.sink = SinkClient(endpoints.sink, journal=self.journal)

    @property
    def run_id(self) -> str:
        """The topology's run id (its containers' dch.run label)."""
        return self.topology.run_id

    def runner_name(self, role: str) -> str:
        """Runner names are runner-<role>."""
        return f"runner-{role}"

    def runner_health_selector(self, role: str) -> str:
        """The runner's scrape target in the pipeline's scrape config."""
        return f'up{{job="github-runners",runner="{role}"}}'

    def runner_offline(self, role: str) -> Fault:
        """Freeze the runner's container."""
        return RunnerOffline(self.journal, self.backend, self.topology.runner_container(role), role)

    def runner_cut_off_from_github(self, role: str) -> Fault:
        """iptables DROP between the runner and the github container, inside the runner's netns."""
        return NetworkPartition(
            self.journal,
            self.backend,
            self.topology.runner_container(role),
            self.topology.container_name("github"),
            "github",
            ["curl", "-sS", "-m", "2", "-o", "/dev/null", "http://github:8000/healthz"],
            tag=f"dch-{self.run_id}-partition",
        )

    def ssh_to_production_flaky(self, every: int) -> Fault:
        """iptables nth-connection resets from both runners to prod-web-1:22."""
        return ConnectionResets(
            self.journal,
            self.backend,
            [self.topology.runner_container(r) for r in ("primary", "secondary")],
            self.topology.container_name("prod-web-1"),
            "prod-web-1",
            22,
            every,
            tag=f"dch-{self.run_id}-resets",
        )

    def deploy_lock_held(self) -> Fault:
        """flock on /opt/app/.deploy.lock as the deploy user, until reverted."""
        return DeployLockHeld(
            self.journal, self.backend, self.topology.container_name("prod-web-1"), "/opt/app/.deploy.lock"
        )

    def release_broken(self, version: str) -> Fault:
        """Mark the release broken on the production host."""
        return BrokenRelease(self.journal, self.backend, self.topology.container_name("prod-web-1"), version)

    def deploy_certificate_expired(self) -> Fault:
        """Swap the DEPLOY_SSH_CERT secret for a certificate of the same CA and key that expired yesterday."""
        ssh = self.topology.ssh
        if ssh is None:
            raise TopologyError("the topology has no SSH material")
        expired = issue_user_cert(ssh, "-2d:-1d", f"deploy-expired-{self.run_id}")
        return ExpiredCertificate(
            self.journal, self.github.set_secret, "DEPLOY_SSH_CERT", ssh.deploy_cert, expired, cert_valid_before
        )

    def production_unresponsive(self) -> Fault:
        """Freeze the production host's container."""
        return ServicePaused(
            self.journal,
            self.backend,
            self.topology.container_name("prod-web-1"),
            "production",
            self.production.answers,
        )

    def runner_status_selector(self, role: str) -> str:
        """The exporter's runner_status for the runner."""
        return f'runner_status{{job="github-runners",runner="{role}"}}'

    def monitoring_unreachable(self) -> Fault:
        """Freeze the Prometheus container."""
        return ServicePaused(
            self.journal, self.backend, self.topology.container_name("prometheus"), "prometheus", self.prometheus.ready
        )

    def production_state(self) -> dict[str, Any]:
        """Read the state file inside the production host's container; journal what was read.

        Returns {"state": {...}} or {"error": "..."} (unreadable or not JSON): judging it is a checker's job.
        """
        try:
            container = self.backend.client.containers.get(self.topology.container_name("prod-web-1"))
            result = container.exec_run(["cat", STATE_FILE])
        except docker.errors.APIError as exc:  # e.g. the host is frozen: Docker refuses to exec in it
            return record_state_file(self.journal, state_file_read(None, f"docker exec failed: {exc.explanation}"))
        text = result.output.decode(errors="replace")
        if result.exit_code != 0:
            return record_state_file(self.journal, state_file_read(None, text[-300:]))
        return record_state_file(self.journal, state_file_read(text))

    def secrets(self) -> list[str]:
        """The deploy key (each line is checked separately by leak checks)."""
        return self.topology.ssh.secrets if self.topology.ssh else []

    def leftovers(self) -> list[str]:
        """Paused containers of this run, and iptables rules this run added in its runners."""
        found = [
            f"{c.name} is paused" for c in self.backend.list_containers(self.topology.labels) if c.status == "paused"
        ]
        for role in ("primary", "secondary"):
            container = self.topology.runner_container(role)
            code, out = self.backend.netns_exec(container, ["iptables", "-S"])
            found += [
                f"{container}: stray rule {line}"
                for line in out.splitlines()
                if code == 0 and f"dch-{self.run_id}" in line
            ]
        return found

    def close(self) -> None:
        """Close clients and remove the topology."""
        for client in (self.github, self.prometheus, self.production, self.sink):
            client.close()
        self.topology.stop()

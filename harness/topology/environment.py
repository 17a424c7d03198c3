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
import httpx

from harness.bootstrap.engine import ensure_engine
from harness.bootstrap.images import build_images
from harness.bootstrap.progress import Progress
from harness.core.errors import TopologyError
from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import Profile
from harness.drivers.components import ComponentsClient
from harness.drivers.github import GitHubClient
from harness.drivers.production import ProductionClient
from harness.drivers.prometheus import PrometheusClient
from harness.drivers.sink import SinkClient
from harness.faults.base import Fault
from harness.faults.broken_release import MARKER_DIR as BROKEN_DIR
from harness.faults.broken_release import BrokenRelease
from harness.faults.connection_resets import ConnectionResets
from harness.faults.credentials import ExpiredCertificate
from harness.faults.deploy_lock import HOLDER_PATTERN, DeployLockHeld, PgDeployTxn
from harness.faults.migration_fails import MigrationFails
from harness.faults.partition import NetworkPartition
from harness.faults.runner_killed import RunnerKilled
from harness.faults.runner_offline import RunnerOffline
from harness.faults.service_paused import ServicePaused
from harness.faults.undo import UndoLog
from harness.topology.backend import DockerBackend
from harness.topology.docker_topology import DEPLOY_LOCK_SELECTOR, PROD_HOST, REPO, WEB_HOSTS, DockerTopology
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
    components: ComponentsClient
    sink: SinkClient

    def runner_name(self, role: str) -> str:
        """GitHub name of the runner with `role` (primary, secondary, ...)."""

    def unauthorized_runners(self) -> list[str]:
        """GitHub names of the runners that carry the production labels but are not authorized for it."""

    def runner_health_selector(self, role: str) -> str:
        """PromQL selector of the scrape target of the runner with `role`."""

    def deploy_lock_selector(self) -> str:
        """PromQL selector of the deploy lock as monitoring sees it: one series per open deploy transaction."""

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

    def release_migration_fails(self, version: str) -> Fault:
        """A fault that makes release `version`'s schema migration fail (its transaction aborts)."""

    def deploy_lock_held(self) -> Fault:
        """A fault that holds production's deploy lock, as a stuck earlier deploy would."""

    def ssh_to_production_flaky(self, every: int) -> Fault:
        """A fault that resets one SSH connection in `every` (at random) from the runners to production."""

    def runner_cut_off_from_github(self, role: str) -> Fault:
        """A fault that partitions the runner with `role` from GitHub (Prometheus still reaches it)."""

    def runner_killed(self, role: str) -> Fault:
        """A fault that kills the runner host with `role` (SIGKILL; it is started again at revert)."""

    def runner_cut_off_from_production(self, role: str) -> Fault:
        """A fault that partitions the runner with `role` from every production web host."""

    def production_quiescence(self) -> dict[str, Any]:
        """Read (and journal as production.quiescence) whether a deploy transaction is open in production."""

    def production_residue(self) -> dict[str, Any]:
        """Read (and journal as production.residue) open deploy transactions and deploy temp files per host."""

    def backend_start_times(self) -> dict[str, str | None]:
        """Read (and journal as production.backend_started) when each web host's backend started."""

    def runner_status_selector(self, role: str) -> str:
        """PromQL selector of the runner's own health report (the exporter's runner_status)."""

    def production_state(self) -> dict[str, Any]:
        """Read (and journal) the pipeline's state file on production (the first web host):
        {"state": {...}} or {"error": "..."}."""

    def secrets(self) -> list[str]:
        """Secret values that must never appear in logs, artifacts or reports."""

    def leftovers(self) -> list[str]:
        """Faults or resources still in place that should not be (must be empty between scenarios)."""

    def close(self) -> None:
        """Tear everything down."""


# the pipeline's temporary files on a web host (pipeline/production/app-release): a symlink being
# switched, a bundle being fetched or unpacked; any of them after a deploy is over is a leftover
RESIDUE_FIND = [
    "/opt/app",
    "-maxdepth",
    "3",
    "(",
    "-name",
    ".current.*",
    "-o",
    "-name",
    ".fetch-*",
    "-o",
    "-name",
    ".incoming-*",
    ")",
]


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
        # every fault's undo, on disk before it is injected: replayed by a later harness should this one die
        self.undo = UndoLog.for_run(run_id)
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
        self.components = ComponentsClient(
            endpoints.backends,
            endpoints.frontends,
            endpoints.lb,
            self.topology.schema_reader(),
            journal=self.journal,
        )
        # the first web host's own backend: how "production does not answer" is told from the lb's failover
        self._first_host = ProductionClient(endpoints.backends[PROD_HOST], journal=self.journal)
        self.sink = SinkClient(endpoints.sink, journal=self.journal)

    @property
    def run_id(self) -> str:
        """The topology's run id (its containers' dch.run label)."""
        return self.topology.run_id

    def runner_name(self, role: str) -> str:
        """Runner names are runner-<role>."""
        return f"runner-{role}"

    def unauthorized_runners(self) -> list[str]:
        """The topology's runners whose exporter reports authorized_for_prod="false"."""
        return [r.name for r in self.topology.runners if not r.authorized_for_prod]

    def runner_health_selector(self, role: str) -> str:
        """The runner's scrape target in the pipeline's scrape config."""
        return f'up{{job="github-runners",runner="{role}"}}'

    def deploy_lock_selector(self) -> str:
        """prod-db's postgres exporter's deploy_lock_open (the pipeline's custom query and scrape job)."""
        return DEPLOY_LOCK_SELECTOR

    def runner_offline(self, role: str) -> Fault:
        """Freeze the runner's container."""
        return RunnerOffline(self.journal, self.backend, self.topology.runner_container(role), role, undo=self.undo)

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
            undo=self.undo,
        )

    def runner_killed(self, role: str) -> Fault:
        """docker kill the runner's container; revert starts it and waits until GitHub has it online again."""
        name = self.runner_name(role)
        timeout = self.profile.budget("runner_ready_timeout_s")
        return RunnerKilled(
            self.journal,
            self.backend,
            self.topology.runner_container(role),
            role,
            lambda: any(r["name"] == name and r["status"] == "online" for r in self.github.runners()),
            restart_timeout_s=timeout,
            undo=self.undo,
        )

    def runner_cut_off_from_production(self, role: str) -> Fault:
        """iptables DROP between the runner and every production web host, inside the runner's netns."""
        return NetworkPartition(
            self.journal,
            self.backend,
            self.topology.runner_container(role),
            [self.topology.container_name(host) for host in WEB_HOSTS],
            "production",
            ["curl", "-sS", "-m", "2", "-o", "/dev/null", f"http://{PROD_HOST}:8080/version"],
            tag=f"dch-{self.run_id}-partition",
            undo=self.undo,
        )

    def production_quiescence(self) -> dict[str, Any]:
        """Open deploy transactions in prod-db; quiescent when there are none (journalled)."""
        try:
            open_txns = PgDeployTxn(self.topology.pg_connect).open_transactions()
            read: dict[str, Any] = {"quiescent": not open_txns, "open_transactions": open_txns}
        except Exception as exc:  # pg8000 and socket errors alike: production's state cannot be told
            read = {"quiescent": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        self.journal.info("production.quiescence", **read)
        return read

    def production_residue(self) -> dict[str, Any]:
        """`find` the pipeline's temporary files on every web host, and the open deploy transactions."""
        read: dict[str, Any] = {"files": {}}
        try:
            for host in WEB_HOSTS:
                code, out = self.backend.exec(self.topology.container_name(host), ["find", *RESIDUE_FIND])
                if code != 0:
                    raise TopologyError(f"find on {host} exited {code}: {out.strip()[-200:]}")
                read["files"][host] = sorted(out.split())
            read["open_transactions"] = PgDeployTxn(self.topology.pg_connect).open_transactions()
        except Exception as exc:  # docker, pg8000 or socket errors alike: the leftovers cannot be told
            read["error"] = f"{type(exc).__name__}: {exc}"[:300]
        self.journal.info("production.residue", **read)
        return read

    def backend_start_times(self) -> dict[str, str | None]:
        """/run/app/backend.started_at of every web host (None when unreadable)."""
        started: dict[str, str | None] = {}
        for host in WEB_HOSTS:
            code, out = self.backend.exec(self.topology.container_name(host), ["cat", "/run/app/backend.started_at"])
            started[host] = out.strip() if code == 0 else None
        self.journal.info("production.backend_started", started=started)
        return started

    def ssh_to_production_flaky(self, every: int) -> Fault:
        """iptables nth-connection resets from both runners to prod-web-1:22 (the shell pipeline's only host;
        the other web host is not disturbed yet)."""
        return ConnectionResets(
            self.journal,
            self.backend,
            [self.topology.runner_container(r) for r in ("primary", "secondary")],
            self.topology.container_name("prod-web-1"),
            "prod-web-1",
            22,
            every,
            tag=f"dch-{self.run_id}-resets",
            # random, not every n-th: each deploy opens the same few connections in the same order,
            # so an n-th counter always reset the same one (the heartbeat renewer's, which falls back
            # to the other host): measured 59 of 59 deploys succeeding with every retry removed
            mode="random",
            undo=self.undo,
        )

    def deploy_lock_held(self) -> Fault:
        """An open deploy_txn row in prod-db with a live heartbeat, and the shell pipeline's flock on
        /opt/app/.deploy.lock on the first web host (as the deploy user), until reverted."""
        lease = self.profile.timers.get("txn_lease_s")
        return DeployLockHeld(
            self.journal,
            self.backend,
            self.topology.container_name(PROD_HOST),
            "/opt/app/.deploy.lock",
            txn=PgDeployTxn(self.topology.pg_connect),
            # renewed well within the pipeline's lease, so no watchdog takes it for an abandoned deploy
            heartbeat_s=min(1.0, lease / 4) if lease else 1.0,
            undo=self.undo,
        )

    def release_broken(self, version: str) -> Fault:
        """Mark the release broken on every web host; proven by every backend's own report."""
        return BrokenRelease(
            self.journal,
            self.backend,
            [self.topology.container_name(h) for h in WEB_HOSTS],
            version,
            reported=self.components.broken_releases,
            undo=self.undo,
        )

    def release_migration_fails(self, version: str) -> Fault:
        """The artifact store serves `version` with an up.sql that fails after its first statement."""
        return MigrationFails(self.journal, self.topology.endpoints.artifacts, version)

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
        """Freeze the first web host's container (the one PROD_HOST names); proven by its own backend
        not answering (through the lb, the other host would still answer)."""
        return ServicePaused(
            self.journal,
            self.backend,
            self.topology.container_name(PROD_HOST),
            "production",
            self._first_host.answers,
            undo=self.undo,
        )

    def runner_status_selector(self, role: str) -> str:
        """The exporter's runner_status for the runner."""
        return f'runner_status{{job="github-runners",runner="{role}"}}'

    def monitoring_unreachable(self) -> Fault:
        """Freeze the Prometheus container."""
        return ServicePaused(
            self.journal,
            self.backend,
            self.topology.container_name("prometheus"),
            "prometheus",
            self.prometheus.ready,
            undo=self.undo,
        )

    def production_state(self) -> dict[str, Any]:
        """Read the state file inside the production host's container; journal what was read.

        Returns {"state": {...}} or {"error": "..."} (unreadable or not JSON): judging it is a checker's job.
        """
        try:
            container = self.backend.client.containers.get(self.topology.container_name(PROD_HOST))
            result = container.exec_run(["cat", STATE_FILE])
        except docker.errors.APIError as exc:  # e.g. the host is frozen: Docker refuses to exec in it
            return record_state_file(self.journal, state_file_read(None, f"docker exec failed: {exc.explanation}"))
        text = result.output.decode(errors="replace")
        if result.exit_code != 0:
            return record_state_file(self.journal, state_file_read(None, text[-300:]))
        return record_state_file(self.journal, state_file_read(text))

    def secrets(self) -> list[str]:
        """The deploy key (each line is checked separately by leak checks) and prod-db's password."""
        ssh = self.topology.ssh.secrets if self.topology.ssh else []
        return [*ssh, self.topology.db_password]

    def leftovers(self) -> list[str]:
        """Paused containers of this run, iptables rules this run added in its runners, and production
        faults still in place: broken-release markers, artifact-store faults, held deploy locks."""
        paused = {c.name for c in self.backend.list_containers(self.topology.labels) if c.status == "paused"}
        found = [f"{name} is paused" for name in sorted(paused)]
        for role in ("primary", "secondary"):
            container = self.topology.runner_container(role)
            code, out = self.backend.netns_exec(container, ["iptables", "-S"])
            found += [
                f"{container}: stray rule {line}"
                for line in out.splitlines()
                if code == 0 and f"dch-{self.run_id}" in line
            ]
        return found + self._production_leftovers(paused)

    def _production_leftovers(self, paused: set[str]) -> list[str]:
        found: list[str] = []

        def run(container: str, argv: list[str]) -> tuple[int, str]:
            if container in paused:  # Docker refuses to exec in it; it is reported as paused already
                return 1, ""
            try:
                return self.backend.exec(container, argv)
            except docker.errors.APIError as exc:
                found.append(f"{container}: cannot check for leftovers: {exc.explanation}")
                return 1, ""

        for host in WEB_HOSTS:
            container = self.topology.container_name(host)
            code, out = run(container, ["ls", "-A", BROKEN_DIR])
            found += [f"{container}: release {v} still marked broken" for v in out.split() if code == 0]
        first = self.topology.container_name(PROD_HOST)
        if run(first, ["pgrep", "-f", HOLDER_PATTERN])[0] == 0:
            found.append(f"{first}: a process still holds /opt/app/.deploy.lock")
        try:
            faults = httpx.get(f"{self.topology.endpoints.artifacts}/_faults", timeout=5).raise_for_status().json()
            found += [f"artifacts: {f} still set on {v}" for v, fs in faults.get("faults", {}).items() for f in fs]
        except (httpx.HTTPError, ValueError) as exc:
            found.append(f"artifacts: cannot list faults: {exc}")
        try:
            found += PgDeployTxn(self.topology.pg_connect).open_by_faults()
        except Exception as exc:  # pg8000 raises its own and socket errors: any of them means "cannot tell"
            found.append(f"prod-db: cannot list deploy_txn rows: {type(exc).__name__}: {exc}")
        return found

    def close(self) -> None:
        """Close clients and remove the topology."""
        for client in (self.github, self.prometheus, self.production, self._first_host, self.components, self.sink):
            client.close()
        self.topology.stop()

"""A Docker-free `Environment`: the driver fakes, a real journal, and faults that act on the fakes.

Steps, fixtures, checks and the CLI can be exercised against it in milliseconds::

    env = FakeEnvironment().with_runner("primary").with_runner("secondary").with_production_version("1.0.0")
    with env.runner_offline("primary") as fault:  # GitHub reports it offline, its `up` series turns 0
        ...
    env.leftovers()  # [] once every fault is reverted

The drivers (`env.github`, `env.prometheus`, `env.production`, `env.sink`) are the real clients,
journalling into `env.journal`, on the transports of the fakes (`env.fake_github`, ...). Tests
set state on the fakes directly, or play the pipeline's part with `complete_deploy`.

Prometheus scrapes: before answering any query, the fake Prometheus stores one sample per
registered runner at the current time (`up` 0 while the runner is frozen, `runner_status` 0
while it cannot reach GitHub), as a real Prometheus scraping continuously would have. So a
fault's effect shows in samples taken after its onset, as the steps expect.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from harness.core.errors import ConfigError
from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import Profile, load_profile
from harness.core.settings import project_root
from harness.drivers.components import FakeComponents
from harness.drivers.fakes import FakeGitHub, FakeProduction, FakePrometheus, FakeSink
from harness.drivers.prometheus import PrometheusClient
from harness.faults.base import Fault
from harness.topology.docker_topology import DEFAULT_RUNNERS, DEPLOY_LOCK_SELECTOR, REPO
from harness.topology.state_file import STATE_FILE, record_state_file, state_file_read

RUNNER_JOB = "github-runners"
CERT_SECRET = "DEPLOY_SSH_CERT"
VALID_CERT = "ssh-ed25519-cert-v01@openssh.com AAAAfake-valid-deploy-cert deploy"
EXPIRED_CERT = "ssh-ed25519-cert-v01@openssh.com AAAAfake-expired-deploy-cert deploy-expired"


class FakeFault(Fault):
    """A fault on the fakes' state: `inject` and `revert` change it, `took_effect` observes it through
    the drivers (so the check is journalled like a real one), `in_place` reads the state for leftovers."""

    def __init__(
        self,
        journal: Journal,
        name: str,
        *,
        inject: Callable[[], None],
        revert: Callable[[], None],
        took_effect: Callable[[], bool],
        in_place: Callable[[], bool],
        leftover: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name  # before Fault.__init__, which names the window after it
        super().__init__(journal)
        self._inject, self._revert, self._took_effect, self._in_place = inject, revert, took_effect, in_place
        self.leftover = leftover
        self.details = dict(details or {})

    def describe(self) -> dict[str, Any]:
        """The fault's parameters (as the Docker fault of the same name journals them, where it can)."""
        return {**self.details, "mode": "fake"}

    def inject(self) -> None:
        """Change the fakes' state."""
        self._inject()

    def took_effect(self) -> bool:
        """Observed through the drivers: the fault is in place as the harness sees it."""
        return self._took_effect()

    def revert(self) -> None:
        """Restore the fakes' state (idempotent)."""
        self._revert()

    def leftovers(self) -> list[str]:
        """What is still in place after revert."""
        return [self.leftover] if self._in_place() else []


class _ScrapingTransport(httpx.BaseTransport):
    """The fake Prometheus's transport, scraping the runners before every request it answers."""

    def __init__(self, inner: httpx.BaseTransport, scrape: Callable[[], None]) -> None:
        self._inner, self._scrape = inner, scrape

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Scrape, then answer as the fake does."""
        self._scrape()
        return self._inner.handle_request(request)


class FakeEnvironment:
    """An `Environment` on in-memory fakes of GitHub, Prometheus, production and the webhook sink.

    Nothing runs by itself: runners are registered with `with_runner`, production's version with
    `with_production_version`, and a deploy run moves only when a test moves it (`complete_deploy`,
    or `fake_github.set_run` / `emit`).
    """

    def __init__(
        self,
        *,
        profile: Profile | None = None,
        budgets: Mapping[str, float] | None = None,
        journal_path: Path | None = None,
        pipeline: PipelineSource | None = None,
        secrets: Sequence[str] | None = None,
    ) -> None:
        """Nightly profile unless `profile` is given, with `budgets` overriding some of its budgets."""
        profile = profile or load_profile("nightly", project_root() / "profiles")
        if budgets:
            unknown = sorted(set(budgets) - set(profile.budgets))
            if unknown:
                raise ConfigError(f"unknown budget(s) {unknown}; the profile has {sorted(profile.budgets)}")
            profile = dataclasses.replace(profile, budgets={**profile.budgets, **budgets})
        self.profile = profile
        self.pipeline = pipeline or PipelineSource(project_root() / "pipeline")
        self._secrets = list(secrets) if secrets is not None else [f"fake-deploy-key-{uuid.uuid4().hex}"]
        self.journal = Journal(
            f"fake-{uuid.uuid4().hex[:8]}",
            journal_path,
            profile=profile.name,
            meta={
                "timers": profile.timers,
                "budgets": profile.budgets,
                "pipeline": str(self.pipeline.root),
                "variant": self.pipeline.variant,
                "images": {},
                "environment": "fake",
            },
        )
        self.journal.redact_with(self.secrets)
        self.journal.info("secrets.registered", count=len(self._secrets))

        self.fake_github = FakeGitHub(REPO)
        self.fake_prometheus = FakePrometheus()
        self.fake_production = FakeProduction(version=None)
        self.fake_components = FakeComponents(version=None)
        self.fake_sink = FakeSink()
        self.fake_github.secrets[CERT_SECRET] = VALID_CERT
        self.github = self.fake_github.client(journal=self.journal)
        self.prometheus = PrometheusClient(
            self.fake_prometheus.base_url,
            journal=self.journal,
            transport=_ScrapingTransport(self.fake_prometheus.transport, self.scrape),
        )
        self.production = self.fake_production.client(journal=self.journal)
        self.components = self.fake_components.client(journal=self.journal)
        self.sink = self.fake_sink.client(journal=self.journal)

        self.state_file: str | None = None  # the raw content of STATE_FILE on production (None: no file)
        self.broken_releases: set[str] = set()
        self.failing_migrations: set[str] = set()  # releases whose bundle's up.sql fails
        self.lock_held = False
        self.ssh_reset_every: int | None = None
        self._roles: list[str] = []
        self._frozen: set[str] = set()  # runners whose host is frozen (runner_offline) or killed
        self._cut_from_production: set[str] = set()  # runners partitioned from the production hosts
        self.open_transactions: list[dict[str, Any]] = []  # open deploy transactions, as prod-db would list them
        self.residue_files: dict[str, list[str]] = {}  # host -> deploy temp files left there
        self.backend_started: dict[str, str | None] = {"prod-web-1": "1.0", "prod-web-2": "1.0"}
        self._cut_off: set[str] = set()  # runners partitioned from GitHub
        self._unauthorized: set[str] = set()  # runners whose exporter says authorized_for_prod="false"

    # ---- builders --------------------------------------------------------
    def with_runner(self, role: str, *, authorized: bool | None = None) -> FakeEnvironment:
        """Register runner-<role>, online, in GitHub (labels as in the Docker topology) and scrape it; returns self.

        `authorized` (authorized_for_prod) defaults to what the Docker topology gives that role.
        """
        if role in self._roles:
            raise ConfigError(f"the {role} runner is registered already")
        spec = next((r for r in DEFAULT_RUNNERS if r.role == role), None)
        labels = list(spec.labels) if spec else ["self-hosted", "linux", "x64", role]
        if authorized is None:
            authorized = spec.authorized_for_prod if spec else True
        if not authorized:
            self._unauthorized.add(role)
        self.fake_github.add_runner(self.runner_name(role), labels)
        self._roles.append(role)
        self.scrape()
        return self

    def with_production_version(self, version: str, *, runner_role: str = "primary") -> FakeEnvironment:
        """Production serves `version`, and its state file records it as deployed by runner-<runner_role>."""
        self._install(version, previous="", runner=self.runner_name(runner_role))
        return self

    def with_state_file(self, content: Mapping[str, Any] | str | None) -> FakeEnvironment:
        """Replace the state file: a mapping (written as JSON), raw text (e.g. not JSON), or None (no file)."""
        self.state_file = json.dumps(dict(content)) if isinstance(content, Mapping) else content
        return self

    def with_secrets(self, *values: str) -> FakeEnvironment:
        """The secret values `secrets()` returns (redacted from the journal from now on)."""
        self._secrets = list(values)
        self.journal.info("secrets.registered", count=len(self._secrets))
        return self

    # ---- playing the rest of the world ------------------------------------
    @property
    def run_id(self) -> str:
        """This environment's run id (the journal's)."""
        return self.journal.run_id

    def scrape(self, at: float | None = None) -> None:
        """Store one sample per runner at `at` (default now), unless Prometheus is down.

        `up` is 0 while the runner's host is frozen; `runner_status` (the exporter's own report) is
        0 while the runner cannot reach GitHub and is not scraped at all while the host is frozen.
        """
        if not self.fake_prometheus.answering:
            return
        ts = time.time() if at is None else at
        for role in self._roles:
            labels = {"job": RUNNER_JOB, "runner": role}
            frozen = role in self._frozen
            self.fake_prometheus.add_sample({"__name__": "up", **labels}, ts, 0 if frozen else 1)
            if not frozen:
                status = 0 if role in self._cut_off else 1
                authorized = "false" if role in self._unauthorized else "true"
                self.fake_prometheus.add_sample(
                    {"__name__": "runner_status", **labels, "authorized_for_prod": authorized}, ts, status
                )

    def complete_deploy(self, run_id: int, *, role: str = "primary", conclusion: str = "success") -> int:
        """Play the pipeline's part in run `run_id`: its deploy job starts on runner-<role> and ends with
        `conclusion`, then the run completes (GitHub events emitted). A success installs the run's
        version on production (version, health, state file). Returns the job id."""
        run = self.fake_github.runs[run_id]
        version = str(run["inputs"].get("version", ""))
        runner = self.runner_name(role)
        job_id = self.fake_github.add_job(run_id, "deploy", status="in_progress", runner_name=runner)
        self.fake_github.emit("job.started", run_id=run_id, job_key="deploy", job_id=job_id, runner_name=runner)
        self.fake_github.set_run(run_id, status="in_progress")
        if conclusion == "success":
            self._install(version, previous=self.fake_production.version or "", runner=runner)
            self.fake_github.append_log(job_id, f"activated {version}")
        else:
            self.fake_github.append_log(job_id, f"deploy of {version} ended {conclusion}")
        self.fake_github.set_job(job_id, status="completed", conclusion=conclusion)
        self.fake_github.emit("job.completed", run_id=run_id, job_key="deploy", job_id=job_id, conclusion=conclusion)
        self.fake_github.set_run(run_id, status="completed", conclusion=conclusion)
        return job_id

    def _install(self, version: str, previous: str, runner: str) -> None:
        self.fake_production.version = version
        self.fake_components.set_all(version)
        self._sync_health()
        self.state_file = json.dumps(
            {
                "current_version": version,
                "previous_version": previous,
                "deploy_runner": runner,
                "deployed_by": "github-actions",
            }
        )

    def _sync_health(self) -> None:
        """/health answers 503 while production serves a release marked broken."""
        self.fake_production.status = 503 if self.fake_production.version in self.broken_releases else 200
        if self.fake_components.lb_health is not None:
            self.fake_components.lb_health = self.fake_production.status
        for host in self.fake_components.hosts:
            self.fake_components.broken[host] = set(self.broken_releases)

    # ---- Environment: names and selectors ---------------------------------
    def runner_name(self, role: str) -> str:
        """Runner names are runner-<role>, as in the Docker topology."""
        return f"runner-{role}"

    def unauthorized_runners(self) -> list[str]:
        """Registered runners marked not authorized for production."""
        return [self.runner_name(r) for r in self._roles if r in self._unauthorized]

    def deploy_lock_selector(self) -> str:
        """The deploy lock's series, as the Docker environment names them."""
        return DEPLOY_LOCK_SELECTOR

    def runner_health_selector(self, role: str) -> str:
        """The runner's scrape target."""
        return f'up{{job="{RUNNER_JOB}",runner="{role}"}}'

    def runner_status_selector(self, role: str) -> str:
        """The exporter's runner_status for the runner."""
        return f'runner_status{{job="{RUNNER_JOB}",runner="{role}"}}'

    # ---- Environment: faults ----------------------------------------------
    def _runner(self, role: str) -> str:
        if role not in self._roles:
            raise ConfigError(f"the fake environment has no {role} runner; add it with .with_runner({role!r})")
        return self.runner_name(role)

    def _github_status(self, name: str) -> str | None:
        """The runner's status as GitHub reports it (through the driver, journalled)."""
        return next((r["status"] for r in self.github.runners() if r["name"] == name), None)

    def _latest(self, selector: str) -> float | None:
        """The latest value of `selector` as Prometheus answers it (through the driver, journalled)."""
        result = self.prometheus.query(selector)
        return float(result[0]["value"][1]) if result else None

    def _set_runner_online(self, role: str) -> None:
        online = role not in self._frozen and role not in self._cut_off
        self.fake_github.set_runner(self.runner_name(role), online=online)
        self.scrape()

    def runner_offline(self, role: str) -> Fault:
        """Freeze the runner: GitHub reports it offline, its `up` series is 0 from now on."""
        name = self._runner(role)

        def inject() -> None:
            self._frozen.add(role)
            self._set_runner_online(role)

        def revert() -> None:
            self._frozen.discard(role)
            self._set_runner_online(role)

        return FakeFault(
            self.journal,
            "runner_offline",
            inject=inject,
            revert=revert,
            took_effect=lambda: (
                self._github_status(name) == "offline" and self._latest(self.runner_health_selector(role)) == 0
            ),
            in_place=lambda: role in self._frozen,
            leftover=f"{name} is frozen",
            details={"runner_role": role, "container": name},
        )

    def runner_killed(self, role: str) -> Fault:
        """Kill the runner host: as seen from outside, like a freeze (GitHub offline, `up` 0) until restarted."""
        name = self._runner(role)

        def inject() -> None:
            self._frozen.add(role)
            self._set_runner_online(role)

        def revert() -> None:
            self._frozen.discard(role)
            self._set_runner_online(role)

        return FakeFault(
            self.journal,
            "runner_killed",
            inject=inject,
            revert=revert,
            took_effect=lambda: self._github_status(name) == "offline",
            in_place=lambda: role in self._frozen,
            leftover=f"{name} is not running",
            details={"runner_role": role, "container": name, "mode": "SIGKILL"},
        )

    def runner_cut_off_from_production(self, role: str) -> Fault:
        """Partition the runner from the production hosts (nothing else of the fake changes)."""
        name = self._runner(role)
        return FakeFault(
            self.journal,
            "network_partition",
            inject=lambda: self._cut_from_production.add(role),
            revert=lambda: self._cut_from_production.discard(role),
            took_effect=lambda: role in self._cut_from_production,
            in_place=lambda: role in self._cut_from_production,
            leftover=f"{name} is cut off from production",
            details={"container": name, "peer": "production"},
        )

    def production_residue(self) -> dict[str, Any]:
        """`residue_files` per host and the open transactions (journalled as production.residue)."""
        read = {
            "files": {h: list(self.residue_files.get(h, [])) for h in ("prod-web-1", "prod-web-2")},
            "open_transactions": list(self.open_transactions),
        }
        self.journal.info("production.residue", **read)
        return read

    def backend_start_times(self) -> dict[str, str | None]:
        """`backend_started` per host (journalled as production.backend_started)."""
        started = dict(self.backend_started)
        self.journal.info("production.backend_started", started=started)
        return started

    def production_quiescence(self) -> dict[str, Any]:
        """Quiescent unless `open_transactions` lists some (journalled as production.quiescence)."""
        read = {"quiescent": not self.open_transactions, "open_transactions": list(self.open_transactions)}
        self.journal.info("production.quiescence", **read)
        return read

    def runner_cut_off_from_github(self, role: str) -> Fault:
        """Partition the runner from GitHub: GitHub reports it offline, its exporter reports runner_status 0,
        Prometheus still scrapes it (`up` stays 1)."""
        name = self._runner(role)

        def inject() -> None:
            self._cut_off.add(role)
            self._set_runner_online(role)

        def revert() -> None:
            self._cut_off.discard(role)
            self._set_runner_online(role)

        return FakeFault(
            self.journal,
            "network_partition",
            inject=inject,
            revert=revert,
            took_effect=lambda: self._github_status(name) == "offline",
            in_place=lambda: role in self._cut_off,
            leftover=f"{name} is cut off from github",
            details={"container": name, "peer": "github"},
        )

    def monitoring_unreachable(self) -> Fault:
        """Prometheus stops answering (every request fails to connect)."""

        def set_answering(answering: bool) -> None:
            self.fake_prometheus.answering = answering

        return FakeFault(
            self.journal,
            "service_paused",
            inject=lambda: set_answering(False),
            revert=lambda: set_answering(True),
            took_effect=lambda: not self.prometheus.ready(),
            in_place=lambda: not self.fake_prometheus.answering,
            leftover="prometheus does not answer",
            details={"service": "prometheus", "container": "prometheus"},
        )

    def production_unresponsive(self) -> Fault:
        """The production host stops answering (HTTP fails to connect, its state file cannot be read)."""

        def set_answering(answering: bool) -> None:
            self.fake_production.answering = answering

        return FakeFault(
            self.journal,
            "service_paused",
            inject=lambda: set_answering(False),
            revert=lambda: set_answering(True),
            took_effect=lambda: not self.production.answers(),
            in_place=lambda: not self.fake_production.answering,
            leftover="production does not answer",
            details={"service": "production", "container": "prod-web-1"},
        )

    def deploy_certificate_expired(self) -> Fault:
        """The DEPLOY_SSH_CERT secret holds a certificate that expired yesterday (set through the driver)."""
        yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
        return FakeFault(
            self.journal,
            "expired_certificate",
            inject=lambda: self.github.set_secret(CERT_SECRET, EXPIRED_CERT),
            revert=lambda: self.github.set_secret(CERT_SECRET, VALID_CERT),
            took_effect=lambda: self.fake_github.secrets.get(CERT_SECRET) == EXPIRED_CERT,
            in_place=lambda: self.fake_github.secrets.get(CERT_SECRET) != VALID_CERT,
            leftover=f"secret {CERT_SECRET} still holds the expired certificate",
            details={"secret": CERT_SECRET, "planted_valid_before": yesterday},
        )

    def release_broken(self, version: str) -> Fault:
        """Once production serves `version`, its /health answers 503."""

        def mark(broken: bool) -> None:
            if broken:
                self.broken_releases.add(version)
            else:
                self.broken_releases.discard(version)
            self._sync_health()

        return FakeFault(
            self.journal,
            "broken_release",
            inject=lambda: mark(True),
            revert=lambda: mark(False),
            took_effect=lambda: version in self.broken_releases,
            in_place=lambda: version in self.broken_releases,
            leftover=f"release {version} is still marked broken",
            details={"version": version, "containers": list(self.fake_components.hosts)},
        )

    def release_migration_fails(self, version: str) -> Fault:
        """Release `version`'s migration fails (`failing_migrations`) until reverted."""

        def mark(failing: bool) -> None:
            if failing:
                self.failing_migrations.add(version)
            else:
                self.failing_migrations.discard(version)

        return FakeFault(
            self.journal,
            "migration_fails",
            inject=lambda: mark(True),
            revert=lambda: mark(False),
            took_effect=lambda: version in self.failing_migrations,
            in_place=lambda: version in self.failing_migrations,
            leftover=f"artifacts: migration-fails still set on {version}",
            details={"version": version, "artifact_fault": "migration-fails", "service": "artifacts"},
        )

    def deploy_lock_held(self) -> Fault:
        """Production's deploy lock is held (`lock_held` is True) until reverted."""

        def hold(held: bool) -> None:
            self.lock_held = held

        return FakeFault(
            self.journal,
            "deploy_lock_held",
            inject=lambda: hold(True),
            revert=lambda: hold(False),
            took_effect=lambda: self.lock_held,
            in_place=lambda: self.lock_held,
            leftover="the production deploy lock is still held",
            details={"container": "prod-web-1", "lock": "/opt/app/.deploy.lock"},
        )

    def ssh_to_production_flaky(self, every: int) -> Fault:
        """Every `every`-th SSH connection to production is reset (`ssh_reset_every`) until reverted."""
        if every < 1:
            raise ConfigError(f"every must be at least 1, got {every}")

        def reset_every(value: int | None) -> None:
            self.ssh_reset_every = value

        return FakeFault(
            self.journal,
            "connection_resets",
            inject=lambda: reset_every(every),
            revert=lambda: reset_every(None),
            took_effect=lambda: self.ssh_reset_every == every,
            in_place=lambda: self.ssh_reset_every is not None,
            leftover="SSH connections to production are still reset",
            details={"peer": "prod-web-1", "port": 22, "every": every},
        )

    # ---- Environment: production, secrets, leftovers, close ---------------
    def production_state(self) -> dict[str, Any]:
        """Read the state file; journal what was read, as DockerEnvironment does.

        Returns {"state": {...}} or {"error": "..."} (missing, not JSON, or the host does not answer).
        """
        text = self.state_file
        read: dict[str, Any]
        if not self.fake_production.answering:
            read = state_file_read(None, "it does not answer")
        elif text is None:
            read = state_file_read(None, f"cat: {STATE_FILE}: No such file or directory\n")
        else:
            read = state_file_read(text)
        return record_state_file(self.journal, read)

    def secrets(self) -> list[str]:
        """The configured secret values (default: one generated fake deploy key)."""
        return list(self._secrets)

    def leftovers(self) -> list[str]:
        """Every fault still in place, read from the fakes' state."""
        found = [f"{self.runner_name(r)} is frozen" for r in sorted(self._frozen)]
        found += [f"{self.runner_name(r)} is cut off from github" for r in sorted(self._cut_off)]
        found += [f"{self.runner_name(r)} is cut off from production" for r in sorted(self._cut_from_production)]
        if not self.fake_prometheus.answering:
            found.append("prometheus does not answer")
        if not self.fake_production.answering:
            found.append("production does not answer")
        if self.fake_github.secrets.get(CERT_SECRET) != VALID_CERT:
            found.append(f"secret {CERT_SECRET} still holds the expired certificate")
        found += [f"release {v} is still marked broken" for v in sorted(self.broken_releases)]
        found += [f"artifacts: migration-fails still set on {v}" for v in sorted(self.failing_migrations)]
        if self.lock_held:
            found.append("the production deploy lock is still held")
        if self.ssh_reset_every is not None:
            found.append("SSH connections to production are still reset")
        return found

    def close(self) -> None:
        """Close the drivers' connection pools (idempotent)."""
        for client in (self.github, self.prometheus, self.production, self.components, self.sink):
            client.close()

    def __enter__(self) -> FakeEnvironment:
        """Use as a context manager: closed on exit."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the drivers."""
        self.close()

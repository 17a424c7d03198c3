"""The Docker topology of one test run: simulated GitHub, runners, Prometheus, production.

Production is the stand-in of docs/production.md: prod-db (PostgreSQL), prod-cache (Redis),
prod-web-1 and prod-web-2 (sshd, backend, frontend), prod-lb (nginx) and the artifact store,
started in parallel with everything else.

Every container and the network carry the run's labels; `stop()` removes everything, and
an atexit hook and the `cleanup` command are backstops after a crash or Ctrl-C.
"""

from __future__ import annotations

import atexit
import os
import secrets
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pg8000.native
import yaml
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from harness.core.errors import ConfigError, HarnessError, TopologyError
from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import Profile
from harness.core.promdur import format_duration, parse_duration
from harness.core.waiting import WaitTimeout, wait_for
from harness.drivers.components import ComponentsClient, ComponentsReading, PgSchemaReader
from harness.topology.backend import LABEL_MANAGED, LABEL_RUN, DockerBackend
from harness.topology.cleanup import cleanup, leftovers, owner_labels, sweep_dead_runs
from harness.topology.ssh_material import SshMaterial, make_ssh_material

if TYPE_CHECKING:
    from harness.drivers.github import GitHubClient

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")  # Ryuk cannot be pulled: we clean up by label
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")

REPO = "acme/app"
# repository variable PROD_HOST: the single host of the shell pipeline (kept while it is replaced by the
# transactional deploy, which uses PROD_HOSTS); also the host whose state file the harness reads
PROD_HOST = "prod-web-1"
WEB_HOSTS = ("prod-web-1", "prod-web-2")
INITIAL_VERSION = "1.0.0"
DB_NAME = DB_USER = "app"
DB_ENV_PATH = "/etc/app/db.env"
DEPLOY_ENV_PATH = "/etc/app/deploy.env"
# profile timer -> setting of the pipeline's host-side tools in /etc/app/deploy.env (a profile
# compresses the transaction lease like the other timers)
DEPLOY_ENV_TIMERS = {
    "txn_lease_s": "TXN_LEASE_S",
    "txn_heartbeat_s": "TXN_HEARTBEAT_S",
    "watchdog_period_s": "WATCHDOG_PERIOD_S",
}
TOOLS_DIR = "/opt/app/bin"
# the pipeline's custom queries of prod-db's postgres exporter (the deploy lock's metrics), and where
# the image's entrypoint looks for them; Prometheus scrapes the exporter at DB_EXPORTER_TARGET
DB_EXPORTER_QUERIES = "monitoring/postgres-exporter/queries.yaml"
DB_EXPORTER_QUERIES_PATH = "/etc/dch/postgres-exporter/queries.yaml"
DB_EXPORTER_TARGET = "prod-db:9187"
# the deploy lock as the reference pipeline's monitoring exports it: one series per open transaction
DEPLOY_LOCK_SELECTOR = 'deploy_lock_open{job="production-db"}'
PRODUCTION_TOOLS = "production/"  # the pipeline's host-side tools, copied into TOOLS_DIR on every web host


@dataclass(frozen=True)
class RunnerSpec:
    """A self-hosted runner of the topology."""

    role: str
    labels: tuple[str, ...]
    authorized_for_prod: bool = True

    @property
    def name(self) -> str:
        """Runner name, also its network alias."""
        return f"runner-{self.role}"


DEFAULT_RUNNERS = (
    RunnerSpec("primary", ("self-hosted", "linux", "x64", "production", "primary")),
    RunnerSpec("secondary", ("self-hosted", "linux", "x64", "production", "secondary")),
    # a healthy, idle build runner that carries the production labels but is not authorized for
    # production (US1: "only runners marked authorized may ever run a production deploy, even when an
    # unauthorized healthy runner is idle"); its exporter says authorized_for_prod="false"
    RunnerSpec("build", ("self-hosted", "linux", "x64", "production", "build"), authorized_for_prod=False),
)


@dataclass
class Endpoints:
    """Host-side URLs (127.0.0.1 published ports) of the topology's services."""

    github: str = ""
    prometheus: str = ""
    alertmanager: str = ""
    sink: str = ""
    production: str = ""  # production's API as its users reach it: prod-lb's /api/
    lb: str = ""  # prod-lb's root (/ -> frontends, /api/ -> backends)
    backends: dict[str, str] = field(default_factory=dict)  # web host -> its backend (8080)
    frontends: dict[str, str] = field(default_factory=dict)  # web host -> its frontend (80)
    db_port: int = 0  # prod-db's 5432, published on 127.0.0.1
    artifacts: str = ""


class _Component(DockerContainer):
    """A DockerContainer that publishes ports on 127.0.0.1 only."""

    def with_local_ports(self, *ports: int) -> _Component:
        for port in ports:
            self.ports[f"{port}/tcp"] = ("127.0.0.1",)  # type: ignore[assignment]
        return self

    def local_port(self, port: int) -> int:
        container = self.get_wrapped_container()
        container.reload()
        bindings = container.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        if not bindings:
            raise TopologyError(f"container {container.name} published no port for {port}/tcp")
        return int(bindings[0]["HostPort"])

    def local_url(self, port: int) -> str:
        return f"http://127.0.0.1:{self.local_port(port)}"


@dataclass
class DockerTopology:
    """Starts and stops one isolated topology for one test run."""

    images: dict[str, str]
    pipeline: PipelineSource
    profile: Profile
    journal: Journal
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    runners: tuple[RunnerSpec, ...] = DEFAULT_RUNNERS
    endpoints: Endpoints = field(default_factory=Endpoints)
    backend: DockerBackend = field(default_factory=DockerBackend)

    def __post_init__(self) -> None:
        self._containers: dict[str, _Component] = {}
        self._network: Network | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix=f"dch-{self.run_id}-")
        self.ssh: SshMaterial | None = None
        # role app's password in prod-db, new for every run: a secret (journal redaction, leak checks)
        self.db_password = secrets.token_urlsafe(24)
        # this harness process, named on every resource: a later harness sweeps the run if it dies
        self._owner = owner_labels()

    # ---- naming -------------------------------------------------------------
    @property
    def labels(self) -> dict[str, str]:
        """Labels every resource of this run carries."""
        return {LABEL_MANAGED: "true", LABEL_RUN: self.run_id}

    def container_name(self, component: str) -> str:
        """Docker name of a component's container."""
        return f"dch-{self.run_id}-{component}"

    def runner_container(self, role: str) -> str:
        """Docker name of the runner with `role`."""
        return self.container_name(f"runner-{role}")

    # ---- lifecycle ----------------------------------------------------------
    def __enter__(self) -> DockerTopology:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> Endpoints:
        """Create the network, start every component in parallel and wait until all are ready."""
        atexit.register(self.stop)
        started = time.monotonic()
        self.journal.invoke(
            "topology.start", run_id=self.run_id, pipeline=self.pipeline.label, profile=self.profile.name
        )
        try:
            self._sweep_dead_runs()
            self.ssh = make_ssh_material(Path(self._tmp.name) / "ssh", list(WEB_HOSTS), self.run_id)
            self._network = Network(docker_network_kw={"labels": {**self.labels, **self._owner}})
            self._network.create()
            components = self._components()
            # Prometheus first, alone: readiness ends with its first scrape of the runners, which comes
            # about 5 s after it starts (its target discovery's update cadence); everything else has slack.
            components["prometheus"].start()
            self._containers["prometheus"] = components["prometheus"]
            rest = [c for name, c in components.items() if name != "prometheus"]
            with ThreadPoolExecutor(max_workers=len(rest)) as pool:
                list(pool.map(lambda c: c.start(), rest))
            self._containers.update(components)
            self._wait_ready()
        except BaseException as exc:
            self.journal.fail("topology.start", error=str(exc))
            self.stop()
            if isinstance(exc, Exception) and not isinstance(exc, HarnessError):
                raise TopologyError(f"the test topology did not start: {exc}") from exc
            raise
        self.journal.ok("topology.start", seconds=round(time.monotonic() - started, 3), endpoints=vars(self.endpoints))
        return self.endpoints

    def _sweep_dead_runs(self) -> None:
        """Clean up runs whose harness died (their pending undo replayed first): one journal entry and line each."""
        for swept in sweep_dead_runs(self.backend, keep=self.run_id):
            r = swept.report
            self.journal.info(
                "topology.swept",
                swept_run=swept.run_id,
                owner_pid=swept.owner_pid,
                reason=swept.reason,
                undone=r.undone,
                not_undone=r.not_undone,
                removed=r.containers + r.networks,
                failed=r.failed,
            )
            print(f"deploy-chaos: {swept.line()}", file=sys.stderr)

    def stop(self) -> None:
        """Remove every container and the network of this run (idempotent); verify nothing is left."""
        atexit.unregister(self.stop)
        if not self._containers and self._network is None:
            return
        self.journal.invoke("topology.stop", run_id=self.run_id)
        with ThreadPoolExecutor(max_workers=max(1, len(self._containers))) as pool:
            list(
                pool.map(lambda name: self.backend.remove_container(self.container_name(name)), list(self._containers))
            )
        self._containers.clear()
        report = cleanup(self.backend, self.run_id)  # backstop: anything else labelled with this run
        self._network = None
        left = leftovers(self.backend, self.run_id)
        self._tmp.cleanup()
        if left:
            self.journal.fail("topology.stop", leftovers=left)
            raise TopologyError(f"containers of run {self.run_id} survived cleanup: {left}")
        self.journal.ok("topology.stop", extra_removed=report.containers + report.networks)

    # ---- components ---------------------------------------------------------
    def _base(self, component: str, image: str, *aliases: str) -> _Component:
        if image not in self.images:
            raise TopologyError(f"image {image!r} is not built; run `deploy-chaos setup` first")
        container = _Component(self.images[image])
        container.with_name(self.container_name(component))
        assert self._network is not None
        container.with_network(self._network).with_network_aliases(*(aliases or (component,)))
        container.with_kwargs(labels={**self.labels, **self._owner, "dch.component": component}, init=True)
        return container

    def _components(self) -> dict[str, _Component]:
        t = self.profile.timers
        ssh = self.ssh
        assert ssh is not None
        github = self._base("github", "github").with_local_ports(8000)
        github.with_envs(
            SIM_HEARTBEAT_TIMEOUT_S=str(t["runner_heartbeat_timeout_s"]),
            SIM_LEASE_TIMEOUT_S=str(t["lease_timeout_s"]),
            SIM_QUEUE_TIMEOUT_S=str(t["queue_timeout_s"]),
            RUNNER_HEARTBEAT_S=str(t["runner_heartbeat_s"]),
            RUNNER_LEASE_RENEW_S=str(t["lease_renew_s"]),
        )
        prometheus = self._base("prometheus", "prometheus").with_local_ports(9090)
        for path, data in self._prometheus_files().items():
            prometheus.with_copy_into_container(data, path)
        alertmanager = self._base("alertmanager", "alertmanager").with_local_ports(9093)
        alertmanager.with_copy_into_container(self._alertmanager_config(), "/etc/dch/alertmanager.yml")
        sink = self._base("webhook-sink", "github").with_local_ports(8080)
        sink.with_command(["python3", "-m", "harness.sink.server", "--port", "8080"])
        components = {
            "github": github,
            "prometheus": prometheus,
            "alertmanager": alertmanager,
            "webhook-sink": sink,
            **self._production_components(),
        }
        exporter = self._exporter_source()
        for runner in self.runners:
            c = self._base(runner.name, "runner").with_local_ports(9102)
            c.with_copy_into_container(exporter, "/opt/exporter/runner_exporter.py", 0o755)
            c.with_envs(
                GITHUB_URL="http://github:8000",
                RUNNER_NAME=runner.name,
                RUNNER_LABELS=",".join(runner.labels),
                RUNNER_ROLE=runner.role,
                RUNNER_ENVIRONMENT="production",
                RUNNER_AUTHORIZED_FOR_PROD="true" if runner.authorized_for_prod else "false",
                RUNNER_HEARTBEAT_S=str(t["runner_heartbeat_s"]),
                RUNNER_LEASE_RENEW_S=str(t["lease_renew_s"]),
                RUNNER_STALE_AFTER_S=str(t["exporter_stale_after_s"]),
            )
            components[runner.name] = c
        return components

    def _production_components(self) -> dict[str, _Component]:
        """prod-db, prod-cache, both web hosts, prod-lb and the artifact store (docs/production.md)."""
        ssh = self.ssh
        assert ssh is not None
        db = self._base("prod-db", "proddb").with_local_ports(5432)
        db.with_copy_into_container(self.db_password.encode(), "/etc/dch/db_password", 0o600)
        queries = self.pipeline.files().get(DB_EXPORTER_QUERIES)
        if queries is not None:  # part of the system under test, so a variant may change them
            db.with_copy_into_container(queries.read_bytes(), DB_EXPORTER_QUERIES_PATH, 0o644)
        components = {"prod-db": db, "prod-cache": self._base("prod-cache", "prodcache")}
        tools = self.production_tools()
        for host in WEB_HOSTS:
            web = self._base(host, "prodhost").with_local_ports(80, 8080)
            web.with_copy_into_container(ssh.user_ca_pub.encode() + b"\n", "/etc/ssh/dch/user_ca.pub")
            web.with_copy_into_container(ssh.host_key_path.read_bytes(), "/etc/ssh/dch/host_ed25519", 0o600)
            web.with_copy_into_container(ssh.host_cert_path.read_bytes(), "/etc/ssh/dch/host_ed25519-cert.pub")
            web.with_copy_into_container(self.db_env(), DB_ENV_PATH, 0o640)  # the entrypoint makes it root:deploy
            web.with_copy_into_container(self.deploy_env(), DEPLOY_ENV_PATH, 0o644)
            for rel, data in tools.items():
                web.with_copy_into_container(data, f"{TOOLS_DIR}/{rel}", 0o755)
            components[host] = web
        components["prod-lb"] = self._base("prod-lb", "prodlb").with_local_ports(80)
        components["artifacts"] = self._base("artifacts", "artifacts").with_local_ports(8000)
        return components

    def db_env(self) -> bytes:
        """/etc/app/db.env of the web hosts: the app's configuration, sourced by the pipeline's tools too."""
        return (
            f"PGHOST=prod-db\nPGPORT=5432\nPGDATABASE={DB_NAME}\nPGUSER={DB_USER}\n"
            f"PGPASSWORD={self.db_password}\nREDIS_HOST=prod-cache\n"
        ).encode()

    def deploy_env(self) -> bytes:
        """/etc/app/deploy.env of the web hosts: the profile's transaction timers for the pipeline's tools."""
        timers = self.profile.timers
        return "".join(f"{name}={timers[key]:g}\n" for key, name in DEPLOY_ENV_TIMERS.items()).encode()

    def production_tools(self) -> dict[str, bytes]:
        """The pipeline's host-side tools (`production/**`, relative path -> content); none if it has none.

        Part of the system under test, so a variant may change them; copied in at container creation.
        """
        return {
            rel.removeprefix(PRODUCTION_TOOLS): path.read_bytes()
            for rel, path in self.pipeline.files().items()
            if rel.startswith(PRODUCTION_TOOLS)
        }

    def _exporter_source(self) -> bytes:
        """The pipeline's runner exporter (part of the system under test, so a variant may change it)."""
        key = "runner-exporter/runner_exporter.py"
        files = self.pipeline.files()
        if key not in files:
            raise TopologyError(f"the pipeline has no {key}: runners would export no health metrics")
        return files[key].read_bytes()

    def _prometheus_files(self) -> dict[str, bytes]:
        """The pipeline's scrape config and rules, with only the profile's timers changed."""
        files = self.pipeline.files()
        config_key = "monitoring/prometheus.yml"
        if config_key not in files:
            raise TopologyError(f"the pipeline has no {config_key}: Prometheus has nothing to scrape")
        config = yaml.safe_load(files[config_key].read_text())
        t = self.profile.timers
        config.setdefault("global", {}).update(
            {
                "scrape_interval": f"{t['scrape_interval_s']:g}s",
                "scrape_timeout": f"{t['scrape_timeout_s']:g}s",
                "evaluation_interval": f"{t['evaluation_interval_s']:g}s",
            }
        )
        config["rule_files"] = ["/etc/dch/rules/*.yml"]
        out = {"/etc/dch/prometheus.yml": yaml.safe_dump(config).encode()}
        for rel, path in files.items():
            if rel.startswith("monitoring/rules/") and rel.endswith((".yml", ".yaml")):
                out[f"/etc/dch/rules/{Path(rel).name}"] = scale_rule_file(path, t["alert_for_scale"])
        return out

    def scrapes_db_exporter(self) -> bool:
        """True when the pipeline's scrape config has prod-db's postgres exporter as a target."""
        path = self.pipeline.files().get("monitoring/prometheus.yml")
        config = yaml.safe_load(path.read_text()) if path is not None else None
        jobs = (config.get("scrape_configs") or []) if isinstance(config, dict) else []
        return any(
            DB_EXPORTER_TARGET in (static.get("targets") or [])
            for job in jobs
            for static in (job or {}).get("static_configs") or []
        )

    def _alertmanager_config(self) -> bytes:
        """The pipeline's Alertmanager routing, with only the profile's timers changed."""
        files = self.pipeline.files()
        key = "monitoring/alertmanager.yml"
        if key not in files:
            raise TopologyError(f"the pipeline has no {key}: alerts would reach no one")
        try:
            config = yaml.safe_load(files[key].read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"{key} of the pipeline is not valid YAML: {exc}") from exc
        if not isinstance(config, dict) or not isinstance(config.get("route"), dict):
            raise ConfigError(f"{key} of the pipeline has no 'route' mapping: alerts would reach no one")
        t = self.profile.timers
        timers = {
            "group_wait": format_duration(t["alertmanager_group_wait_s"]),
            "group_interval": format_duration(t["alertmanager_group_interval_s"]),
            "repeat_interval": format_duration(t["alertmanager_repeat_interval_s"]),
        }
        config["route"].update(timers)
        _override_child_timers(config["route"].get("routes") or [], timers)
        return yaml.safe_dump(config).encode()

    # ---- readiness and configuration ----------------------------------------
    def _wait_ready(self) -> None:
        from harness.drivers.github import GitHubClient
        from harness.drivers.prometheus import PrometheusClient

        c = self._containers
        e = self.endpoints
        e.github = c["github"].local_url(8000)
        e.prometheus = c["prometheus"].local_url(9090)
        e.alertmanager = c["alertmanager"].local_url(9093)
        e.sink = c["webhook-sink"].local_url(8080)
        e.lb = c["prod-lb"].local_url(80)
        e.production = f"{e.lb}/api"
        e.backends = {host: c[host].local_url(8080) for host in WEB_HOSTS}
        e.frontends = {host: c[host].local_url(80) for host in WEB_HOSTS}
        e.db_port = c["prod-db"].local_port(5432)
        e.artifacts = c["artifacts"].local_url(8000)
        timeout = self.profile.budget("runner_ready_timeout_s")
        github = GitHubClient(e.github, REPO)
        prometheus = PrometheusClient(e.prometheus)
        components = ComponentsClient(e.backends, e.frontends, e.lb, self.schema_reader())
        try:
            # GitHub first: the simulator parses the pipeline while the other components come up
            self._await(github.healthy, "simulated GitHub API", timeout)
            self._configure_github(github)
            self._await(prometheus.ready, "Prometheus ready", timeout)
            self._await(lambda: _http_ok(f"{e.alertmanager}/-/ready"), "Alertmanager ready", timeout)
            self._await(lambda: _http_ok(f"{e.sink}/healthz"), "webhook sink ready", timeout)
            self._await(lambda: _http_ok(f"{e.artifacts}/healthz"), "artifact store ready", timeout)
            last: list[ComponentsReading] = []

            def production_ready() -> bool:
                reading = components.read()
                last[:] = [reading]
                return reading.all_at(INITIAL_VERSION) and reading.lb.get("health_status") == 200

            try:
                self._await(production_ready, f"every production component at {INITIAL_VERSION}, healthy", timeout)
            except TopologyError as exc:
                raise TopologyError(f"{exc}. Last reading: {last[0] if last else None}") from exc
            names = {r.name for r in self.runners}
            self._await(
                lambda: names <= {r["name"] for r in github.runners() if r["status"] == "online"},
                f"runners {sorted(names)} online in GitHub",
                timeout,
            )
            self._await(
                lambda: (
                    len([x for x in prometheus.targets() if x["health"] == "up" and _runner_target(x)]) >= len(names)
                ),
                "every runner exporter scraped by Prometheus",
                timeout,
            )
            if self.scrapes_db_exporter():
                self._await(
                    lambda: bool(prometheus.query(f'pg_up{{instance="{DB_EXPORTER_TARGET}"}} == 1')),
                    f"the production database's exporter ({DB_EXPORTER_TARGET}) scraped and connected to PostgreSQL",
                    timeout,
                )
            self._await(lambda: prometheus.alertmanagers_active() > 0, "Prometheus connected to Alertmanager", timeout)
        finally:
            github.close()
            prometheus.close()
            components.close()

    def _configure_github(self, github: GitHubClient) -> None:
        """The pipeline's repository, its secrets and its variables, as the workflow expects them."""
        ssh = self.ssh
        assert ssh is not None
        github.upload_repository(self.pipeline.tarball())
        github.set_secret("DEPLOY_SSH_KEY", ssh.deploy_key)
        github.set_secret("DEPLOY_SSH_CERT", ssh.deploy_cert)
        github.set_secret("DB_PASSWORD", self.db_password)
        github.set_variable("PROMETHEUS_URL", "http://prometheus:9090")
        github.set_variable("PROD_HOST", PROD_HOST)
        github.set_variable("PROD_HOSTS", " ".join(WEB_HOSTS))
        github.set_variable("PROD_LB_URL", "http://prod-lb")
        github.set_variable("ARTIFACTS_URL", "http://artifacts:8000")
        github.set_variable("SSH_KNOWN_HOSTS", ssh.known_hosts)  # "@cert-authority *": both web hosts' certificates
        github.set_variable("TEAM_WEBHOOK_URL", "http://webhook-sink:8080/team")
        github.set_variable("RETRY_WAIT_S", f"{self.profile.timer('retry_wait_s'):g}")
        github.set_variable("ATTEMPT_TIMEOUT_S", f"{self.profile.timer('attempt_timeout_s'):g}")

    def schema_reader(self) -> PgSchemaReader:
        """A reader of prod-db's schema_state.release through the published port (role app)."""
        return PgSchemaReader("127.0.0.1", self.endpoints.db_port, self.db_password, user=DB_USER, database=DB_NAME)

    def pg_connect(self) -> pg8000.native.Connection:
        """A new pg8000 connection to prod-db as role app (the caller closes it)."""
        return pg8000.native.Connection(
            user=DB_USER,
            password=self.db_password,
            host="127.0.0.1",
            port=self.endpoints.db_port,
            database=DB_NAME,
            timeout=5,
        )

    def _await(self, probe: Any, what: str, timeout: float) -> None:
        try:
            wait_for(probe, what, timeout, interval=0.1)
        except WaitTimeout as exc:
            logs = {name: self._logs_tail(name) for name in self._containers}
            raise TopologyError(f"{exc}. Container log tails: {logs}") from exc

    def _logs_tail(self, component: str, lines: int = 15) -> str:
        try:
            container = self._containers[component].get_wrapped_container()
            return container.logs(tail=lines).decode(errors="replace")
        except Exception as exc:
            return f"<no logs: {exc}>"


def _override_child_timers(routes: list[dict[str, Any]], timers: dict[str, str]) -> None:
    """Child routes that set their own timers get the profile's (a child's timers beat its parent's)."""
    for route in routes:
        for key in timers:
            if key in route:
                route[key] = timers[key]
        _override_child_timers(route.get("routes") or [], timers)


def scale_rule_file(path: Path, scale: float) -> bytes:
    """A Prometheus rule file with every alert's `for` multiplied by `scale` (profiles compress timers)."""
    if scale == 1:
        return path.read_bytes()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"alert rule file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("groups", []), list):
        raise ConfigError(f"alert rule file {path} must be a mapping with a 'groups' list")
    for group in data.get("groups") or []:
        for rule in (group or {}).get("rules") or []:
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    rule[key] = format_duration(parse_duration(rule[key]) * scale)
    return yaml.safe_dump(data, sort_keys=False).encode()


def _runner_target(target: dict[str, Any]) -> bool:
    """A scrape target other than prod-db's exporter (which must not count as a runner's)."""
    return target.get("labels", {}).get("instance") != DB_EXPORTER_TARGET


def _http_ok(url: str) -> bool:
    return httpx.get(url, timeout=1.0).status_code == 200

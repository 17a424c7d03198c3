"""Reads every production component's version in one call (docs/production.md, "Reading production").

One `ComponentsClient.read()` asks, in parallel: each web host's backend (`GET :8080/version`) and
frontend (`GET :80/version.json`), PostgreSQL's `schema_state.release`, and the end-to-end answers
through prod-lb (`/api/version`, `/version.json`, `/api/health`). With a journal, each read is one
`production.sample` entry with `probe: "components"`, `versions` (component -> version, None when
it did not answer), `lb` and `errors`: the history the "never mixed" checker judges.

It is built for a sampler calling it every 100 ms: HTTP connections are kept alive and the
PostgreSQL connection is kept open (and opened again after an error), the requests go out
concurrently, and every one is bounded by a short timeout.

`FakeComponents` (below) serves the same answers from memory, for tests without Docker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from harness.core.journal import Journal
from harness.drivers.recording import Recorder, describe_error

SCHEMA = "schema"
SCHEMA_QUERY = "SELECT release FROM schema_state"


def backend_key(host: str) -> str:
    """The component name of a host's backend, e.g. backend@prod-web-1."""
    return f"backend@{host}"


def frontend_key(host: str) -> str:
    """The component name of a host's frontend, e.g. frontend@prod-web-1."""
    return f"frontend@{host}"


@dataclass(frozen=True)
class ComponentsReading:
    """What one read saw: every component's version, the lb's answers, and why anything is missing.

    `versions`: component -> version (None: it did not answer, see `errors`).
    `lb`: {"api_version", "frontend_version", "health_status", "health"} through prod-lb.
    `errors`: component or lb probe -> the error, for every probe that failed.
    """

    versions: dict[str, str | None]
    lb: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def mixed(self) -> bool:
        """More than one version among the components that answered."""
        return len({v for v in self.versions.values() if v is not None}) > 1

    def all_at(self, version: str) -> bool:
        """Every component answered `version`, and so did the lb's /api/version and /version.json."""
        return (
            all(v == version for v in self.versions.values())
            and self.lb.get("api_version") == version
            and self.lb.get("frontend_version") == version
        )


class SchemaReader(Protocol):
    """Reads `schema_state.release`."""

    def read(self) -> str:
        """The schema's release; raises when it cannot be read."""

    def close(self) -> None:
        """Release the connection."""


class PgSchemaReader:
    """`schema_state.release` over one kept pg8000 connection, opened again after any error."""

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        user: str = "app",
        database: str = "app",
        timeout: float = 1.0,
        connect: Callable[[], Any] | None = None,
    ) -> None:
        self._connect = connect or (
            lambda: _pg_connect(host=host, port=port, user=user, password=password, database=database, timeout=timeout)
        )
        self._conn: Any = None
        self._lock = threading.Lock()  # one pg8000 connection is not safe to share between threads

    def read(self) -> str:
        """The release in schema_state (exactly one row expected)."""
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = self._connect()
                rows = self._conn.run(SCHEMA_QUERY)
            except Exception:
                self._drop()  # a timed-out or broken connection is in an unknown state: start afresh
                raise
        if len(rows) != 1:
            raise LookupError(f"schema_state has {len(rows)} rows, expected 1")
        return str(rows[0][0])

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # closing a broken connection may fail too; it is gone either way
                pass

    def close(self) -> None:
        """Close the connection (a later read opens a new one)."""
        with self._lock:
            self._drop()


def _pg_connect(**kwargs: Any) -> Any:
    import pg8000.native  # imported here: only the Docker environment needs a database driver

    return pg8000.native.Connection(**kwargs)


class ComponentsClient:
    """Every component's version, and the lb's answers, in one concurrent read."""

    def __init__(
        self,
        backends: Mapping[str, str],
        frontends: Mapping[str, str],
        lb: str,
        schema: SchemaReader,
        *,
        journal: Journal | None = None,
        timeout: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`backends` / `frontends`: web host -> base URL; `lb`: prod-lb's base URL; `schema`: the database reader."""
        self.backends = {h: u.rstrip("/") for h, u in backends.items()}
        self.frontends = {h: u.rstrip("/") for h, u in frontends.items()}
        self.lb = lb.rstrip("/")
        self.schema = schema
        self._recorder = Recorder(journal)
        probes = len(self.backends) + len(self.frontends) + 4
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            limits=httpx.Limits(max_connections=probes * 2, max_keepalive_connections=probes * 2),
        )
        self._pool = ThreadPoolExecutor(max_workers=probes, thread_name_prefix="components")

    @property
    def journal(self) -> Journal | None:
        """The journal readings are written to, if any."""
        return self._recorder.journal

    def _version_at(self, url: str) -> str:
        answer = self._http.get(url)
        answer.raise_for_status()
        version = answer.json().get("version")
        if not isinstance(version, str):
            raise ValueError(f"no version in the answer {answer.text[:100]!r}")
        return version

    def _health(self) -> tuple[int, Any]:
        answer = self._http.get(f"{self.lb}/api/health")
        try:
            body = answer.json()
        except ValueError:
            body = None
        return answer.status_code, body

    def read(self) -> ComponentsReading:
        """Read every component and the lb concurrently; journal the reading; return it."""
        started = time.monotonic()
        probes: dict[str, Callable[[], Any]] = {}
        for host, url in self.backends.items():
            probes[backend_key(host)] = lambda url=url: self._version_at(f"{url}/version")
        for host, url in self.frontends.items():
            probes[frontend_key(host)] = lambda url=url: self._version_at(f"{url}/version.json")
        probes[SCHEMA] = self.schema.read
        probes["lb /api/version"] = lambda: self._version_at(f"{self.lb}/api/version")
        probes["lb /version.json"] = lambda: self._version_at(f"{self.lb}/version.json")
        probes["lb /api/health"] = self._health
        futures = {name: self._pool.submit(probe) for name, probe in probes.items()}
        results: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except Exception as exc:  # a component that does not answer is an observation, not a failure
                errors[name] = describe_error(exc)[:300]
        versions = {name: results.get(name) for name in probes if not name.startswith("lb ")}
        status, body = results.get("lb /api/health", (None, None))
        lb = {
            "api_version": results.get("lb /api/version"),
            "frontend_version": results.get("lb /version.json"),
            "health_status": status,
            "health": body.get("status") if isinstance(body, dict) else None,
        }
        reading = ComponentsReading(versions, lb, errors)
        self._recorder.record(
            "production.sample",
            probe="components",
            versions=versions,
            lb=lb,
            errors=errors,
            read_ms=round((time.monotonic() - started) * 1000, 1),
        )
        return reading

    def broken_releases(self) -> dict[str, list[str] | None]:
        """Web host -> the releases its backend treats as broken (`GET /_faults`), None if it did not answer."""
        found: dict[str, list[str] | None] = {}
        errors: dict[str, str] = {}
        for host, url in self.backends.items():
            try:
                answer = self._http.get(f"{url}/_faults")
                answer.raise_for_status()
                found[host] = [str(v) for v in answer.json().get("broken_releases", [])]
            except (httpx.HTTPError, ValueError, AttributeError) as exc:
                found[host] = None
                errors[host] = describe_error(exc)
        self._recorder.record("production.sample", probe="broken_releases", hosts=found, errors=errors)
        return found

    def close(self) -> None:
        """Close HTTP connections, the database connection and the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()
        self.schema.close()


# --------------------------------------------------------------------------- fake


class FakeSchema:
    """A SchemaReader answering `release` (raising ConnectionError while `answering` is False)."""

    def __init__(self, release: str | None) -> None:
        self.release = release
        self.answering = True

    def read(self) -> str:
        """The release, as PostgreSQL would answer it."""
        if not self.answering or self.release is None:
            raise ConnectionError("prod-db does not answer (fake)")
        return self.release

    def close(self) -> None:
        """Nothing to release."""


class FakeComponents:
    """Production's components in memory: set `versions` (component -> version, None: not answering),
    `lb_version` / `lb_frontend` / `lb_health` (the lb's answers; None: not answering) and `broken`
    (host -> releases marked broken). `set_all(v)` puts every component and the lb at `v`."""

    hosts = ("prod-web-1", "prod-web-2")

    def __init__(self, version: str | None = "1.0.0") -> None:
        self._lock = threading.Lock()
        self.versions: dict[str, str | None] = {}
        self.lb_version: str | None = None
        self.lb_frontend: str | None = None
        self.lb_health: int | None = None
        self.broken: dict[str, set[str]] = {h: set() for h in self.hosts}
        self.schema = FakeSchema(None)
        self.set_all(version)
        self.transport = httpx.MockTransport(self._handle)

    def set_all(self, version: str | None, health: int = 200) -> None:
        """Every component, and the lb, at `version` (None: nothing answers)."""
        with self._lock:
            for host in self.hosts:
                self.versions[backend_key(host)] = version
                self.versions[frontend_key(host)] = version
            self.versions[SCHEMA] = version
            self.schema.release = version
            self.lb_version = self.lb_frontend = version
            self.lb_health = None if version is None else health

    def set(self, component: str, version: str | None) -> None:
        """One component at `version` (None: it does not answer)."""
        with self._lock:
            self.versions[component] = version
            if component == SCHEMA:
                self.schema.release = version

    def client(self, *, journal: Journal | None = None) -> ComponentsClient:
        """A ComponentsClient reading this fake."""
        return ComponentsClient(
            {h: f"http://backend-{h}.fake" for h in self.hosts},
            {h: f"http://frontend-{h}.fake" for h in self.hosts},
            "http://lb.fake",
            self.schema,
            journal=journal,
            transport=self.transport,
        )

    def _handle(self, request: httpx.Request) -> httpx.Response:
        host, path = request.url.host, request.url.path
        with self._lock:
            if host == "lb.fake":
                answer: Any = {
                    "/api/version": self.lb_version,
                    "/version.json": self.lb_frontend,
                    "/api/health": self.lb_health,
                }.get(path)
                if answer is None:
                    raise httpx.ConnectError("prod-lb does not answer (fake)", request=request)
                if path == "/api/health":
                    status = "ok" if answer == 200 else "failing"
                    return httpx.Response(answer, json={"status": status, "version": self.lb_version})
                return httpx.Response(200, json={"version": answer})
            kind, web = host.removesuffix(".fake").split("-", 1)
            if kind == "backend" and path == "/_faults":
                if self.versions.get(backend_key(web)) is None:
                    raise httpx.ConnectError(f"{web} does not answer (fake)", request=request)
                return httpx.Response(200, json={"broken_releases": sorted(self.broken.get(web, set()))})
            version = self.versions.get(f"{kind}@{web}")
            if version is None:
                raise httpx.ConnectError(f"{kind}@{web} does not answer (fake)", request=request)
            return httpx.Response(200, json={"version": version})

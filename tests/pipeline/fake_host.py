"""Docker-free stand-ins for testing the pipeline's host tools (pipeline/production/) for real:

- `PgCluster`: a throwaway PostgreSQL cluster (initdb + pg_ctl, Unix socket only, trust auth) in a
  temporary folder; as root it runs as the `postgres` (or `nobody`) user, as PostgreSQL requires.
  `find_pg_bin()` is None when PostgreSQL's server binaries are not installed (tests skip).
- `FakeHost`: one web host's layout in a temporary folder (docs/production.md: releases,
  backend/current and frontend/current symlinks, the state file, /run/app), the production
  stand-in's own backend (docker/prodhost/app.py, Redis check stubbed) under a supervisor loop
  that records its pid as the real one does, and the tools run against it through their
  APP_* environment overrides.
- `ArtifactStore`: the stand-in's artifact server (docker/artifacts/server.py) on a free port.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "pipeline" / "production"
BUNDLES = ROOT / "docker" / "artifacts" / "bundles.py"
BACKEND_APP = ROOT / "docker" / "prodhost" / "app.py"
ARTIFACT_SERVER = ROOT / "docker" / "artifacts" / "server.py"


def find_pg_bin() -> Path | None:
    """The folder of initdb and pg_ctl (Debian: /usr/lib/postgresql/<v>/bin), or None."""
    for candidate in [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)]:
        if candidate and Path(candidate).resolve().with_name("pg_ctl").exists():
            return Path(candidate).resolve().parent
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_bundles() -> Any:
    """docker/artifacts/bundles.py (the stand-in's release bundles), imported by path."""
    import importlib.util

    if "dch_bundles" in sys.modules:
        return sys.modules["dch_bundles"]
    spec = importlib.util.spec_from_file_location("dch_bundles", BUNDLES)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class PgCluster:
    """A PostgreSQL server for one test session, reachable on a Unix socket in `folder`."""

    def __init__(self, folder: Path, bin_dir: Path) -> None:
        self.folder, self.bin = folder, bin_dir
        self.data, self.socket_dir = folder / "data", folder / "socket"
        self.user: str | None = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            for name in ("postgres", "nobody"):
                with contextlib.suppress(KeyError):
                    pwd.getpwnam(name)
                    self.user = name
                    break

    def _run(self, *args: str) -> None:
        subprocess.run(list(args), check=True, capture_output=True, user=self.user, stdin=subprocess.DEVNULL)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        self.folder.chmod(0o755)  # the server's user must reach its data folder
        if self.user:
            for path in (self.folder, self.socket_dir):
                shutil.chown(path, self.user)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.folder / "server.log"),
            "-o", f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c max_connections=100",
            "start",
        )  # fmt: skip
        self.socket_dir.chmod(0o777)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def psql(self, database: str, sql: str) -> str:
        proc = subprocess.run(
            ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir), "-U", "postgres",
             "-d", database, "-c", sql],
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"psql failed: {proc.stderr}")
        return proc.stdout.strip()

    def new_database(self, name: str, release: str = "1.0.0") -> None:
        """Database `name` as prod-db starts: schema_state = `release` and its table."""
        bundles = load_bundles()
        self.psql("postgres", f"CREATE DATABASE {name}")
        self.psql(name, "CREATE TABLE schema_state (release text NOT NULL); INSERT INTO schema_state VALUES ('none');")
        self.psql(name, bundles.up_sql(release))


class ArtifactStore:
    """docker/artifacts/server.py on 127.0.0.1:<free port>."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, str(ARTIFACT_SERVER), "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: http_ok(f"{self.url}/healthz"), "the artifact store answers", 15)

    def fault(self, version: str, fault: str, active: bool = True) -> None:
        request = urllib.request.Request(f"{self.url}/_faults/{version}/{fault}", method="PUT" if active else "DELETE")
        urllib.request.urlopen(request, timeout=5).close()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def http_json(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return dict(json.loads(resp.read()))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read() or b"{}"))
    except (OSError, ValueError):
        return None


def wait_until(probe: Any, what: str, timeout: float, interval: float = 0.05) -> float:
    """Seconds until `probe()` is true; AssertionError naming `what` after `timeout`."""
    started = time.monotonic()
    while not probe():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(interval)
    return time.monotonic() - started


# The backend under a supervisor loop, as docker/prodhost/supervise.sh runs it: `python3 fake_host.py
# supervise <root> <run dir> <port> <db.env>` starts the stand-in's backend again whenever it exits.
def _serve(root: Path, port: int, db_env: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("dch_backend_app", BACKEND_APP)
    assert spec and spec.loader
    app = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = app  # dataclasses look their module up there
    spec.loader.exec_module(app)
    version = app.read_version(root / "backend" / "current" / "VERSION")
    backend = app.Backend(version, broken_dir=root / "broken", db_env=db_env, ping=lambda host: None)
    app.BackendServer(("127.0.0.1", port), backend).serve_forever()


def _supervise(root: Path, run: Path, port: int, db_env: Path) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    child: subprocess.Popen[bytes] | None = None
    try:
        while True:
            child = subprocess.Popen(
                [sys.executable, __file__, "serve", str(root), str(port), str(db_env)], stdin=subprocess.DEVNULL
            )
            (run / "backend.started_at").write_text(f"{time.time()}\n")
            tmp = run / "backend.pid.tmp"
            tmp.write_text(f"{child.pid}\n")
            tmp.replace(run / "backend.pid")
            child.wait()
            time.sleep(0.05)
    finally:
        if child and child.poll() is None:
            child.kill()


class FakeHost:
    """One web host in `folder`, named `name`, at `release`, on database `db` of `pg`."""

    def __init__(
        self, folder: Path, name: str, pg: PgCluster, db: str, release: str = "1.0.0", **settings: str
    ) -> None:
        self.folder, self.name, self.pg, self.db = folder, name, pg, db
        self.root, self.run = folder / "opt-app", folder / "run"
        self.port = free_port()
        self.db_env, self.deploy_env = folder / "db.env", folder / "deploy.env"
        self.state_file = folder / "app-production-state.json"
        self.supervisor: subprocess.Popen[bytes] | None = None
        self.watchdog: subprocess.Popen[bytes] | None = None
        bundles = load_bundles()
        (self.root / "releases").mkdir(parents=True)
        (self.root / "broken").mkdir()
        self.run.mkdir()
        for component in ("backend", "frontend"):
            (self.root / component).mkdir()
        self.install(release, bundles)
        for component in ("backend", "frontend"):
            (self.root / component / "current").symlink_to(f"../releases/{release}/{component}")
        self.state_file.write_text(json.dumps({"current_version": release, "previous_version": None}) + "\n")
        self.db_env.write_text(f"PGHOST={pg.socket_dir}\nPGUSER=postgres\nPGDATABASE={db}\n")
        settings = {"TXN_LEASE_S": "2", "TXN_HEARTBEAT_S": "0.5", "WATCHDOG_PERIOD_S": "0.5", **settings}
        self.deploy_env.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))

    def install(self, release: str, bundles: Any = None) -> None:
        """Unpack `release` as the fetch step would have (without the artifact store)."""
        bundles = bundles or load_bundles()
        bundles.unpack(bundles.make_bundle(release), self.root / "releases")

    @property
    def env(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("APP_", "PG"))},
            "APP_ROOT": str(self.root),
            "APP_RUN_DIR": str(self.run),
            "APP_STATE_FILE": str(self.state_file),
            "APP_DB_ENV": str(self.db_env),
            "APP_DEPLOY_ENV": str(self.deploy_env),
            "APP_BACKEND_URL": f"http://127.0.0.1:{self.port}",
            "APP_HOST": self.name,
            "APP_WATCHDOG_LOG": str(self.folder / "app-watchdog.log"),
        }

    def start(self) -> None:
        self.supervisor = subprocess.Popen(
            [sys.executable, __file__, "supervise", str(self.root), str(self.run), str(self.port), str(self.db_env)],
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_until(lambda: http_json(f"http://127.0.0.1:{self.port}/version") is not None, f"{self.name} serves", 15)

    def start_watchdog(self) -> None:
        self.watchdog = subprocess.Popen(
            [str(TOOLS / "app-watchdog")], env=self.env, stdin=subprocess.DEVNULL, start_new_session=True
        )

    def stop(self) -> None:
        for proc in (self.watchdog, self.supervisor):
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def tool(self, name: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a host tool on this host; stdout is its JSON result, stderr what it said."""
        return subprocess.run(
            [str(TOOLS / name), *args], env=self.env, capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def ok(self, name: str, *args: str, timeout: float = 60) -> dict[str, Any]:
        """Run a host tool that must succeed; its JSON result."""
        proc = self.tool(name, *args, timeout=timeout)
        assert proc.returncode == 0, f"{name} {' '.join(args)} exited {proc.returncode}: {proc.stderr}"
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

    def linked(self, component: str) -> str:
        return Path(os.readlink(self.root / component / "current")).parent.name

    def served(self) -> str | None:
        body = http_json(f"http://127.0.0.1:{self.port}/version")
        return body.get("version") if body else None

    def pid(self) -> str:
        return (self.run / "backend.pid").read_text().strip()

    def components(self) -> dict[str, str | None]:
        return {
            f"backend@{self.name}": self.served(),
            f"backend-link@{self.name}": self.linked("backend"),
            f"frontend@{self.name}": self.linked("frontend"),
        }


@contextlib.contextmanager
def running(*hosts: FakeHost) -> Iterator[tuple[FakeHost, ...]]:
    try:
        for host in hosts:
            host.start()
        yield hosts
    finally:
        for host in hosts:
            host.stop()


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        _serve(Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
    elif sys.argv[1] == "supervise":
        _supervise(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))

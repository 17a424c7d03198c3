"""docker/prodhost/app.py in-process: version read at start, health from its dependencies, broken markers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest


def ok_schema(release: str) -> Callable[[dict[str, str]], str]:
    return lambda env: release


def failing(message: str) -> Callable[..., Any]:
    def fail(*args: object) -> Any:
        raise RuntimeError(message)

    return fail


@pytest.fixture
def make(backend_app: ModuleType, tmp_path: Path) -> Callable[..., Any]:
    """A Backend at `version` whose checks are given (default: schema at `version`, Redis answering)."""
    broken = tmp_path / "broken"
    broken.mkdir()

    def factory(version: str | None = "1.0.0", **checks: Any) -> Any:
        checks.setdefault("schema", ok_schema(version or ""))
        checks.setdefault("ping", lambda host: None)
        return backend_app.Backend(version, broken_dir=broken, db_env=tmp_path / "db.env", **checks)

    return factory


def test_the_version_is_read_from_the_file_at_start(backend_app: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "VERSION").write_text("1.2.3\n")
    assert backend_app.read_version(tmp_path / "VERSION") == "1.2.3"
    assert backend_app.read_version(tmp_path / "missing") is None


def test_healthy_when_schema_matches_redis_answers_and_not_broken(make: Callable[..., Any]) -> None:
    status, body = make().health()
    assert status == 200
    assert {k: body[k] for k in ("status", "version", "schema", "redis")} == {
        "status": "ok",
        "version": "1.0.0",
        "schema": "1.0.0",
        "redis": "ok",
    }
    assert isinstance(body["started_at"], float) and "reasons" not in body


@pytest.mark.parametrize(
    ("checks", "reason"),
    [
        ({"schema": ok_schema("1.1.0")}, "schema is at 1.1.0, the backend at 1.0.0"),
        ({"schema": failing("connection refused")}, "postgresql: connection refused"),
        ({"ping": failing("timed out")}, "redis: timed out"),
    ],
)
def test_failing_with_the_same_fields_and_the_reason(make: Callable[..., Any], checks: dict, reason: str) -> None:
    status, body = make(**checks).health()
    assert status == 503 and body["status"] == "failing"
    assert {"version", "schema", "redis", "started_at"} <= set(body)
    assert body["reasons"] == [reason]


def test_a_release_marked_broken_on_the_host_fails_health(make: Callable[..., Any]) -> None:
    backend = make()
    (backend.broken_dir / "1.0.0").touch()
    (backend.broken_dir / "2.0.0").touch()
    status, body = backend.health()
    assert status == 503 and body["reasons"] == ["release 1.0.0 is marked broken on this host"]
    assert backend.broken_releases() == ["1.0.0", "2.0.0"]


def test_no_version_fails_health(make: Callable[..., Any]) -> None:
    status, body = make(None).health()
    assert status == 503 and body["version"] is None


def test_db_env_is_read_as_the_shell_sources_it(backend_app: ModuleType, tmp_path: Path) -> None:
    env = tmp_path / "db.env"
    env.write_text("# app\nPGHOST=prod-db\nexport PGUSER=app\nPGPASSWORD='x-y_z'\nREDIS_HOST=prod-cache\n\n")
    assert backend_app.read_env_file(env) == {
        "PGHOST": "prod-db",
        "PGUSER": "app",
        "PGPASSWORD": "x-y_z",
        "REDIS_HOST": "prod-cache",
    }
    assert backend_app.read_env_file(tmp_path / "missing") == {}


@pytest.fixture
def fake_redis() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server answering +PONG to one line per connection; yields its port and what it received."""
    received: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                received.append(conn.recv(64))
                conn.sendall(b"+PONG\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], received
    server.close()


def test_redis_ping_speaks_resp(backend_app: ModuleType, fake_redis: tuple[int, list[bytes]]) -> None:
    port, received = fake_redis
    backend_app.redis_ping("127.0.0.1", port)
    assert received == [b"PING\r\n"]
    closed = socket.create_server(("127.0.0.1", 0))
    free = closed.getsockname()[1]
    closed.close()
    with pytest.raises(OSError):
        backend_app.redis_ping("127.0.0.1", free, timeout_s=0.5)


def test_the_http_routes(backend_app: ModuleType, make: Callable[..., Any]) -> None:
    backend = make("1.0.0")
    server = backend_app.BackendServer(("127.0.0.1", 0), backend)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_address[1]}") as http:
            assert http.get("/version").json() == {"version": "1.0.0"}
            assert http.get("/health").status_code == 200
            (backend.broken_dir / "1.0.0").touch()
            assert http.get("/health").status_code == 503  # checked on every request
            assert http.get("/_faults").json() == {"broken_releases": ["1.0.0"]}
            assert http.get("/nope").status_code == 404
            assert http.get("/version").headers["cache-control"] == "no-store"
    finally:
        server.shutdown()
        server.server_close()


FAKE_PSQL = """#!/usr/bin/env python3
# Speaks psql's line protocol as the backend uses it: answers the SELECT, echoes the sentinel.
import os, sys, time
if os.environ.get("PGHOST") == "down":
    print("psql: error: connection to server at down failed", flush=True)
    sys.exit(2)
release = os.environ.get("FAKE_RELEASE", "1.0.0")
for line in sys.stdin:
    if line.startswith("SELECT"):
        if release == "hang":
            time.sleep(60)
        print(f"release={release}" if release != "error" else 'ERROR:  relation "schema_state" does not exist')
    elif line.startswith("\\\\echo"):
        print(line.split(None, 1)[1].strip())
    sys.stdout.flush()
"""


@pytest.fixture
def fake_psql(tmp_path: Path) -> str:
    path = tmp_path / "psql"
    path.write_text(FAKE_PSQL)
    path.chmod(0o755)
    return str(path)


def test_the_psql_session_is_kept_between_checks(backend_app: ModuleType, fake_psql: str) -> None:
    session = backend_app.PsqlSession(psql=fake_psql)
    assert session.release({"PGHOST": "db"}) == "1.0.0"
    pid = session._proc.pid
    assert session.release({"PGHOST": "db"}) == "1.0.0"
    assert session._proc.pid == pid  # the same process answered twice
    assert session.release({"PGHOST": "db", "FAKE_RELEASE": "1.1.0"}) == "1.1.0"  # new settings: new session
    session._stop()


@pytest.mark.parametrize(
    ("env", "timeout", "error"),
    [
        ({"PGHOST": "down"}, 10, "connection to server at down failed"),
        ({"FAKE_RELEASE": "error"}, 10, 'relation "schema_state" does not exist'),
        ({"FAKE_RELEASE": "hang"}, 1, "did not answer within 1 s"),
    ],
)
def test_the_psql_session_reports_failures_and_starts_afresh(
    backend_app: ModuleType, fake_psql: str, env: dict[str, str], timeout: float, error: str
) -> None:
    session = backend_app.PsqlSession(timeout_s=timeout, psql=fake_psql)
    with pytest.raises((RuntimeError, TimeoutError), match=error):
        session.release(env)
    assert session._proc is None  # dropped: the next check starts a new psql
    session.timeout_s = 10
    assert session.release({"PGHOST": "db"}) == "1.0.0"
    session._stop()

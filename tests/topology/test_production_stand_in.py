"""The production stand-in of docs/production.md, started for real (Docker; `deploy-chaos setup` first).

A topology of its own (not the session's, which scenarios have deployed to by the time this runs):
every component at 1.0.0 per component and through prod-lb, the hosts' layout, PostgreSQL, SSH to
both web hosts, the backend's supervisor, a bundle's migrations in PostgreSQL 15, and each
production fault's took-effect and revert, seen from a client's side.
"""

from __future__ import annotations

import base64
import json
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pg8000.native
import pytest

from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import load_profile
from harness.core.waiting import wait_for
from harness.drivers.components import SCHEMA, backend_key, frontend_key
from harness.faults.deploy_lock import FAULT_RUNNER
from harness.topology.docker_topology import PROD_HOST, WEB_HOSTS
from harness.topology.environment import DockerEnvironment

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
# how a web host gets a bundle: from the artifact store, by its name on the run network
FETCH = (
    "rm -rf /tmp/rel && mkdir /tmp/rel && curl -fsS http://artifacts:8000/releases/{version}.tar.gz | tar -xzC /tmp/rel"
)


# Stands in for the pipeline's watchdog (its own one, if it has one, is replaced in this module's copy):
# proves the entrypoint starts /opt/app/bin/app-watchdog, as the deploy user, and keeps it running.
WATCHDOG = "#!/bin/sh\nid -un > /tmp/app-watchdog.started\nexec sleep 86400\n"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEnvironment]:
    """A fresh topology for this module (the reference pipeline with a stub watchdog), always removed."""
    pipeline = tmp_path_factory.mktemp("pipeline") / "pipeline"
    shutil.copytree(ROOT / "pipeline", pipeline, ignore=shutil.ignore_patterns("variants", "__pycache__"))
    (pipeline / "production").mkdir(exist_ok=True)
    (pipeline / "production" / "app-watchdog").write_text(WATCHDOG)
    environment = DockerEnvironment(
        PipelineSource(pipeline),
        load_profile("nightly", ROOT / "profiles"),
        tmp_path_factory.mktemp("journals"),
    )
    try:
        yield environment
    finally:
        environment.close()


def sh(env: DockerEnvironment, host: str, script: str, user: str | None = None, timeout_s: float = 30) -> str:
    """Run `script` with bash on `host` (as `user`); return its output, failing the test on a non-zero exit."""
    argv = ["su", "-s", "/bin/bash", user, "-c", script] if user else ["bash", "-c", script]
    code, out = env.backend.exec(env.topology.container_name(host), argv, timeout_s=timeout_s)
    assert code == 0, f"{host}: {script!r} exited {code}: {out}"
    return out


def db(env: DockerEnvironment) -> pg8000.native.Connection:
    return env.topology.pg_connect()


def schema_release(env: DockerEnvironment) -> str:
    conn = db(env)
    try:
        return str(conn.run("SELECT release FROM schema_state")[0][0])
    finally:
        conn.close()


def tables(env: DockerEnvironment) -> set[str]:
    conn = db(env)
    try:
        return {r[0] for r in conn.run("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        conn.close()


def test_every_component_is_at_1_0_0_per_component_and_through_the_lb(env: DockerEnvironment) -> None:
    reading = env.components.read()
    assert reading.versions == {
        backend_key("prod-web-1"): "1.0.0",
        backend_key("prod-web-2"): "1.0.0",
        frontend_key("prod-web-1"): "1.0.0",
        frontend_key("prod-web-2"): "1.0.0",
        SCHEMA: "1.0.0",
    }
    assert reading.lb == {"api_version": "1.0.0", "frontend_version": "1.0.0", "health_status": 200, "health": "ok"}
    assert reading.errors == {}
    assert env.production.version() == "1.0.0" and env.production.healthy()
    sampled = [e for e in env.journal.entries("production.sample") if e["probe"] == "components"]
    assert sampled[-1]["versions"] == reading.versions and sampled[-1]["lb"] == reading.lb


def test_a_components_read_fits_a_100_ms_sampling_period(env: DockerEnvironment) -> None:
    durations = []
    for _ in range(20):
        started = time.monotonic()
        env.components.read()
        durations.append(time.monotonic() - started)
    assert statistics.median(durations) < 0.1, durations


def test_both_web_hosts_have_the_contracts_layout_and_state_file(env: DockerEnvironment) -> None:
    for host in WEB_HOSTS:
        out = sh(
            env,
            host,
            "readlink /opt/app/backend/current; readlink /opt/app/frontend/current; "
            "stat -c '%U %a' /opt/app/releases/1.0.0 /etc/app/db.env; stat -c '%G' /etc/app/db.env; "
            "ls /opt/app/releases/1.0.0; cat /var/lib/app-production-state.json",
        ).splitlines()
        assert out[:2] == ["../releases/1.0.0/backend", "../releases/1.0.0/frontend"]
        assert out[2:5] == ["deploy 755", "root 640", "deploy"]
        assert out[5:9] == ["backend", "frontend", "manifest.json", "migrations"]
        state = json.loads(out[9])
        assert (state["current_version"], state["previous_version"]) == ("1.0.0", None)
        assert state["components"] == {"backend": "1.0.0", "frontend": "1.0.0", "schema": "1.0.0"}
        assert f"PGPASSWORD={env.topology.db_password}" in sh(env, host, "cat /etc/app/db.env", user="deploy")
        assert sh(env, host, "cat /run/app/backend.pid", user="deploy").strip().isdigit()
    read = env.production_state()
    assert read["state"]["current_version"] == "1.0.0"


def test_postgresql_has_the_app_schema_and_the_run_password(env: DockerEnvironment) -> None:
    assert schema_release(env) == "1.0.0"
    assert {"schema_state", "release_1_0_0"} <= tables(env)
    with pytest.raises(pg8000.native.DatabaseError):
        pg8000.native.Connection(
            user="app", password="not-the-password", host="127.0.0.1", port=env.topology.endpoints.db_port
        )
    assert env.topology.db_password in env.secrets()


def test_the_clients_on_the_web_hosts_reach_the_database_and_the_cache(env: DockerEnvironment) -> None:
    for host in WEB_HOSTS:
        script = "set -a; . /etc/app/db.env; psql -XtAc 'TABLE schema_state'; redis-cli -h $REDIS_HOST ping"
        assert sh(env, host, script, user="deploy").split() == ["1.0.0", "PONG"]


def test_the_deploy_certificate_logs_in_to_both_web_hosts_with_the_known_hosts_variable(
    env: DockerEnvironment,
) -> None:
    """From prod-web-1 (it has an ssh client), as the runner would: the run's key and certificate, and
    SSH_KNOWN_HOSTS (the host CA) with strict host key checking, for both host names."""
    ssh = env.topology.ssh
    assert ssh is not None
    files = {"k": ssh.deploy_key, "k-cert.pub": ssh.deploy_cert + "\n", "kh": ssh.known_hosts + "\n"}
    setup = "; ".join(
        f"echo {base64.b64encode(v.encode()).decode()} | base64 -d > /tmp/dch-ssh/{n}" for n, v in files.items()
    )
    sh(env, PROD_HOST, f"umask 077; mkdir -p /tmp/dch-ssh; {setup}")
    try:
        for host in WEB_HOSTS:
            out = sh(
                env,
                PROD_HOST,
                "ssh -i /tmp/dch-ssh/k -o CertificateFile=/tmp/dch-ssh/k-cert.pub "
                "-o UserKnownHostsFile=/tmp/dch-ssh/kh -o StrictHostKeyChecking=yes -o BatchMode=yes "
                f"deploy@{host} 'hostname; id -un'",
            )
            assert out.split()[-1] == "deploy"
    finally:
        sh(env, PROD_HOST, "rm -rf /tmp/dch-ssh")


def test_the_pipelines_tools_are_installed_and_its_watchdog_runs_on_both_web_hosts(env: DockerEnvironment) -> None:
    for host in WEB_HOSTS:
        assert sh(env, host, "stat -c '%a' /opt/app/bin/app-watchdog").strip() == "755"
        wait_for(lambda h=host: sh(env, h, "cat /tmp/app-watchdog.started || true").strip() == "deploy", "watchdog", 10)
        assert "deploy" in sh(env, host, "ps -o user= -C sleep")


def test_a_killed_backend_is_started_again_and_records_its_new_pid(env: DockerEnvironment) -> None:
    host = "prod-web-2"
    before = sh(env, host, "cat /run/app/backend.pid /run/app/backend.started_at", user="deploy").split()
    sh(env, host, "kill $(cat /run/app/backend.pid)", user="deploy")
    wait_for(
        lambda: sh(env, host, "cat /run/app/backend.pid", user="deploy").strip() != before[0],
        "a new backend pid",
        10,
        interval=0.05,
    )
    wait_for(lambda: env.components.read().versions[backend_key(host)] == "1.0.0", "the backend answering", 10)
    after = sh(env, host, "cat /run/app/backend.pid /run/app/backend.started_at", user="deploy").split()
    assert after[0] != before[0] and float(after[1]) > float(before[1])


def test_a_bundles_migrations_run_up_and_down_in_postgresql_15(env: DockerEnvironment) -> None:
    """As the pipeline will: download on a web host, psql -1 -v ON_ERROR_STOP=1, as the deploy user."""
    fetch = FETCH.format(version="1.1.0")
    psql = "set -a; . /etc/app/db.env; psql -X -q -1 -v ON_ERROR_STOP=1"
    sh(env, PROD_HOST, fetch, user="deploy")
    try:
        sh(env, PROD_HOST, f"{psql} -f /tmp/rel/1.1.0/migrations/up.sql", user="deploy")
        assert schema_release(env) == "1.1.0" and "release_1_1_0" in tables(env)
        sh(env, PROD_HOST, f"{psql} -v previous=1.0.0 -f /tmp/rel/1.1.0/migrations/down.sql", user="deploy")
        assert schema_release(env) == "1.0.0" and "release_1_1_0" not in tables(env)
    finally:
        sh(env, PROD_HOST, "rm -rf /tmp/rel", user="deploy")


def test_migration_fails_aborts_the_migration_and_leaves_the_schema_unchanged(env: DockerEnvironment) -> None:
    fetch = FETCH.format(version="1.2.0")
    up = "set -a; . /etc/app/db.env; psql -X -q -1 -v ON_ERROR_STOP=1 -f /tmp/rel/1.2.0/migrations/up.sql"
    with env.release_migration_fails("1.2.0"):
        sh(env, PROD_HOST, fetch, user="deploy")
        code, out = env.backend.exec(env.topology.container_name(PROD_HOST), ["su", "deploy", "-c", up])
        assert code == 3 and "deploy-chaos fault migration-fails" in out
        assert schema_release(env) == "1.0.0" and "release_1_2_0" not in tables(env)
    sh(env, PROD_HOST, "rm -rf /tmp/rel", user="deploy")
    assert env.leftovers() == []


def test_release_broken_fails_health_on_every_host_and_reverts(env: DockerEnvironment) -> None:
    with env.release_broken("1.0.0"):  # the live release: its health shows the fault from a client's side
        assert env.components.broken_releases() == {h: ["1.0.0"] for h in WEB_HOSTS}
        assert not env.production.healthy()
        assert env.components.read().lb["health_status"] == 503
    assert env.production.healthy() and env.components.broken_releases() == {h: [] for h in WEB_HOSTS}
    assert env.leftovers() == []


def test_deploy_lock_held_refuses_a_deploys_transaction_and_flock_then_reverts(env: DockerEnvironment) -> None:
    lock_step = (
        "set -a; . /etc/app/db.env; psql -X -q -v ON_ERROR_STOP=1 -c "
        "\"INSERT INTO deploy_txn (from_release, to_release, runner, phase) VALUES ('1.0.0', '1.1.0', 'test', 'open')\""
    )
    container = env.topology.container_name(PROD_HOST)
    with env.deploy_lock_held() as fault:
        code, out = env.backend.exec(container, ["su", "deploy", "-c", lock_step])
        assert code != 0 and "deploy_txn_one_open" in out  # what the pipeline's lock step would get
        assert env.backend.exec(container, ["flock", "-n", "/opt/app/.deploy.lock", "true"])[0] != 0
        conn = db(env)
        try:
            first = conn.run("SELECT heartbeat_at FROM deploy_txn WHERE runner = :r", r=FAULT_RUNNER)[0][0]
            time.sleep(2.2)
            second = conn.run("SELECT heartbeat_at FROM deploy_txn WHERE runner = :r", r=FAULT_RUNNER)[0][0]
        finally:
            conn.close()
        assert second > first and fault.renewals >= 1  # renewed while held
    assert env.backend.exec(container, ["flock", "-n", "/opt/app/.deploy.lock", "true"])[0] == 0
    conn = db(env)
    try:
        assert conn.run("SELECT count(*) FROM deploy_txn")[0][0] == 0
    finally:
        conn.close()
    assert env.leftovers() == []


def test_prod_dbs_exporter_reports_each_open_deploy_transaction_to_prometheus(env: DockerEnvironment) -> None:
    """prod-db's postgres exporter (read-only role, peer auth) runs the pipeline's queries; Prometheus scrapes it."""
    assert env.prometheus.query('pg_up{job="production-db"} == 1'), "the exporter does not reach PostgreSQL"
    selector = env.deploy_lock_selector()
    with env.deploy_lock_held() as fault:
        # this lock's own series: an earlier test's lock may still be in the last scrape for a moment
        txn = str(fault.txn_id)  # type: ignore[attr-defined]
        own = selector.rstrip("}") + f',txn_id="{txn}"}}'
        wait_for(lambda: env.prometheus.query(own), "the held lock's series in Prometheus", 10, interval=0.2)
        wait_for(lambda: len(env.prometheus.query(selector)) == 1, "only the held lock's series", 10, interval=0.2)
        (series,) = env.prometheus.query(selector)
        assert series["metric"]["holder"] == FAULT_RUNNER and series["value"][1] == "1"
        assert series["metric"]["txn_id"] == txn
        time.sleep(3)
        age = float(
            env.prometheus.query(f'deploy_lock_age_seconds{{job="production-db",txn_id="{txn}"}}')[0]["value"][1]
        )
        heartbeat = float(
            env.prometheus.query(f'deploy_lock_heartbeat_age_seconds{{job="production-db",txn_id="{txn}"}}')[0][
                "value"
            ][1]
        )
        assert age >= 2 and heartbeat < 2.5, (age, heartbeat)  # held for seconds; renewed every second
    wait_for(lambda: not env.prometheus.query(selector), "the released lock's series gone", 10, interval=0.2)
    # the role cannot write, and the exporter's and the server's logs never hold the run's password
    code, out = env.backend.exec(
        env.topology.container_name("prod-db"),
        ["runuser", "-u", "prometheus", "--", "psql", "-X", "-d", "app", "-c", "DELETE FROM deploy_txn"],
    )
    assert code != 0 and "permission denied" in out
    logs = env.backend.client.containers.get(env.topology.container_name("prod-db")).logs().decode(errors="replace")
    assert env.topology.db_password not in logs


def test_production_unresponsive_freezes_the_first_web_host_and_thaws_it(env: DockerEnvironment) -> None:
    with env.production_unresponsive():
        reading = env.components.read()
        assert reading.versions[backend_key(PROD_HOST)] is None
        assert reading.versions[backend_key("prod-web-2")] == "1.0.0"
        # leftovers still answer with a host frozen (Docker refuses to exec in it): it is named, not raised
        assert env.leftovers() == [f"{env.topology.container_name(PROD_HOST)} is paused"]
    assert env.components.read().versions[backend_key(PROD_HOST)] == "1.0.0"
    assert env.leftovers() == []


def test_the_journal_never_holds_the_db_password(env: DockerEnvironment) -> None:
    env.journal.info("probe.secret", value=env.topology.db_password)
    assert env.journal.path is not None
    assert env.topology.db_password not in env.journal.path.read_text()

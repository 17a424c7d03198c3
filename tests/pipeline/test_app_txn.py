"""The deploy transaction on the hosts (pipeline/production/app-txn, app-release, app-service,
app-watchdog), against a real PostgreSQL server and fake web hosts, without Docker.

What a deploy step does is called here as the playbook calls it (deploy.yml, one tool per step);
what happens when the runner dies is the watchdogs' work, run as real processes on two hosts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.fake_host import ArtifactStore, FakeHost, PgCluster, wait_until

RUNNER = "runner-primary/run-7/attempt-1"
Make = Callable[..., FakeHost]


def txn(pg: PgCluster, db: str, txn_id: int) -> dict[str, Any]:
    row = pg.psql(db, f"SELECT row_to_json(t) FROM deploy_txn t WHERE id = {txn_id}")
    return dict(json.loads(row))


def schema(pg: PgCluster, db: str) -> str:
    return pg.psql(db, "SELECT release FROM schema_state")


def has_table(pg: PgCluster, db: str, name: str) -> bool:
    return pg.psql(db, f"SELECT count(*) FROM pg_tables WHERE tablename = '{name}'") == "1"


def begin(host: FakeHost, to: str, runner: str = RUNNER, *args: str) -> int:
    return int(host.ok("app-txn", "begin", "--to", to, "--runner", runner, *args)["id"])


def deploy_until(hosts: tuple[FakeHost, ...], to: str, last_step: str, runner: str = RUNNER) -> int:
    """The deploy's steps, as deploy.yml runs them, up to and including `last_step`."""
    first = hosts[0]
    txn_id = begin(first, to, runner)
    steps = ["snapshot", "migrate", "backend", "frontend", "commit"]
    for step in steps[: steps.index(last_step) + 1]:
        ids = ["--id", str(txn_id), "--runner", runner]
        first.ok("app-txn", "heartbeat", "--runner", runner)  # as the playbook renews it between steps
        if step == "snapshot":
            for host in hosts:
                host.install(to)  # the fetch step
                host.ok("app-txn", "snapshot", *ids, "--host", host.name)
        elif step in ("migrate", "commit"):
            first.ok("app-txn", step, *ids)
        else:
            for host in hosts:
                host.ok("app-release", "activate", step, to, *ids)
    return txn_id


def all_at(hosts: tuple[FakeHost, ...], pg: PgCluster, db: str, version: str) -> bool:
    return schema(pg, db) == version and all(set(h.components().values()) == {version} for h in hosts)


# ---- the lock ----------------------------------------------------------------------------------


def test_the_open_transaction_is_the_lock_and_a_live_one_is_waited_for_then_named(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    host = make_host("prod-web-1", start=False, TXN_LEASE_S="30")
    first = begin(host, "2.0.0")
    started = time.monotonic()
    proc = host.tool("app-txn", "begin", "--to", "3.0.0", "--runner", "runner-secondary/run-8/attempt-1", "--wait", "1")
    assert proc.returncode == 75, proc.stderr
    assert 1.0 <= time.monotonic() - started < 10
    row = txn(pg_cluster, app_db, first)
    assert f"deploy lock held by {RUNNER} since " in proc.stderr
    assert f"transaction {first}, 1.0.0 -> 2.0.0" in proc.stderr
    assert row["phase"] == "open" and row["runner"] == RUNNER
    assert pg_cluster.psql(app_db, "SELECT count(*) FROM deploy_txn WHERE phase = 'open'") == "1"


def test_the_deadline_bounds_the_wait_for_the_lock(make_host: Make) -> None:
    host = make_host("prod-web-1", start=False, TXN_LEASE_S="30")
    begin(host, "2.0.0")
    started = time.monotonic()
    deadline = str(time.time() + 1)
    proc = host.tool("app-txn", "begin", "--to", "3.0.0", "--runner", "x/run-9/attempt-1", "--deadline", deadline)
    assert proc.returncode == 75 and time.monotonic() - started < 8, proc.stderr


def test_an_expired_transaction_is_rolled_back_before_the_next_deploy_starts(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    hosts = (make_host("prod-web-1"), make_host("prod-web-2"))
    dead = deploy_until(hosts, "2.0.0", "backend")  # then its runner died: no heartbeat, no rescue
    assert schema(pg_cluster, app_db) == "2.0.0"
    time.sleep(2.2)  # TXN_LEASE_S=2
    second = begin(hosts[0], "3.0.0", "runner-secondary/run-8/attempt-1")
    assert txn(pg_cluster, app_db, dead)["phase"] == "rolled_back"
    assert schema(pg_cluster, app_db) == "1.0.0" and not has_table(pg_cluster, app_db, "release_2_0_0")
    assert set(hosts[0].components().values()) == {"1.0.0"}, "the host that began is restored at once"
    # the other host is restored by its snapshot step, before it is recorded
    hosts[1].ok("app-txn", "snapshot", "--id", str(second), "--runner", "runner-secondary/run-8/attempt-1")
    assert set(hosts[1].components().values()) == {"1.0.0"}
    assert txn(pg_cluster, app_db, second)["snapshot"]["hosts"]["prod-web-2"]["backend"]["version"] == "1.0.0"


def test_a_later_attempt_of_the_same_deploy_adopts_and_finishes_its_transaction(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    hosts = (make_host("prod-web-1", TXN_LEASE_S="300"), make_host("prod-web-2", TXN_LEASE_S="300"))
    first = deploy_until(hosts, "2.0.0", "backend", runner="r/run-5/attempt-1")  # then timed out
    recorded = txn(pg_cluster, app_db, first)["snapshot"]["hosts"]
    started = time.monotonic()
    second = begin(hosts[0], "2.0.0", "r/run-5/attempt-2", "--takeover", "r/run-5/attempt-")
    assert time.monotonic() - started < 5, "no wait for the lease: deploy.sh killed that attempt itself"
    assert second == first and txn(pg_cluster, app_db, first)["runner"] == "r/run-5/attempt-2"
    ids = ["--id", str(second), "--runner", "r/run-5/attempt-2"]
    for host in hosts:  # the retry runs every step again: each is a no-op where the first attempt got
        assert host.ok("app-txn", "snapshot", *ids)["kept"] is True
    assert txn(pg_cluster, app_db, first)["snapshot"]["hosts"] == recorded, "the snapshot is production before"
    assert hosts[0].ok("app-txn", "migrate", *ids)["changed"] is False
    assert [h.ok("app-release", "activate", "backend", "2.0.0", *ids)["changed"] for h in hosts] == [False, False]
    assert [h.ok("app-release", "activate", "frontend", "2.0.0", *ids)["changed"] for h in hosts] == [True, True]
    hosts[0].ok("app-txn", "commit", *ids)
    assert all_at(hosts, pg_cluster, app_db, "2.0.0")
    # the first attempt, if anything of it still ran, owns nothing any more
    proc = hosts[1].tool(
        "app-release", "activate", "frontend", "2.0.0", "--id", str(first), "--runner", "r/run-5/attempt-1"
    )
    assert proc.returncode == 1 and "no longer this deploy's" in proc.stderr


def test_an_earlier_attempt_for_another_release_is_rolled_back_not_adopted(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    host = make_host("prod-web-1", TXN_LEASE_S="300")
    first = deploy_until((host,), "2.0.0", "migrate", runner="r/run-5/attempt-1")
    second = begin(host, "3.0.0", "r/run-5/attempt-2", "--takeover", "r/run-5/attempt-")
    assert second != first and txn(pg_cluster, app_db, first)["phase"] == "rolled_back"
    assert schema(pg_cluster, app_db) == "1.0.0"


def test_the_heartbeat_renews_only_the_runners_open_transaction(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    host = make_host("prod-web-1", start=False, TXN_HEARTBEAT_S="3")
    txn_id = begin(host, "2.0.0")
    before = pg_cluster.psql(app_db, f"SELECT heartbeat_at FROM deploy_txn WHERE id = {txn_id}")
    time.sleep(0.05)
    assert host.ok("app-txn", "heartbeat", "--runner", RUNNER) == {"changed": False, "renewed": txn_id, "every_s": 3.0}
    assert pg_cluster.psql(app_db, f"SELECT heartbeat_at FROM deploy_txn WHERE id = {txn_id}") > before
    assert host.ok("app-txn", "heartbeat", "--runner", "someone/else")["renewed"] is None


# ---- the steps ---------------------------------------------------------------------------------


def test_migrate_runs_up_sql_once_and_only_for_the_owner(make_host: Make, pg_cluster: PgCluster, app_db: str) -> None:
    host = make_host("prod-web-1", start=False)
    host.install("2.0.0")
    txn_id = begin(host, "2.0.0")
    assert host.tool("app-txn", "migrate", "--id", str(txn_id), "--runner", "not/the/owner").returncode == 1
    assert schema(pg_cluster, app_db) == "1.0.0"
    assert host.ok("app-txn", "migrate", "--id", str(txn_id), "--runner", RUNNER)["changed"] is True
    assert schema(pg_cluster, app_db) == "2.0.0" and has_table(pg_cluster, app_db, "release_2_0_0")
    assert host.ok("app-txn", "migrate", "--id", str(txn_id), "--runner", RUNNER)["changed"] is False


def test_a_failing_migration_leaves_the_schema_and_the_rescue_changes_nothing(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    from tests.pipeline.fake_host import load_bundles

    host = make_host("prod-web-1")
    bundles = load_bundles()
    bundles.unpack(bundles.make_bundle("2.0.0", migration_fails=True), host.root / "releases")
    txn_id = begin(host, "2.0.0")
    host.ok("app-txn", "snapshot", "--id", str(txn_id), "--runner", RUNNER)
    proc = host.tool("app-txn", "migrate", "--id", str(txn_id), "--runner", RUNNER)
    assert proc.returncode == 1 and "migration-fails" in proc.stderr
    assert schema(pg_cluster, app_db) == "1.0.0" and not has_table(pg_cluster, app_db, "release_2_0_0")
    pid = host.pid()
    result = host.ok("app-txn", "rollback", "--id", str(txn_id), "--runner", RUNNER)
    assert result["phase"] == "rolled_back" and result["host"]["changed"] is False
    assert schema(pg_cluster, app_db) == "1.0.0" and host.pid() == pid


def test_a_full_deploy_commits_and_records_the_state_and_a_redeploy_changes_nothing(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    hosts = (make_host("prod-web-1"), make_host("prod-web-2"))
    txn_id = deploy_until(hosts, "2.0.0", "commit")
    assert txn(pg_cluster, app_db, txn_id)["phase"] == "committed"
    assert all_at(hosts, pg_cluster, app_db, "2.0.0")
    for host in hosts:
        assert host.ok("app-txn", "record-state", "--id", str(txn_id))["changed"] is True
        state = json.loads(host.state_file.read_text())
        assert (state["current_version"], state["previous_version"]) == ("2.0.0", "1.0.0")
        assert state["deploy_start"] and state["last_deploy_timestamp"] and state["transaction"] == txn_id
        assert state["components"] == {"backend": "2.0.0", "frontend": "2.0.0", "schema": "2.0.0"}
        assert state["component_status"]["backend"] == "healthy" and state["host"] == host.name
    recorded = [h.state_file.read_text() for h in hosts]
    pids = [h.pid() for h in hosts]
    # the same release again: every step reports no change, nothing restarts, the record stays
    runner = "runner-secondary/run-9/attempt-1"
    again = begin(hosts[0], "2.0.0", runner)
    ids = ["--id", str(again), "--runner", runner]
    changed = [h.ok("app-txn", "snapshot", *ids)["changed"] for h in hosts]
    changed.append(hosts[0].ok("app-txn", "migrate", *ids)["changed"])
    changed += [
        h.ok("app-release", "activate", c, "2.0.0", *ids)["changed"] for c in ("backend", "frontend") for h in hosts
    ]
    hosts[0].ok("app-txn", "commit", *ids)
    changed += [h.ok("app-txn", "record-state", "--id", str(again))["changed"] for h in hosts]
    assert changed == [False] * len(changed)
    assert [h.pid() for h in hosts] == pids
    assert [h.state_file.read_text() for h in hosts] == recorded


def test_a_rolled_back_transaction_never_gets_a_state_file(make_host: Make) -> None:
    host = make_host("prod-web-1")
    txn_id = deploy_until((host,), "2.0.0", "backend")
    host.ok("app-txn", "rollback", "--id", str(txn_id))
    proc = host.tool("app-txn", "record-state", "--id", str(txn_id))
    assert proc.returncode == 1 and "rolled back" in proc.stderr
    assert json.loads(host.state_file.read_text())["current_version"] == "1.0.0"


def test_a_step_of_a_deploy_whose_transaction_was_taken_changes_nothing(make_host: Make) -> None:
    host = make_host("prod-web-1")
    txn_id = deploy_until((host,), "2.0.0", "snapshot")
    host.ok("app-txn", "rollback", "--id", str(txn_id))  # as a watchdog would, after the lease
    proc = host.tool("app-release", "activate", "backend", "2.0.0", "--id", str(txn_id), "--runner", RUNNER)
    assert proc.returncode == 1 and "no longer this deploy's: phase rolled_back" in proc.stderr
    assert host.linked("backend") == "1.0.0" and host.served() == "1.0.0"


# ---- rollback -----------------------------------------------------------------------------------


@pytest.mark.parametrize("last_step", ["snapshot", "migrate", "backend", "frontend"])
def test_the_rescue_rolls_every_component_of_every_host_back(
    make_host: Make, pg_cluster: PgCluster, app_db: str, last_step: str
) -> None:
    hosts = (make_host("prod-web-1"), make_host("prod-web-2"))
    txn_id = deploy_until(hosts, "2.0.0", last_step)
    for host in hosts:  # deploy.yml's rescue: app-txn rollback on every host, in turn
        assert host.ok("app-txn", "rollback", "--id", str(txn_id), "--runner", RUNNER)["phase"] == "rolled_back"
    assert all_at(hosts, pg_cluster, app_db, "1.0.0")
    assert not has_table(pg_cluster, app_db, "release_2_0_0")
    assert txn(pg_cluster, app_db, txn_id)["ended_at"]


def test_a_committed_transaction_is_never_rolled_back(make_host: Make, pg_cluster: PgCluster, app_db: str) -> None:
    host = make_host("prod-web-1")
    txn_id = deploy_until((host,), "2.0.0", "commit")
    result = host.ok("app-txn", "rollback", "--id", str(txn_id))
    assert result["phase"] == "committed" and result["changed"] is False
    assert all_at((host,), pg_cluster, app_db, "2.0.0")


def test_exactly_one_of_several_reapers_takes_an_expired_transaction(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    hosts = (make_host("prod-web-1"), make_host("prod-web-2"))
    txn_id = deploy_until(hosts, "2.0.0", "frontend")
    time.sleep(2.2)
    results: dict[str, dict[str, Any]] = {}

    def reap(host: FakeHost) -> None:
        results[host.name] = host.ok("app-txn", "reap")

    threads = [threading.Thread(target=reap, args=(h,)) for h in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r["taken"] for r in results.values()) == [False, True], results
    assert all(r["reaped"] == txn_id for r in results.values())
    assert all_at(hosts, pg_cluster, app_db, "1.0.0")


def test_a_host_never_converges_back_over_a_newer_deploy(make_host: Make, pg_cluster: PgCluster, app_db: str) -> None:
    # leases far longer than the test: here no transaction may expire, however loaded the machine
    web1, web2 = make_host("prod-web-1", TXN_LEASE_S="300"), make_host("prod-web-2", TXN_LEASE_S="300")
    first = deploy_until((web1, web2), "2.0.0", "frontend")
    web1.ok("app-txn", "rollback", "--id", str(first))  # web-2's own restore has not happened yet
    assert web2.served() == "2.0.0"
    begin(web1, "3.0.0", "runner-secondary/run-8/attempt-1")  # a newer deploy owns the hosts now
    assert web2.ok("app-txn", "converge")["skipped"].endswith("is open")
    assert web2.ok("app-txn", "reap")["reaped"] is None
    assert web2.served() == "2.0.0", "left to the newer deploy's snapshot step"


def test_the_schema_is_restored_even_by_a_host_that_never_fetched_the_release(
    make_host: Make, pg_cluster: PgCluster, app_db: str, artifact_store: ArtifactStore
) -> None:
    web1 = make_host("prod-web-1", start=False)
    web2 = make_host("prod-web-2", start=False)
    web1.install("2.0.0")
    txn_id = begin(web1, "2.0.0", RUNNER, "--artifacts-url", artifact_store.url)
    web1.ok("app-txn", "migrate", "--id", str(txn_id), "--runner", RUNNER)
    assert not (web2.root / "releases" / "2.0.0").exists()
    web2.ok("app-txn", "rollback", "--id", str(txn_id))
    assert schema(pg_cluster, app_db) == "1.0.0"
    assert (web2.root / "releases" / "2.0.0" / "migrations" / "down.sql").exists()


# ---- the watchdogs: the runner died ------------------------------------------------------------


def test_watchdogs_roll_back_a_deploy_whose_runner_died_within_the_bound(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    lease, period = 2.0, 0.5
    hosts = (make_host("prod-web-1"), make_host("prod-web-2"))
    txn_id = deploy_until(hosts, "2.0.0", "frontend")
    # the watchdogs start once the deploy is half-way: on a loaded machine one step of this
    # simulated deploy (no background renewer) can outlast the lease, and be reaped mid-setup
    for host in hosts:
        host.start_watchdog()
    died = time.monotonic()  # before the renewal's write: the lease runs from a moment after this
    hosts[0].ok("app-txn", "heartbeat", "--runner", RUNNER)  # the runner's last renewal, then it dies
    assert not all_at(hosts, pg_cluster, app_db, "1.0.0")
    wait_until(lambda: all_at(hosts, pg_cluster, app_db, "1.0.0"), "every component back at 1.0.0", 30, 0.1)
    took = time.monotonic() - died
    assert txn(pg_cluster, app_db, txn_id)["phase"] == "rolled_back"
    # recovery bound: TXN_LEASE_S + WATCHDOG_PERIOD_S + rollback time; the rollback time (a psql
    # transaction, two symlinks, a backend restart: about a second) is given 10 s for a loaded CI machine
    assert lease <= took <= lease + period + 10, f"recovered after {took:.2f} s"

    def logs() -> str:
        return "".join((h.folder / "app-watchdog.log").read_text() for h in hosts)

    # the watchdog writes its log after the restore it reports: wait for the line, not the state
    wait_until(
        lambda: f"reaped transaction {txn_id}" in logs() and "restored to the snapshot" in logs(),
        "the watchdog's log of the reap and the restore",
        10,
        0.1,
    )
    assert pg_cluster.psql(app_db, "SELECT count(*) FROM deploy_txn WHERE phase = 'open'") == "0"


def test_a_committed_deploys_state_file_is_written_by_the_watchdog_if_the_runner_died_first(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    hosts = (make_host("prod-web-1"), make_host("prod-web-2"))
    deploy_until(hosts, "2.0.0", "commit")  # the runner died before the state files were written
    for host in hosts:
        host.start_watchdog()
    wait_until(
        lambda: all(json.loads(h.state_file.read_text())["current_version"] == "2.0.0" for h in hosts),
        "every state file records the committed release",
        15,
    )
    assert all_at(hosts, pg_cluster, app_db, "2.0.0")


def test_the_watchdog_logs_errors_once_and_keeps_going(tmp_path: Path, make_host: Make) -> None:
    host = make_host("prod-web-1", start=False)
    host.db_env.write_text(f"PGHOST={tmp_path}/nowhere\nPGUSER=postgres\nPGDATABASE=x\n")
    host.start_watchdog()
    time.sleep(2)
    assert host.watchdog is not None and host.watchdog.poll() is None, "the watchdog must outlive errors"
    lines = (host.folder / "app-watchdog.log").read_text().splitlines()
    assert lines[0].split(" ", 1)[1].startswith("app-watchdog started")
    assert sum(" error: " in line for line in lines) == 1, lines


def test_tools_report_bad_arguments_without_a_traceback(make_host: Make) -> None:
    host = make_host("prod-web-1", start=False)
    proc = host.tool("app-txn", "begin", "--to", "../../etc", "--runner", RUNNER)
    assert proc.returncode == 2 and "bad release version" in proc.stderr and "Traceback" not in proc.stderr
    proc = host.tool("app-release", "switch", "backend", "9.9.9")
    assert proc.returncode == 1 and "not installed" in proc.stderr

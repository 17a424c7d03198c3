"""A rollback of a finished release on the hosts (pipeline/production/app-txn, direction down):
deploy X -> rollback -> deploy X converges on X, the schema goes down through the down.sql of the
release left, the state file's current_version / previous_version advance, and anything that is
not a rollback is refused before a change. Real PostgreSQL, fake web hosts, no Docker; each step
is called as ansible/deploy.yml calls it (the rollback workflow runs that same playbook).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.pipeline.fake_host import ArtifactStore, FakeHost, PgCluster
from tests.pipeline.test_app_txn import all_at, has_table, schema, txn

Make = Callable[..., FakeHost]
STEPS = ("snapshot", "migrate", "backend", "frontend", "commit", "record-state")


def run(hosts: tuple[FakeHost, ...], to: str, runner: str, direction: str = "up", last: str = "record-state") -> int:
    """The playbook's steps for `to` (direction up: a deploy; down: a rollback), up to `last`."""
    first = hosts[0]
    txn_id = int(first.ok("app-txn", "begin", "--to", to, "--runner", runner, "--direction", direction)["id"])
    ids = ["--id", str(txn_id), "--runner", runner]
    for step in STEPS[: STEPS.index(last) + 1]:
        if step == "snapshot":
            for host in hosts:
                host.install(to)  # the fetch step (the release is installed already when rolling back)
                host.ok("app-txn", "snapshot", *ids, "--host", host.name)
        elif step in ("migrate", "commit"):
            first.ok("app-txn", step, *ids)
        elif step == "record-state":
            for host in hosts:
                host.ok("app-txn", "record-state", "--id", str(txn_id))
        else:
            for host in hosts:
                host.ok("app-release", "activate", step, to, *ids)
    return txn_id


def state(host: FakeHost) -> dict[str, Any]:
    return dict(json.loads(host.state_file.read_text()))


def versions(host: FakeHost) -> tuple[Any, Any]:
    recorded = state(host)
    return recorded["current_version"], recorded["previous_version"]


def test_deploy_rollback_deploy_converges_and_the_state_file_advances_each_time(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    hosts = (make_host("prod-web-1"), make_host("prod-web-2"))
    run(hosts, "2.0.0", "runner-primary/run-1/attempt-1")
    assert all_at(hosts, pg_cluster, app_db, "2.0.0") and has_table(pg_cluster, app_db, "release_2_0_0")
    assert [versions(h) for h in hosts] == [("2.0.0", "1.0.0")] * 2

    plan = hosts[1].ok("app-txn", "rollback-plan")
    assert (plan["from"], plan["to"]) == ("2.0.0", "1.0.0"), "default: the state file's previous_version"
    back = run(hosts, "1.0.0", "runner-primary/run-2/attempt-1", direction="down")
    row = txn(pg_cluster, app_db, back)
    assert (row["phase"], row["from_release"], row["to_release"]) == ("committed", "2.0.0", "1.0.0")
    assert row["snapshot"]["meta"]["direction"] == "down"
    assert all_at(hosts, pg_cluster, app_db, "1.0.0")
    assert not has_table(pg_cluster, app_db, "release_2_0_0"), "the down.sql of 2.0.0 ran"
    assert has_table(pg_cluster, app_db, "release_1_0_0")
    assert [versions(h) for h in hosts] == [("1.0.0", "2.0.0")] * 2
    assert [state(h)["action"] for h in hosts] == ["rollback"] * 2
    assert state(hosts[0])["components"] == {"backend": "1.0.0", "frontend": "1.0.0", "schema": "1.0.0"}

    again = run(hosts, "2.0.0", "runner-secondary/run-3/attempt-1")
    assert txn(pg_cluster, app_db, again)["from_release"] == "1.0.0"
    assert all_at(hosts, pg_cluster, app_db, "2.0.0") and has_table(pg_cluster, app_db, "release_2_0_0")
    assert [versions(h) for h in hosts] == [("2.0.0", "1.0.0")] * 2
    assert [state(h)["action"] for h in hosts] == ["deploy"] * 2
    assert pg_cluster.psql(app_db, "SELECT count(*) FROM deploy_txn WHERE phase = 'open'") == "0"


def test_a_rollback_returns_only_to_the_release_the_live_one_was_deployed_over(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    host = make_host("prod-web-1")
    proc = host.tool("app-txn", "rollback-plan", "--to", "0.9.0")
    assert proc.returncode == 2 and "no committed deploy brought production to 1.0.0" in proc.stderr
    run((host,), "2.0.0", "r/run-1/attempt-1")
    run((host,), "3.0.0", "r/run-2/attempt-1")
    for target, why in (
        ("1.0.0", "3.0.0 was deployed over 2.0.0"),  # two releases back: its down.sql would undo only 3.0.0
        ("4.0.0", "4.0.0 is not the release before 3.0.0"),
        ("3.0.0", "production is already at 3.0.0"),
    ):
        proc = host.tool("app-txn", "rollback-plan", "--to", target)
        assert proc.returncode == 2 and why in proc.stderr, proc.stderr
        # begin checks it again, under the lock, and leaves no transaction behind
        proc = host.tool("app-txn", "begin", "--to", target, "--runner", "r/run-3/attempt-1", "--direction", "down")
        assert proc.returncode == 2 and "not a rollback" in proc.stderr and why in proc.stderr, proc.stderr
    assert pg_cluster.psql(app_db, "SELECT count(*) FROM deploy_txn WHERE runner LIKE 'r/run-3/%'") == "0"
    assert all_at((host,), pg_cluster, app_db, "3.0.0")
    # one release at a time: 3.0.0 -> 2.0.0, then 2.0.0 -> 1.0.0
    run((host,), "2.0.0", "r/run-4/attempt-1", direction="down")
    proc = host.tool("app-txn", "rollback-plan")  # the default, previous_version, is 3.0.0 now: refused
    assert proc.returncode == 2 and "Roll back to 1.0.0, or deploy 3.0.0" in proc.stderr, proc.stderr
    assert "3.0.0 is the state file's previous_version because production was rolled back from it" in proc.stderr
    assert host.ok("app-txn", "rollback-plan", "--to", "1.0.0")["from"] == "2.0.0"
    run((host,), "1.0.0", "r/run-5/attempt-1", direction="down")
    assert all_at((host,), pg_cluster, app_db, "1.0.0")
    assert [has_table(pg_cluster, app_db, f"release_{v}_0_0") for v in (1, 2, 3)] == [True, False, False]


def test_a_rollback_that_fails_is_undone_the_schema_back_up_and_every_host_at_the_live_release(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    hosts = (make_host("prod-web-1"), make_host("prod-web-2"))
    run(hosts, "2.0.0", "r/run-1/attempt-1")
    recorded = [h.state_file.read_text() for h in hosts]
    txn_id = run(hosts, "1.0.0", "r/run-2/attempt-1", direction="down", last="backend")  # then health failed
    assert schema(pg_cluster, app_db) == "1.0.0" and hosts[1].served() == "1.0.0"
    for host in hosts:  # the rescue: app-txn rollback on every host
        result = host.ok("app-txn", "rollback", "--id", str(txn_id), "--runner", "r/run-2/attempt-1")
        assert result["phase"] == "rolled_back"
    assert all_at(hosts, pg_cluster, app_db, "2.0.0"), "the up.sql of 2.0.0 undid the down migration"
    assert has_table(pg_cluster, app_db, "release_2_0_0")
    assert [h.state_file.read_text() for h in hosts] == recorded, "a rolled-back rollback writes no state"
    assert hosts[0].ok("app-txn", "rollback-plan")["to"] == "1.0.0", "it can be tried again"


def test_a_rollback_whose_runner_died_after_the_migration_is_reaped_back_to_the_live_release(
    make_host: Make, pg_cluster: PgCluster, app_db: str
) -> None:
    hosts = (make_host("prod-web-1"), make_host("prod-web-2"))
    run(hosts, "2.0.0", "r/run-1/attempt-1")
    txn_id = run(hosts, "1.0.0", "r/run-2/attempt-1", direction="down", last="migrate")
    assert schema(pg_cluster, app_db) == "1.0.0"
    time.sleep(2.2)  # TXN_LEASE_S=2 on the fake hosts: no heartbeat since
    reaped = hosts[1].ok("app-txn", "reap")
    assert reaped["reaped"] == txn_id and reaped["taken"] is True
    assert txn(pg_cluster, app_db, txn_id)["phase"] == "rolled_back"
    hosts[0].ok("app-txn", "converge")
    assert all_at(hosts, pg_cluster, app_db, "2.0.0")
    assert [versions(h) for h in hosts] == [("2.0.0", "1.0.0")] * 2


def test_the_fetch_step_of_a_rollback_keeps_the_release_the_image_installed(
    make_host: Make, artifact_store: ArtifactStore
) -> None:
    """The release returned to is often the one the host's image installed (no recorded bundle hash,
    in a folder of an image layer that overlayfs cannot rename): the same bundle is kept as it is."""
    host = make_host("prod-web-1", start=False)
    host.install("2.0.0")
    for component in ("backend", "frontend"):
        host.ok("app-release", "switch", component, "2.0.0")  # 1.0.0 is installed, not live
    inode = (host.root / "releases" / "1.0.0").stat().st_ino
    fetched = host.ok("app-release", "fetch", "1.0.0", "--url", artifact_store.url)
    assert fetched["changed"] is False and fetched["why"] == "installed"
    assert (host.root / "releases" / "1.0.0").stat().st_ino == inode, "not replaced"
    assert (host.root / "releases" / "1.0.0" / ".bundle-sha256").read_text().strip() == fetched["sha256"]
    assert host.ok("app-release", "fetch", "1.0.0", "--url", artifact_store.url)["changed"] is False
    # a different bundle under the same version is still replaced
    (host.root / "releases" / "1.0.0" / ".bundle-sha256").unlink()
    (host.root / "releases" / "1.0.0" / "backend" / "VERSION").write_text("tampered\n")
    assert host.ok("app-release", "fetch", "1.0.0", "--url", artifact_store.url)["changed"] is True
    assert (host.root / "releases" / "1.0.0" / "backend" / "VERSION").read_text() == "1.0.0\n"

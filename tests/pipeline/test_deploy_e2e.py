"""The transactional deploy for real: scripts/deploy.sh and the playbooks on a runner container,
against the production stand-in (two web hosts, PostgreSQL, Redis, the load balancer, the artifact
store) from the harness's images, without the simulated GitHub (tests/pipeline/stand.py).

What the spec and docs/production.md require of the deploy, one test each: every component at the
release; deploying the live release changes and restarts nothing; a broken release or a failing
migration is rolled back everywhere; a runner frozen mid-deploy leaves production mixed only
until the watchdogs' bound; a live lock is waited for, then named; rollback.yml undoes an
abandoned deploy. Durations are printed (pytest -s) and attached as properties.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.core.pipeline_source import PipelineSource
from tests.pipeline.stand import WEB_HOSTS, Stand

ROOT = Path(__file__).resolve().parents[2]
LEASE_S, HEARTBEAT_S, PERIOD_S = 4.0, 1.0, 1.0

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def stand() -> Iterator[Stand]:
    from harness.bootstrap.images import image_tags

    settings = {
        "TXN_LEASE_S": f"{LEASE_S:g}",
        "TXN_HEARTBEAT_S": f"{HEARTBEAT_S:g}",
        "WATCHDOG_PERIOD_S": f"{PERIOD_S:g}",
    }
    with Stand(image_tags(ROOT), PipelineSource(ROOT / "pipeline").files(), settings) as started:
        yield started


def at(stand: Stand, version: str) -> bool:
    return set(stand.components().values()) == {version}


def current(stand: Stand) -> str:
    versions = set(stand.components().values())
    assert len(versions) == 1, f"production is mixed before the test: {stand.components()}"
    return versions.pop()


def open_txns(stand: Stand) -> int:
    return int(stand.sql("SELECT count(*) FROM deploy_txn WHERE phase = 'open'").strip() or 0)


def timed_deploy(stand: Stand, version: str, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = stand.deploy(version, **env)
    return proc, time.monotonic() - started


def recap_changed(output: str) -> dict[str, int]:
    return {m[0]: int(m[1]) for m in re.findall(r"^(prod-web-\d) +: ok=\d+ +changed=(\d+)", output, re.MULTILINE)}


def test_a_release_reaches_every_component_and_redeploying_it_changes_nothing(
    stand: Stand, record_property: pytest.RecordProperty
) -> None:
    before = current(stand)
    proc, took = timed_deploy(stand, "7.1.0")
    assert proc.returncode == 0, proc.stdout
    assert at(stand, "7.1.0"), stand.components()
    steps = re.findall(r"^ok: \[prod-web-\d\] => \{\n +\"msg\": \"DCH-STEP (\w+)", proc.stdout, re.MULTILINE)
    assert steps == ["lock", "snapshot", "fetch", "migrate", "backend", "frontend", "health", "commit"]
    for host in WEB_HOSTS:
        state = stand.state_file(host)
        assert (state["current_version"], state["previous_version"]) == ("7.1.0", before)
        assert state["deploy_runner"] == "runner-test" and state["deployed_by"] == "github-actions"
        assert state["last_deploy_timestamp"] and state["deploy_start"] and state["host"] == host
        assert state["components"] == {"backend": "7.1.0", "frontend": "7.1.0", "schema": "7.1.0"}
    pids = {h: stand.backend_pid(h) for h in WEB_HOSTS}
    states = {h: stand.state_file(h) for h in WEB_HOSTS}
    again, took_again = timed_deploy(stand, "7.1.0")
    assert again.returncode == 0, again.stdout
    assert recap_changed(again.stdout) == {"prod-web-1": 0, "prod-web-2": 0}, again.stdout
    assert {h: stand.backend_pid(h) for h in WEB_HOSTS} == pids, "the backend was restarted"
    assert {h: stand.state_file(h) for h in WEB_HOSTS} == states
    assert open_txns(stand) == 0
    record_property("deploy_s", round(took, 2))
    record_property("noop_redeploy_s", round(took_again, 2))
    print(f"deploy of both hosts: {took:.2f} s; redeploy of the live release: {took_again:.2f} s")


def test_a_broken_release_is_rolled_back_on_every_host(stand: Stand) -> None:
    before = current(stand)
    for host in WEB_HOSTS:
        stand.exec(host, "touch /opt/app-faults/broken-releases/7.2.0")
    try:
        proc, _ = timed_deploy(stand, "7.2.0")
    finally:
        for host in WEB_HOSTS:
            stand.exec(host, "rm -f /opt/app-faults/broken-releases/7.2.0")
    assert proc.returncode == 1, proc.stdout
    assert "release 7.2.0 failed and was rolled back on every production host" in proc.stdout
    assert "DCH-ROLLBACK 7.2.0: health" in proc.stdout
    assert at(stand, before), stand.components()
    assert all(stand.state_file(h)["current_version"] == before for h in WEB_HOSTS)
    assert stand.sql("SELECT phase FROM deploy_txn ORDER BY id DESC LIMIT 1").strip() == "rolled_back"
    assert stand.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'release_7_2_0'").strip() == "0"
    assert open_txns(stand) == 0


def test_a_failing_migration_is_rolled_back_and_the_schema_is_unchanged(stand: Stand) -> None:
    before = current(stand)
    stand.exec("runner", "curl -fsS -X PUT http://artifacts:8000/_faults/7.3.0/migration-fails")
    try:
        proc, _ = timed_deploy(stand, "7.3.0")
    finally:
        stand.exec("runner", "curl -fsS -X DELETE http://artifacts:8000/_faults/7.3.0/migration-fails")
    assert proc.returncode == 1, proc.stdout
    assert "DCH-ROLLBACK 7.3.0: migrate" in proc.stdout and "migration-fails" in proc.stdout
    assert at(stand, before), stand.components()
    assert open_txns(stand) == 0


@pytest.mark.parametrize("step", ["migrate", "backend", "frontend"])
def test_a_runner_frozen_mid_deploy_never_leaves_production_mixed_past_the_bound(
    stand: Stand, step: str, record_property: pytest.RecordProperty
) -> None:
    before = current(stand)
    version = f"7.4.{['migrate', 'backend', 'frontend'].index(step)}"
    proc = subprocess.Popen(stand.deploy_command(version), stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    output = []
    for line in proc.stdout:
        output.append(line)
        if f'"msg": "DCH-STEP {step}' in line:
            break
    subprocess.run(["docker", "pause", stand.name("runner")], check=True)
    frozen = time.monotonic()
    try:
        mixed_seen = False
        while True:
            versions = stand.components()
            mixed_seen |= len(set(versions.values())) > 1
            if set(versions.values()) == {before} and open_txns(stand) == 0:
                break
            assert time.monotonic() - frozen < 60, f"not converged: {versions}"
            time.sleep(0.2)
        took = time.monotonic() - frozen
    finally:
        subprocess.run(["docker", "unpause", stand.name("runner")], check=True)
        rest, _ = proc.communicate(timeout=120)
    # the lease runs from the last heartbeat (at most HEARTBEAT_S before the freeze); then the watchdogs
    bound = LEASE_S + PERIOD_S + 5.0  # + rollback time, generous for a loaded CI machine
    assert took <= bound, f"production back at {before} after {took:.1f} s, over {bound} s"
    record_property(f"recovery_s_{step}", round(took, 2))
    print(f"runner frozen at {step}: production back at {before} after {took:.2f} s (mixed seen: {mixed_seen})")
    # the deploy resumes, finds its transaction taken, and fails without touching production again
    assert proc.returncode != 0, "".join(output) + rest
    assert "is no longer this deploy's" in rest
    assert at(stand, before)


def test_a_live_lock_is_waited_for_then_named_and_a_later_deploy_needs_no_cleanup(stand: Stand) -> None:
    before = current(stand)
    holder = (
        'psql -X -q -d app -v ON_ERROR_STOP=1 -c "INSERT INTO deploy_txn (from_release, to_release, runner, phase) '
        "SELECT release, release, 'deploy-chaos-fault', 'open' FROM schema_state\" && "
        'for i in $(seq 1 16); do psql -X -q -d app -c "UPDATE deploy_txn SET heartbeat_at = now() '
        "WHERE phase = 'open' AND runner = 'deploy-chaos-fault'\"; sleep 0.5; done; "
        "psql -X -q -d app -c \"DELETE FROM deploy_txn WHERE runner = 'deploy-chaos-fault'\""
    )
    subprocess.run(["docker", "exec", "-d", "-u", "postgres", stand.name("prod-db"), "bash", "-c", holder], check=True)
    time.sleep(1)
    proc, _ = timed_deploy(stand, "7.5.0", LOCK_WAIT_S="2")
    assert proc.returncode == 4, proc.stdout
    assert "deploy lock held by deploy-chaos-fault since " in proc.stdout
    assert proc.stdout.count("deploying 7.5.0") == 1 and "retrying" not in proc.stdout
    assert at(stand, before)
    time.sleep(8)  # the holder lets go
    again, _ = timed_deploy(stand, "7.5.0")
    assert again.returncode == 0, again.stdout
    assert at(stand, "7.5.0")


def test_rollback_playbook_undoes_an_abandoned_deploy_at_once(stand: Stand) -> None:
    before = current(stand)
    # a deploy whose runner is gone, with a lease long enough that no watchdog acts first
    for host in WEB_HOSTS:
        stand.exec(host, "sed -i 's/^TXN_LEASE_S=.*/TXN_LEASE_S=300/' /etc/app/deploy.env")
    try:
        for attempt in range(3):
            version = f"7.6.{attempt}"
            kill = "pkill -KILL -f 'deploy[.]sh|ansible-playboo[k]|ss[h] '"  # [] so it never matches itself
            proc, killed = signal_deploy_at(stand, version, "frontend", kill)
            proc.kill()
            proc.wait()
            if not finished_before(stand, version, killed):
                break
            before = current(stand)
        else:
            pytest.fail("3 deploys committed before the SIGKILL sent at their frontend step arrived")
        time.sleep(1)
        assert open_txns(stand) == 1 and not at(stand, before)
        rolled = stand.playbook("rollback.yml")
        assert rolled.returncode == 0, rolled.stdout
        assert at(stand, before), stand.components()
        assert open_txns(stand) == 0
    finally:
        for host in WEB_HOSTS:
            stand.exec(host, f"sed -i 's/^TXN_LEASE_S=.*/TXN_LEASE_S={LEASE_S:g}/' /etc/app/deploy.env")


def signal_deploy_at(stand: Stand, version: str, step: str, kill: str) -> tuple[subprocess.Popen[str], float]:
    """Start deploying `version`; when its log says `step` began, run `kill` on the runner.

    Returns the running deploy and the epoch second (the containers' clock) the signal was sent."""
    proc = subprocess.Popen(stand.deploy_command(version), stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    for line in proc.stdout:
        if f'"msg": "DCH-STEP {step}' in line:
            break
    code, out = stand.exec("runner", f"{kill} || true; date +%s.%N")
    assert code == 0, out
    return proc, float(out.split()[-1])


def finished_before(stand: Stand, version: str, epoch_s: float) -> bool:
    """Whether `version`'s deploy transaction had already ended (committed) by `epoch_s`.

    A loaded machine can run the last steps in the time one `docker exec` takes: a signal that
    arrives after the commit tests nothing, and the test tries again rather than blame the deploy."""
    ended = stand.sql(
        f"SELECT coalesce(extract(epoch FROM ended_at)::text, '') FROM deploy_txn "
        f"WHERE to_release = '{version}' AND phase = 'committed' ORDER BY id DESC LIMIT 1"
    ).strip()
    return bool(ended) and float(ended) <= epoch_s


def test_a_cancelled_deploy_is_rolled_back_without_waiting_for_the_lease(stand: Stand) -> None:
    """A job cancelled (or lost by GitHub) gets SIGTERM: the deploy hands its transaction back at once."""
    for attempt in range(3):
        before = current(stand)
        version = f"7.8.{attempt}"
        proc, signalled = signal_deploy_at(stand, version, "backend", "pkill -TERM -f '^bash scripts/deploy.sh'")
        cancelled = time.monotonic()
        rest, _ = proc.communicate(timeout=60)
        if not finished_before(stand, version, signalled):
            break
        print(f"the deploy of {version} committed before SIGTERM arrived: again")
    else:
        pytest.fail("3 deploys committed before the SIGTERM sent at their backend step arrived: nothing was cancelled")
    while not (at(stand, before) and open_txns(stand) == 0):
        assert time.monotonic() - cancelled < 30, (stand.components(), rest)
        time.sleep(0.1)
    took = time.monotonic() - cancelled
    # a watchdog rolls back only a transaction whose last heartbeat is older than the lease: one
    # closed sooner than that after its last heartbeat was handed back by the deploy itself
    phase, since_heartbeat = stand.sql(
        "SELECT phase || ' ' || extract(epoch FROM ended_at - heartbeat_at) FROM deploy_txn "
        f"WHERE to_release = '{version}' ORDER BY id DESC LIMIT 1"
    ).split()
    assert phase == "rolled_back", phase
    assert float(since_heartbeat) < LEASE_S, (
        f"closed {float(since_heartbeat):.1f} s after its last heartbeat: the lease ran out, nothing handed it back"
    )
    assert proc.returncode == 143, rest
    print(
        f"deploy cancelled at backend: transaction closed {float(since_heartbeat):.2f} s after its last heartbeat "
        f"(lease {LEASE_S:g} s); production back at {before} after {took:.2f} s"
    )


def test_a_finished_release_is_rolled_back_schema_down_and_deploying_it_again_converges(
    stand: Stand, record_property: pytest.RecordProperty
) -> None:
    """workflows/rollback.yml's step: deploy.sh with DEPLOY_KIND=rollback and no version."""
    before = current(stand)
    proc, _ = timed_deploy(stand, "7.9.0")
    assert proc.returncode == 0 and at(stand, "7.9.0"), proc.stdout
    back, took = timed_deploy(stand, "", DEPLOY_KIND="rollback")
    assert back.returncode == 0, back.stdout
    assert f"rolling production back from 7.9.0 to {before}" in back.stdout
    steps = re.findall(r"^ok: \[prod-web-\d\] => \{\n +\"msg\": \"DCH-STEP (\w+)", back.stdout, re.MULTILINE)
    assert steps == PipelineSource(ROOT / "pipeline").deploy_steps(), "the same transactional deploy"
    assert at(stand, before), stand.components()
    assert stand.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'release_7_9_0'").strip() == "0", "down.sql"
    for host in WEB_HOSTS:
        state = stand.state_file(host)
        assert (state["current_version"], state["previous_version"], state["action"]) == (before, "7.9.0", "rollback")
    # again, with the default target (previous_version = 7.9.0 now): refused, nothing changes
    refused, _ = timed_deploy(stand, "", DEPLOY_KIND="rollback")
    assert refused.returncode == 2 and "not rolled back" in refused.stdout, refused.stdout
    assert at(stand, before) and open_txns(stand) == 0
    again, _ = timed_deploy(stand, "7.9.0")
    assert again.returncode == 0 and at(stand, "7.9.0"), again.stdout
    for host in WEB_HOSTS:
        state = stand.state_file(host)
        assert (state["current_version"], state["previous_version"]) == ("7.9.0", before)
    record_property("rollback_s", round(took, 2))
    print(f"rollback of a finished release on both hosts: {took:.2f} s")

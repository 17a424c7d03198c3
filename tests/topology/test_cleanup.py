"""harness.topology.cleanup with FakeContainerBackend: removal selected by labels, nothing else touched; the sweep
of runs whose harness died (owners judged from /proc), replaying their undo logs first."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from docker.errors import APIError

from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import load_profile
from harness.faults.undo import UndoLog, command_op, start_op, unpause_op
from harness.topology.backend import LABEL_MANAGED, LABEL_RUN
from harness.topology.cleanup import (
    LABEL_OWNER_BOOT,
    LABEL_OWNER_HOST,
    LABEL_OWNER_PID,
    LABEL_OWNER_PIDNS,
    LABEL_OWNER_START,
    cleanup,
    dead_runs,
    leftovers,
    owner_gone,
    owner_labels,
    sweep_dead_runs,
)
from harness.topology.docker_topology import DockerTopology
from harness.topology.fake import FakeContainerBackend

ROOT = Path(__file__).resolve().parents[2]


def labels(run: str) -> dict[str, str]:
    return {LABEL_MANAGED: "true", LABEL_RUN: run}


@pytest.fixture
def backend() -> FakeContainerBackend:
    fake = FakeContainerBackend()
    fake.add("r1-github", labels("r1"))
    fake.add("r1-runner-primary", labels("r1"), status="paused")
    fake.add("r1-prometheus", labels("r1"), status="exited")
    fake.add("r2-github", labels("r2"))
    fake.add("r2-runner-primary", labels("r2"))
    fake.add("user-postgres", {"com.example.app": "db"})
    fake.add("unlabelled", {})
    fake.add("not-managed", {LABEL_MANAGED: "false", LABEL_RUN: "r1"})
    fake.networks["net-r1"] = labels("r1")
    fake.networks["net-r2"] = labels("r2")
    fake.networks["user-net"] = {"com.example.app": "db"}
    return fake


def test_cleanup_of_one_run_removes_only_that_run(backend: FakeContainerBackend) -> None:
    report = cleanup(backend, "r1")
    assert sorted(report.containers) == ["r1-github", "r1-prometheus", "r1-runner-primary"]
    assert report.networks == ["net-r1"]
    assert sorted(backend.containers) == [
        "not-managed",
        "r2-github",
        "r2-runner-primary",
        "unlabelled",
        "user-postgres",
    ]
    assert sorted(backend.networks) == ["net-r2", "user-net"]


def test_containers_are_removed_before_networks(backend: FakeContainerBackend) -> None:
    cleanup(backend, "r1")
    kinds = [kind for kind, _ in backend.calls]
    assert kinds == ["remove", "remove", "remove", "remove_network"]


def test_cleanup_without_run_removes_every_managed_one(backend: FakeContainerBackend) -> None:
    report = cleanup(backend)
    assert sorted(report.containers) == [
        "r1-github",
        "r1-prometheus",
        "r1-runner-primary",
        "r2-github",
        "r2-runner-primary",
    ]
    assert sorted(report.networks) == ["net-r1", "net-r2"]
    assert sorted(backend.containers) == ["not-managed", "unlabelled", "user-postgres"]
    assert list(backend.networks) == ["user-net"]
    removed = {name for kind, name in backend.calls if kind in ("remove", "remove_network")}
    assert not removed & {"not-managed", "unlabelled", "user-postgres", "user-net"}


def test_cleanup_is_idempotent(backend: FakeContainerBackend) -> None:
    cleanup(backend, "r1")
    again = cleanup(backend, "r1")
    assert again.containers == []
    assert again.networks == []


def test_leftovers_lists_what_remains_with_status(backend: FakeContainerBackend) -> None:
    assert sorted(leftovers(backend, "r1")) == [
        "r1-github (running)",
        "r1-prometheus (exited)",
        "r1-runner-primary (paused)",
    ]
    cleanup(backend, "r1")
    assert leftovers(backend, "r1") == []
    assert sorted(leftovers(backend, "r2")) == ["r2-github (running)", "r2-runner-primary (running)"]


def test_leftovers_of_unknown_run_is_empty(backend: FakeContainerBackend) -> None:
    assert leftovers(backend, "r9") == []


def test_what_cannot_be_removed_is_named_and_the_rest_still_goes(
    backend: FakeContainerBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    remove = backend.remove_container

    def stuck(container_id: str) -> None:
        if container_id == "r1-github":
            raise APIError("500 Server Error: device or resource\nbusy")
        remove(container_id)

    monkeypatch.setattr(backend, "remove_container", stuck)
    report = cleanup(backend, "r1")
    assert sorted(report.containers) == ["r1-prometheus", "r1-runner-primary"]
    assert report.failed == ["container r1-github: 500 Server Error: device or resource busy"]
    assert report.networks == ["net-r1"]


# ---- owners and the dead-run sweep ----------------------------------------------------------------


def owned(run: str, owner: dict[str, str]) -> dict[str, str]:
    return {**labels(run), **owner}


@pytest.fixture
def here() -> dict[str, str]:
    return owner_labels()


@pytest.fixture
def dead_owner() -> dict[str, str]:
    """Owner labels of a process that has exited and been reaped."""
    child = subprocess.Popen(["sleep", "30"])
    owner = owner_labels(child.pid)
    child.kill()
    child.wait()
    return owner


def test_owner_labels_name_this_process_its_start_time_and_boot(here: dict[str, str]) -> None:
    stat = Path(f"/proc/{os.getpid()}/stat").read_text()
    assert here[LABEL_OWNER_PID] == str(os.getpid())
    assert here[LABEL_OWNER_START] == stat.rsplit(")", 1)[1].split()[19]  # field 22
    assert here[LABEL_OWNER_BOOT] == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert set(here) == {LABEL_OWNER_PID, LABEL_OWNER_START, LABEL_OWNER_BOOT, LABEL_OWNER_HOST, LABEL_OWNER_PIDNS}


def test_a_live_owner_is_never_gone(here: dict[str, str]) -> None:
    assert owner_gone(here, here) is None
    assert owner_gone(owner_labels(1), here) is None  # init: someone else's live process


def test_a_dead_pid_is_gone(here: dict[str, str], dead_owner: dict[str, str]) -> None:
    assert owner_gone(dead_owner, here) == "not running"


def test_an_exited_owner_not_yet_reaped_is_gone(here: dict[str, str]) -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        owner = owner_labels(child.pid)
        child.kill()
        deadline = time.monotonic() + 5
        while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert owner_gone(owner, here) == "exited (a zombie)"
    finally:
        child.wait()


def test_a_reused_pid_with_another_start_time_is_gone(here: dict[str, str]) -> None:
    reason = owner_gone({**here, LABEL_OWNER_START: "1"}, here)
    assert reason == f"reused by another process (started at tick {here[LABEL_OWNER_START]}, the owner at 1)"


def test_another_boot_of_this_machine_is_gone(here: dict[str, str]) -> None:
    reason = owner_gone({**here, LABEL_OWNER_BOOT: "0bad0bad-0000"}, here)
    assert reason is not None and reason.startswith("the machine booted since (boot id 0bad0bad")


@pytest.mark.parametrize(
    "other",
    [
        {LABEL_OWNER_HOST: "another-machine"},  # an engine shared with another host: its pids are not ours
        {LABEL_OWNER_HOST: "another-machine", LABEL_OWNER_BOOT: "0bad0bad"},
        {LABEL_OWNER_PIDNS: "pid:[1]"},  # a harness in another container of this machine
        {LABEL_OWNER_PID: "x"},
        {LABEL_OWNER_START: ""},
    ],
)
def test_owners_that_cannot_be_judged_from_here_are_never_gone(
    here: dict[str, str], dead_owner: dict[str, str], other: dict[str, str]
) -> None:
    assert owner_gone({**dead_owner, **other}, here) is None


def test_no_owner_labels_is_never_gone(here: dict[str, str]) -> None:
    assert owner_gone(labels("old-run"), here) is None
    assert owner_gone(labels("old-run"), {}) is None


@pytest.fixture
def runs(here: dict[str, str], dead_owner: dict[str, str]) -> FakeContainerBackend:
    """One live run, dead runs of each kind, and runs that must never be swept."""
    fake = FakeContainerBackend()
    fake.add("live-runner", owned("live", here), status="paused")
    fake.add("dead-runner", owned("dead", dead_owner), status="paused")
    fake.add("dead-github", owned("dead", dead_owner))
    fake.add("reused-runner", owned("reused", {**here, LABEL_OWNER_START: "1"}))
    fake.add("rebooted-runner", owned("rebooted", {**here, LABEL_OWNER_BOOT: "0bad0bad"}), status="exited")
    fake.add("old-runner", labels("old"))  # made before owner labels: unknown owner
    fake.add("mixed-a", owned("mixed", dead_owner))
    fake.add("mixed-b", owned("mixed", here))  # one live owner keeps the whole run
    fake.add("user-db", {"com.example.app": "db"})
    fake.networks.update({"net-dead": labels("dead"), "net-live": labels("live")})
    return fake


def test_only_runs_whose_every_owner_is_gone_are_dead(runs: FakeContainerBackend, dead_owner: dict[str, str]) -> None:
    dead = dead_runs(runs)
    assert sorted(dead) == ["dead", "rebooted", "reused"]
    assert dead["dead"] == (dead_owner[LABEL_OWNER_PID], "not running")
    assert "reused" not in dead_runs(runs, keep="reused")


def test_the_sweep_replays_dead_runs_undo_then_removes_them_and_never_touches_a_live_run(
    runs: FakeContainerBackend, tmp_path: Path
) -> None:
    dead_log, live_log = UndoLog.for_run("dead", tmp_path), UndoLog.for_run("live", tmp_path)
    dead_log.begin("runner_offline-1", "runner_offline", [unpause_op("dead-runner")])
    live_log.begin("runner_offline-2", "runner_offline", [unpause_op("live-runner")])
    swept = sweep_dead_runs(runs, tmp_path)
    assert [s.run_id for s in swept] == ["dead", "rebooted", "reused"]
    dead = swept[0]
    assert dead.report.undone == ["runner_offline-1"]
    assert sorted(dead.report.containers) == ["dead-github", "dead-runner"]
    assert dead.report.networks == ["net-dead"]
    assert runs.calls.index(("unpause", "dead-runner")) < runs.calls.index(("remove", "dead-runner"))
    assert dead.line().startswith(f"cleaned up run dead left by a harness that died (pid {dead.owner_pid}: ")
    assert dead.line().endswith("replayed the undo of 1 fault(s), removed 2 container(s) and 1 network(s)")
    assert dead_log.pending() == []
    assert sorted(runs.containers) == ["live-runner", "mixed-a", "mixed-b", "old-runner", "user-db"]
    assert runs.status("live-runner") == "paused"  # a live run's fault is its own harness's to revert
    assert [e["fault_id"] for e in live_log.pending()] == ["runner_offline-2"]
    assert list(runs.networks) == ["net-live"]
    assert sweep_dead_runs(runs, tmp_path) == []


def test_cleanup_with_an_undo_dir_replays_every_run_first(backend: FakeContainerBackend, tmp_path: Path) -> None:
    UndoLog.for_run("r1", tmp_path).begin("f1", "runner_offline", [unpause_op("r1-runner-primary")])
    UndoLog.for_run("r2", tmp_path).begin("f2", "runner_killed", [start_op("r2-gone")])
    report = cleanup(backend, undo_dir=tmp_path)
    assert sorted(report.undone) == ["f1", "f2"]  # r2's container is gone: nothing left to undo there
    assert report.not_undone == []
    assert backend.calls[0] == ("unpause", "r1-runner-primary")
    assert UndoLog.for_run("r1", tmp_path).pending() == []


def test_cleanup_names_undo_it_could_not_replay_and_still_removes(
    backend: FakeContainerBackend, tmp_path: Path
) -> None:
    UndoLog.for_run("r1", tmp_path).begin("f1", "broken_release", [command_op("exec", "r1-runner-primary", ["rm"])])
    report = cleanup(backend, "r1", tmp_path)
    assert report.not_undone == [
        "run r1: f1: exec r1-runner-primary rm: RuntimeError: cannot exec in a container that is paused"
    ]
    assert "r1-runner-primary" in report.containers
    assert [e["fault_id"] for e in UndoLog.for_run("r1", tmp_path).pending()] == ["f1"]


def test_the_topology_sweeps_dead_runs_first_and_says_so(
    runs: FakeContainerBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DCH_REPORTS_DIR", str(tmp_path))
    UndoLog.for_run("dead").begin("runner_offline-1", "runner_offline", [unpause_op("dead-runner")])
    journal = Journal("new")
    topology = DockerTopology(
        images={},
        pipeline=PipelineSource(ROOT / "pipeline"),
        profile=load_profile("nightly", ROOT / "profiles"),
        journal=journal,
        run_id="new",
        backend=runs,  # type: ignore[arg-type]
    )
    topology._sweep_dead_runs()
    entries = journal.entries("topology.swept")
    assert [e["swept_run"] for e in entries] == ["dead", "rebooted", "reused"]
    assert entries[0]["undone"] == ["runner_offline-1"] and entries[0]["not_undone"] == []
    assert sorted(entries[0]["removed"]) == ["dead-github", "dead-runner", "net-dead"]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and err[0].startswith("deploy-chaos: cleaned up run dead left by a harness that died (pid ")
    assert "live-runner" in runs.containers
    assert set(owner_labels()) <= set(topology._owner)  # and its own resources name this process

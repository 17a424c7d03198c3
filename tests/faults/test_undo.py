"""harness.faults.undo: the durable undo log, its replay, and each fault's undo actions (fake backends)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.core.errors import FaultRevertFailed, Inconclusive
from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.broken_release import BrokenRelease
from harness.faults.connection_resets import ConnectionResets
from harness.faults.credentials import ExpiredCertificate
from harness.faults.deploy_lock import HOLDER_PATTERN, DeployLockHeld
from harness.faults.memory_pressure import PROCS
from harness.faults.migration_fails import MigrationFails
from harness.faults.partition import NetworkPartition
from harness.faults.runner_killed import RunnerKilled
from harness.faults.runner_offline import RunnerOffline
from harness.faults.service_paused import ServicePaused
from harness.faults.undo import (
    UndoLog,
    command_op,
    default_undo_dir,
    replay,
    resources_op,
    start_op,
    unpause_op,
)
from harness.topology.fake import FakeContainerBackend
from tests.faults import (
    test_bandwidth_cap,
    test_broken_release,
    test_connection_resets_and_lock,
    test_cpu_starvation,
    test_disk_full,
    test_memory_pressure,
    test_packet_loss,
    test_service_down,
)

RUN = "r1"


@pytest.fixture
def log(tmp_path: Path) -> UndoLog:
    return UndoLog.for_run(RUN, tmp_path / "undo")


def lines(log: UndoLog) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.path.read_text().splitlines()]


# ---- the log ------------------------------------------------------------------------------------


def test_entries_are_plain_json_lines_each_forced_to_disk(log: UndoLog, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr("harness.faults.undo.os.fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    log.begin("pause-1", "runner_offline", [unpause_op("c1")])
    log.done("pause-1")
    assert log.path == log.path.parent / f"{RUN}.jsonl"
    first, second = lines(log)
    assert {k: first[k] for k in ("run_id", "fault_id", "fault", "actions")} == {
        "run_id": RUN,
        "fault_id": "pause-1",
        "fault": "runner_offline",
        "actions": [{"op": "unpause", "container": "c1"}],
    }
    assert {k: second[k] for k in ("fault_id", "done", "by")} == {"fault_id": "pause-1", "done": True, "by": "revert"}
    assert len(synced) >= 2  # every entry (and the new file's directory)


def test_done_entries_are_not_pending_and_a_torn_last_line_is_skipped(log: UndoLog) -> None:
    log.begin("a", "runner_offline", [unpause_op("c1")])
    log.begin("b", "runner_killed", [start_op("c2")])
    log.done("a")
    with log.path.open("a") as fh:
        fh.write('{"run_id": "r1", "fault_id": "c", "act')  # the harness died mid-write
    assert [e["fault_id"] for e in log.pending()] == ["b"]


def test_a_run_without_a_log_has_nothing_pending(log: UndoLog) -> None:
    assert log.pending() == []
    assert not log.path.exists()


def test_the_default_directory_follows_the_reports_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCH_REPORTS_DIR", str(tmp_path))
    assert default_undo_dir() == tmp_path / "undo"
    assert UndoLog.for_run("abc").path == tmp_path / "undo" / "abc.jsonl"


# ---- replay -------------------------------------------------------------------------------------


def fake(*names: str, status: str = "running") -> FakeContainerBackend:
    backend = FakeContainerBackend()
    for name in names:
        backend.add(name, {}, status=status)
    return backend


def test_replay_undoes_newest_first_and_marks_what_it_undid_done(log: UndoLog) -> None:
    backend = fake("c1", "c2")
    backend.pause("c1")
    backend.kill("c2")
    log.begin("kill", "runner_killed", [start_op("c2")])
    log.begin("pause", "runner_offline", [unpause_op("c1")])
    backend.calls.clear()
    result = log.replay(backend)
    assert backend.calls == [("unpause", "c1"), ("start", "c2")]
    assert (result.undone, result.failed) == (["pause", "kill"], [])
    assert log.pending() == []
    assert [e.get("by") for e in lines(log) if e.get("done")] == ["replay", "replay"]
    assert log.replay(backend).undone == []  # nothing left: a second sweep does nothing
    assert backend.calls == [("unpause", "c1"), ("start", "c2")]


def test_done_entries_are_not_replayed(log: UndoLog) -> None:
    backend = fake("c1")
    backend.pause("c1")
    log.begin("pause", "runner_offline", [unpause_op("c1")])
    log.done("pause")
    assert log.replay(backend).undone == []
    assert backend.status("c1") == "paused"


def test_actions_on_containers_that_no_longer_exist_are_skipped() -> None:
    result = replay(fake(), [{"fault_id": "f", "actions": [unpause_op("gone"), start_op("gone")]}])
    assert result.undone == ["f"]
    assert result.skipped == [
        "f: unpause gone: the container no longer exists",
        "f: start gone: the container no longer exists",
    ]


def test_nothing_to_undo_is_skipped_not_failed() -> None:
    backend = fake("up")
    backend.add("stopped", {}, status="exited")
    actions = [
        unpause_op("up"),
        start_op("up"),
        command_op("netns_exec", "stopped", ["iptables", "-D", "x"]),
    ]
    result = replay(backend, [{"fault_id": "f", "actions": actions}])
    assert (result.undone, result.failed) == (["f"], [])
    assert len(result.skipped) == 3 and "namespaces went away" in result.skipped[2]
    assert backend.calls == []


def test_replay_never_raises_and_names_what_it_could_not_undo_one_line_each() -> None:
    class Broken(FakeContainerBackend):
        def unpause(self, name: str) -> None:
            raise RuntimeError("engine\nconnection lost")

    backend = Broken()
    backend.add("c1", {}, status="paused")
    backend.add("c2", {}, status="exited")
    entries = [
        {"fault_id": "ok", "actions": [start_op("c2")]},
        {"fault_id": "bad", "actions": [unpause_op("c1"), {"op": "teleport", "container": "c1"}]},
        {"fault_id": "rule", "actions": [command_op("netns_exec", "c1", ["iptables", "-D", "x"])]},
    ]
    result = replay(backend, entries)
    assert result.undone == ["ok"]
    assert result.failed == [
        "rule: netns_exec c1 iptables -D x: RuntimeError: exit 1: Bad rule (does a matching rule exist in that chain?)",
        "bad: unpause c1: RuntimeError: engine connection lost",
        "bad: teleport c1: ValueError: unknown undo op 'teleport'",
    ]
    assert backend.status("c2") == "running"  # the failures did not stop the rest


def test_a_log_that_cannot_be_read_is_named_not_raised(log: UndoLog) -> None:
    log.path.mkdir(parents=True)  # a directory where the log should be
    result = log.replay(fake())
    assert result.undone == [] and len(result.failed) == 1
    assert result.failed[0].startswith(f"cannot read the undo log {log.path}: ")


def test_exit_codes_in_ok_codes_count_as_undone_and_exec_needs_a_running_container() -> None:
    backend = fake("c1")
    backend.rules["c1"] = []
    gone_rule = command_op("netns_exec", "c1", ["iptables", "-w", "-D", "OUTPUT", "-j", "DROP"], ok_codes=(0, 1))
    assert replay(backend, [{"fault_id": "f", "actions": [gone_rule]}]).undone == ["f"]
    backend.pause("c1")
    result = replay(backend, [{"fault_id": "g", "actions": [command_op("exec", "c1", ["rm", "-f", "/x"])]}])
    assert result.failed == ["g: exec c1 rm -f /x: RuntimeError: cannot exec in a container that is paused"]


def test_resources_are_set_back_with_engine_field_names() -> None:
    backend = fake("c1")
    replay(backend, [{"fault_id": "f", "actions": [resources_op("c1", {"CpuQuota": -1})]}])
    assert backend.resource_settings["c1"] == {"CpuQuota": -1}


def test_command_ops_are_only_the_three_kinds() -> None:
    with pytest.raises(ValueError, match="exec, netns_exec or mntns_exec"):
        command_op("shell", "c1", ["true"])


# ---- the fault contract -------------------------------------------------------------------------


def offline(backend: FakeContainerBackend, log: UndoLog | None) -> RunnerOffline:
    backend.add("runner", {})
    return RunnerOffline(Journal(RUN), backend, "runner", "primary", undo=log)


def test_the_entry_is_on_disk_before_the_fault_is_injected_and_done_after_its_revert(log: UndoLog) -> None:
    seen: list[list[str]] = []

    class Watching(FakeContainerBackend):
        def pause(self, name: str) -> None:
            seen.append([e["fault_id"] for e in log.pending()])
            super().pause(name)

    backend = Watching()
    fault = offline(backend, log)
    with fault:
        assert [e["fault_id"] for e in log.pending()] == [fault.fault_id]
    assert seen == [[fault.fault_id]]
    assert log.pending() == []
    assert [e.get("done", False) for e in lines(log)] == [False, True]


def test_a_revert_that_fails_leaves_the_entry_pending(log: UndoLog) -> None:
    class StuckPaused(FakeContainerBackend):
        def unpause(self, name: str) -> None:
            pass

    fault = offline(StuckPaused(), log)
    with pytest.raises(FaultRevertFailed), fault:
        pass
    assert [e["fault_id"] for e in log.pending()] == [fault.fault_id]


def test_a_log_that_cannot_be_written_stops_the_fault_before_it_is_injected(tmp_path: Path) -> None:
    (tmp_path / "undo").write_text("a file where the directory should be")
    backend = FakeContainerBackend()
    fault = offline(backend, UndoLog.for_run(RUN, tmp_path / "undo"))
    with pytest.raises(Inconclusive, match="could not be injected"), fault:
        pass
    assert ("pause", "runner") not in backend.calls


def test_without_a_log_nothing_is_written_nor_asked(tmp_path: Path) -> None:
    class NoUndo(RunnerOffline):
        def undo_actions(self) -> list[dict[str, object]]:
            raise AssertionError("undo actions are only asked for when there is a log")

    backend = FakeContainerBackend()
    backend.add("runner", {})
    with NoUndo(Journal(RUN), backend, "runner", "primary"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_faults_with_nothing_to_replay_write_nothing(log: UndoLog) -> None:
    certificate = ExpiredCertificate(Journal(RUN), lambda *_: None, "CERT", "valid", "expired", lambda _: "2000-01-01")
    migration = MigrationFails(Journal(RUN), "http://artifacts:8000", "1.1.0")
    assert certificate.undo_actions() == [] and migration.undo_actions() == []
    certificate.undo = log
    with certificate:
        pass
    assert not log.path.exists()


# ---- every fault: the harness dies mid-fault, a replay of its log leaves nothing behind ----------

Died = Callable[[UndoLog], tuple[FakeContainerBackend, Fault]]


def died_offline(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend = FakeContainerBackend()
    return backend, offline(backend, log)


def died_paused(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend = fake("prometheus")
    answers = lambda: backend.status("prometheus") != "paused"  # noqa: E731
    return backend, ServicePaused(Journal(RUN), backend, "prometheus", "prometheus", answers, undo=log)


def died_killed(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend = fake("runner")
    return backend, RunnerKilled(Journal(RUN), backend, "runner", "primary", lambda: True, undo=log)


def died_down(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend, _, fault = test_service_down.make()
    fault.undo = log
    return backend, fault


def died_partition(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend = fake("runner", "web-1", "web-2")
    backend.ips.update({"web-1": "172.18.0.5", "web-2": "172.18.0.6"})
    probe = ["curl", "http://web-1:8080"]
    fault = NetworkPartition(Journal(RUN), backend, "runner", ["web-1", "web-2"], "production", probe, "t", undo=log)
    return backend, fault


def died_resets(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend = fake("r1", "r2")
    fault = test_connection_resets_and_lock.resets(backend)
    fault.undo = log
    return backend, fault


def died_loss(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend, _, fault = test_packet_loss.make(mode="nth", p=0.3)
    fault.undo = log
    return backend, fault


def died_bandwidth(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend, _, fault = test_bandwidth_cap.make("both")
    fault.undo = log
    return backend, fault


def died_cpu(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend, _, fault = test_cpu_starvation.make()
    fault.undo = log
    return backend, fault


def died_memory(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend, _, fault = test_memory_pressure.make()
    fault.undo = log
    return backend, fault


def died_broken(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend = test_broken_release.FilesBackend()
    for host in test_broken_release.HOSTS:
        backend.add(host, {})
    return backend, BrokenRelease(Journal(RUN), backend, test_broken_release.HOSTS, "1.1.0", undo=log)


def died_lock(log: UndoLog) -> tuple[FakeContainerBackend, Fault]:
    backend = test_connection_resets_and_lock.LockBackend()
    backend.add("prod", {})
    return backend, DeployLockHeld(Journal(RUN), backend, "prod", "/opt/app/.deploy.lock", undo=log)


@pytest.mark.parametrize(
    "died",
    [
        died_offline,
        died_paused,
        died_killed,
        died_down,
        died_partition,
        died_resets,
        died_loss,
        died_bandwidth,
        died_cpu,
        died_memory,
        died_broken,
        died_lock,
    ],
    ids=lambda f: f.__name__.removeprefix("died_"),
)
def test_a_replay_after_the_harness_died_leaves_what_the_fault_itself_checks_clean(died: Died, log: UndoLog) -> None:
    backend, fault = died(log)
    fault.__enter__()  # injected and proven; the harness dies here: no __exit__, no revert
    assert fault.leftovers() != [], "the fault must be in place for this test to mean anything"
    assert [e["fault_id"] for e in log.pending()] == [fault.fault_id]
    result = UndoLog.for_run(RUN, log.path.parent).replay(backend)  # a later harness, with only the log
    assert (result.undone, result.failed) == ([fault.fault_id], [])
    assert fault.leftovers() == []
    assert log.pending() == []


def test_iptables_rules_are_deleted_newest_first_by_the_exact_spec_they_were_added_with(log: UndoLog) -> None:
    _, fault = died_partition(log)
    actions = fault.undo_actions()
    assert [a["argv"][3:5] for a in actions] == [
        ["INPUT", "-s"],
        ["OUTPUT", "-d"],
        ["INPUT", "-s"],
        ["OUTPUT", "-d"],
    ]
    assert [a["argv"][5] for a in actions] == ["172.18.0.6", "172.18.0.6", "172.18.0.5", "172.18.0.5"]
    assert all(a["op"] == "netns_exec" and a["ok_codes"] == [0, 1] for a in actions)


def test_disk_full_unmounts_only_its_own_tmpfs() -> None:
    _, _, fault = test_disk_full.make()
    [action] = fault.undo_actions()
    assert (action["op"], action["container"], action["argv"][:2]) == ("mntns_exec", "runner", ["sh", "-c"])
    script = action["argv"][2]
    tag, work = test_disk_full.TAG, test_disk_full.WORK
    assert script.startswith(f"grep -qF -- '{tag} {work} ' /proc/mounts || exit 0;")
    assert f"rm -f {work}/.{tag}-filler" in script and script.endswith(f"umount {work} 2>/dev/null || umount -l {work}")


def test_memory_pressure_gives_each_victim_its_own_oom_score_adj_back() -> None:
    backend, _, fault = test_memory_pressure.make(victim="harness.github.agent")
    backend.procs.update({"7": ["python3 -m harness.github.agent", "0"], "8": ["harness.github.agent b", "-500"]})
    actions = fault.undo_actions()
    assert actions[0] == resources_op("c", {"Memory": 9223372036854771712, "MemorySwap": 9223372036854771712})
    assert [a["argv"][3:] for a in actions[1:]] == [
        ["dch-r1-mem-hog", "kill"],
        ["harness.github.agent", "adj=0", "7"],
        ["harness.github.agent", "adj=-500", "8"],
    ]
    assert all(a["argv"][:3] == ["python3", "-c", PROCS] for a in actions[1:])


def test_the_lock_holder_is_killed_by_its_pattern() -> None:
    fault = DeployLockHeld(Journal(RUN), FakeContainerBackend(), "prod", "/opt/app/.deploy.lock")
    assert fault.undo_actions() == [
        command_op("exec", "prod", ["pkill", "-KILL", "-f", HOLDER_PATTERN], ok_codes=(0, 1))
    ]


def test_connection_resets_are_deleted_in_every_container() -> None:
    fault = test_connection_resets_and_lock.resets(fake("r1", "r2"))
    assert [(a["container"], a["argv"][:4]) for a in fault.undo_actions()] == [
        ("r2", ["iptables", "-w", "-D", "OUTPUT"]),
        ("r1", ["iptables", "-w", "-D", "OUTPUT"]),
    ]
    assert isinstance(fault, ConnectionResets)

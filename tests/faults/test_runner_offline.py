"""harness.faults (base + runner_offline) with FakeContainerBackend: inject, verify, always revert."""

from __future__ import annotations

import os
import signal

import pytest

from harness.core.errors import FaultRevertFailed, Inconclusive
from harness.core.journal import Journal
from harness.faults import RunnerOffline
from harness.topology.backend import LABEL_MANAGED, LABEL_RUN
from harness.topology.cleanup import leftovers
from harness.topology.fake import FakeContainerBackend

RUN = "run-1"
CONTAINER = "dch-run-1-runner-primary"


class StuckPausedBackend(FakeContainerBackend):
    """Unpause is accepted but does nothing: the container stays frozen."""

    def unpause(self, name: str) -> None:
        self.calls.append(("unpause", name))


class BrokenUnpauseBackend(FakeContainerBackend):
    """Unpause fails with an engine error."""

    def unpause(self, name: str) -> None:
        self.calls.append(("unpause", name))
        raise RuntimeError("engine connection lost")


class BrokenPauseBackend(FakeContainerBackend):
    """Pause fails with an engine error."""

    def pause(self, name: str) -> None:
        self.calls.append(("pause", name))
        raise RuntimeError("no such container")


def make(
    backend_cls: type[FakeContainerBackend] = FakeContainerBackend, **kwargs: bool
) -> tuple[FakeContainerBackend, Journal, RunnerOffline]:
    backend = backend_cls(**kwargs)
    backend.add(CONTAINER, {LABEL_MANAGED: "true", LABEL_RUN: RUN})
    backend.add("dch-run-1-runner-secondary", {LABEL_MANAGED: "true", LABEL_RUN: RUN})
    journal = Journal(RUN)
    return backend, journal, RunnerOffline(journal, backend, CONTAINER, "primary")


def fault_log(journal: Journal) -> list[tuple[str, str]]:
    return [(e["op"], e["type"]) for e in journal.entries() if e["op"].startswith("fault.")]


def test_entering_pauses_and_journals_invoke_and_ok() -> None:
    backend, journal, fault = make()
    with fault as active:
        assert active is fault
        assert backend.status(CONTAINER) == "paused"
        assert backend.status("dch-run-1-runner-secondary") == "running"
        assert fault_log(journal) == [("fault.inject", "invoke"), ("fault.injected", "info"), ("fault.inject", "ok")]
        ok = journal.last("fault.inject", "ok")
        assert fault.onset_ms == ok["ts_ms"]
        assert fault.injected_ms == journal.last("fault.injected")["ts_ms"] <= fault.onset_ms
        assert ok["fault"] == "runner_offline"
        assert ok["runner_role"] == "primary"
        assert ok["container"] == CONTAINER
        assert ok["mode"] == "pause"
        assert journal.last("fault.inject", "invoke")["container"] == CONTAINER
    assert backend.calls == [("pause", CONTAINER), ("unpause", CONTAINER)]


def test_exiting_unpauses_and_journals_the_revert() -> None:
    backend, journal, fault = make()
    with fault:
        pass
    assert backend.status(CONTAINER) == "running"
    assert fault_log(journal) == [
        ("fault.inject", "invoke"),
        ("fault.injected", "info"),
        ("fault.inject", "ok"),
        ("fault.revert", "invoke"),
        ("fault.revert", "ok"),
    ]
    assert fault.reverted_ms == journal.last("fault.revert", "ok")["ts_ms"]
    assert fault.reverted_ms >= fault.onset_ms
    assert fault.leftovers() == []
    assert leftovers(backend, RUN) == [f"{CONTAINER} (running)", "dch-run-1-runner-secondary (running)"]


def test_exiting_unpauses_when_the_body_raises() -> None:
    backend, journal, fault = make()
    with pytest.raises(RuntimeError, match="scenario step failed"), fault:
        raise RuntimeError("scenario step failed")
    assert backend.status(CONTAINER) == "running"
    assert ("unpause", CONTAINER) in backend.calls
    assert journal.last("fault.revert")["type"] == "ok"
    assert fault.leftovers() == []


def test_exiting_unpauses_on_keyboard_interrupt() -> None:
    backend, journal, fault = make()
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), fault:
        raise KeyboardInterrupt
    assert backend.status(CONTAINER) == "running"
    assert journal.last("fault.revert")["type"] == "ok"
    assert fault.leftovers() == []
    assert signal.getsignal(signal.SIGINT) is before


def test_ctrl_c_is_deferred_while_reverting() -> None:
    """A Ctrl-C arriving mid-revert does not stop the revert; it is raised once the fault is gone."""

    class Interrupted(FakeContainerBackend):
        def unpause(self, name: str) -> None:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while reverting
            super().unpause(name)

    before = signal.getsignal(signal.SIGINT)
    backend, journal, fault = make(Interrupted)
    with pytest.raises(KeyboardInterrupt), fault:
        pass
    assert backend.status(CONTAINER) == "running"
    assert journal.last("fault.revert", "ok") is not None
    assert signal.getsignal(signal.SIGINT) is before


def test_pause_that_does_not_take_effect_is_inconclusive() -> None:
    backend, journal, fault = make(fail_pause=True)
    body_ran = False
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        body_ran = True
    assert body_ran is False
    assert fault.onset_ms is None
    failed = journal.last("fault.inject", "fail")
    assert failed is not None
    assert failed["error"] == "did not take effect"
    assert journal.last("fault.inject", "ok") is None
    assert fault_log(journal)[:3] == [("fault.inject", "invoke"), ("fault.injected", "info"), ("fault.inject", "fail")]
    assert backend.status(CONTAINER) == "running"
    assert fault.leftovers() == []


def test_pause_that_raises_is_inconclusive_and_reverted() -> None:
    backend, journal, fault = make(BrokenPauseBackend)
    with pytest.raises(Inconclusive, match="could not be injected: no such container"), fault:
        pass
    assert journal.last("fault.inject", "fail")["error"] == "no such container"
    assert journal.last("fault.revert")["type"] == "ok"
    assert backend.status(CONTAINER) == "running"


def test_a_container_left_paused_is_a_revert_failure() -> None:
    _, journal, fault = make(StuckPausedBackend)
    with pytest.raises(FaultRevertFailed, match=CONTAINER), fault:
        pass
    failed = journal.last("fault.revert", "fail")
    assert failed is not None
    assert failed["leftovers"] == [f"{CONTAINER} is paused"]
    assert fault.reverted_ms is None


def test_revert_that_raises_is_journaled_as_fail() -> None:
    # Every journal operation is an invoke followed by ok, fail or info: an exception in revert()
    # must not leave fault.revert open.
    _, journal, fault = make(BrokenUnpauseBackend)
    with pytest.raises((RuntimeError, FaultRevertFailed)), fault:  # the type is the subject of the next test
        pass
    assert journal.last("fault.revert")["type"] == "fail"


def test_revert_that_raises_is_a_fault_revert_failure() -> None:
    _, _, fault = make(BrokenUnpauseBackend)
    with pytest.raises(FaultRevertFailed), fault:
        pass


def test_revert_is_not_repeated_after_success() -> None:
    backend, journal, fault = make()
    with fault:
        pass
    fault.__exit__(None, None, None)
    assert backend.calls.count(("unpause", CONTAINER)) == 1
    assert len(journal.entries("fault.revert", "invoke")) == 1

"""harness.faults.runner_killed: SIGKILL the runner host; revert starts it and waits until it is back."""

from __future__ import annotations

import pytest

from harness.core.errors import FaultRevertFailed
from harness.core.journal import Journal
from harness.faults.runner_killed import RunnerKilled
from harness.topology.fake import FakeContainerBackend


def backend() -> FakeContainerBackend:
    fake = FakeContainerBackend()
    fake.add("r-primary", {})
    return fake


def test_kill_takes_effect_and_revert_restarts_and_waits_for_the_runner() -> None:
    fake, journal = backend(), Journal("t")
    probes: list[int] = []

    def back_online() -> bool:  # not yet at the first look, then yes
        probes.append(1)
        return len(probes) > 1

    with RunnerKilled(journal, fake, "r-primary", "primary", back_online):
        assert fake.status("r-primary") == "exited"
    assert fake.calls == [("kill", "r-primary"), ("start", "r-primary")]
    assert fake.status("r-primary") == "running"
    [inject] = journal.entries("fault.inject", "ok")
    assert inject["mode"] == "SIGKILL" and inject["runner_role"] == "primary"
    assert journal.entries("fault.revert", "ok")
    assert len(probes) == 2


def test_a_runner_that_never_comes_back_is_a_revert_failure() -> None:
    fake, journal = backend(), Journal("t")
    fault = RunnerKilled(journal, fake, "r-primary", "primary", lambda: False, restart_timeout_s=0.2)
    with pytest.raises(FaultRevertFailed, match="could not be reverted"):
        with fault:
            pass

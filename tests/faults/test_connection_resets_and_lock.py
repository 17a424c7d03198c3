"""ConnectionResets and DeployLockHeld against fake backends."""

from __future__ import annotations

import re

import pytest

from harness.core.errors import Inconclusive
from harness.core.journal import Journal
from harness.faults.connection_resets import ConnectionResets
from harness.faults.deploy_lock import HOLDER_PATTERN, DeployLockHeld
from harness.topology.fake import FakeContainerBackend


def resets(backend: FakeContainerBackend) -> ConnectionResets:
    backend.ips["prod"] = "172.18.0.9"
    return ConnectionResets(Journal("t"), backend, ["r1", "r2"], "prod", "prod-web-1", 22, 3, "dch-t-resets")


def test_resets_add_an_nth_reject_rule_in_every_runner_and_remove_it() -> None:
    backend = FakeContainerBackend()
    with resets(backend):
        for runner in ("r1", "r2"):
            (rule,) = backend.rules[runner]
            assert "-d 172.18.0.9 --dport 22 --syn -m statistic --mode nth --every 3 --packet 0" in rule
            assert rule.endswith("-j REJECT --reject-with tcp-reset") and "dch-t-resets" in rule
    assert backend.rules == {"r1": [], "r2": []}


def test_resets_report_rules_left_behind() -> None:
    backend = FakeContainerBackend()
    fault = resets(backend)
    backend.rules["r2"] = ["-A OUTPUT -m comment --comment dch-t-resets -j REJECT"]
    assert fault.leftovers() == ["r2: -A OUTPUT -m comment --comment dch-t-resets -j REJECT"]


class LockBackend(FakeContainerBackend):
    """exec: the holder command starts a 'process'; flock -n fails while it lives; pkill/pgrep by regex."""

    def __init__(self, holder_starts: bool = True) -> None:
        super().__init__()
        self.processes: list[str] = []
        self.holder_starts = holder_starts

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        if argv[0] == "sh":
            if self.holder_starts:
                self.processes.append("flock /opt/app/.deploy.lock sleep 3599.5")
            return 0, ""
        if argv[:2] == ["flock", "-n"]:
            return (1, "") if self.processes else (0, "")
        if argv[0] == "pkill":
            self.processes = [p for p in self.processes if not re.search(argv[-1], p)]
            return 0, ""
        if argv[0] == "pgrep":
            return (0, "") if any(re.search(argv[-1], p) for p in self.processes) else (1, "")
        return 0, ""


def test_lock_is_held_then_released() -> None:
    backend = LockBackend()
    with DeployLockHeld(Journal("t"), backend, "prod", "/opt/app/.deploy.lock") as fault:
        assert backend.processes
    assert backend.processes == []
    assert fault.leftovers() == []


def test_holder_pattern_does_not_match_its_own_command_line() -> None:
    assert re.search(HOLDER_PATTERN, "flock /opt/app/.deploy.lock sleep 3599.5")
    assert not re.search(HOLDER_PATTERN, f"timeout 10 pgrep -f {HOLDER_PATTERN}")


def test_lock_that_is_not_held_is_inconclusive() -> None:
    with (
        pytest.raises(Inconclusive),
        DeployLockHeld(Journal("t"), LockBackend(holder_starts=False), "prod", "/opt/app/.deploy.lock"),
    ):
        pass

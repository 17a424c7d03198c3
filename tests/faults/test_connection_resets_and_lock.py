"""ConnectionResets and DeployLockHeld against fake backends (and a fake deploy_txn table)."""

from __future__ import annotations

import re
import time

import pytest

from harness.core.errors import FaultRevertFailed, Inconclusive
from harness.core.journal import Journal
from harness.faults.connection_resets import ConnectionResets
from harness.faults.deploy_lock import (
    DEPLOY_TXN_SCHEMA,
    FAULT_RUNNER,
    HOLDER_PATTERN,
    DeployLockHeld,
    PgDeployTxn,
    _sqlstate,
)
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


def test_random_resets_use_the_probability_one_in_every() -> None:
    backend = FakeContainerBackend()
    backend.ips["prod"] = "172.18.0.9"
    fault = ConnectionResets(Journal("t"), backend, ["r1"], "prod", "prod-web-1", 22, 3, "dch-t", mode="random")
    with fault:
        (rule,) = backend.rules["r1"]
        assert "--syn -m statistic --mode random --probability 0.33333" in rule
    assert fault.describe()["mode"] == "random"


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="'nth' or 'random'"):
        ConnectionResets(Journal("t"), FakeContainerBackend(), ["r1"], "p", "p", 22, 3, "t", mode="sometimes")


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


class FakeTxn:
    """The deploy_txn lock in memory: one open row at most, heartbeats counted."""

    def __init__(self, *, already_open: bool = False, release_works: bool = True) -> None:
        self.open: dict[int, str] = {99: "runner-primary"} if already_open else {}
        self.beats = 0
        self.release_works = release_works
        self._next = 1

    def hold(self, holder: str) -> int:
        if self.open:
            raise RuntimeError(f"deploy_txn already has an open transaction: {self.open}")
        txn_id, self._next = self._next, self._next + 1
        self.open[txn_id] = holder
        return txn_id

    def renew(self, txn_id: int) -> bool:
        self.beats += 1
        return txn_id in self.open

    def conflicts(self) -> bool:
        return bool(self.open)

    def release(self, txn_id: int) -> None:
        if self.release_works:
            self.open.pop(txn_id, None)

    def open_by_faults(self) -> list[str]:
        return [f"deploy_txn row {i} is open" for i, who in self.open.items() if who == FAULT_RUNNER]


def lock_fault(backend: FakeContainerBackend, txn: FakeTxn | None = None, heartbeat_s: float = 1.0) -> DeployLockHeld:
    return DeployLockHeld(Journal("t"), backend, "prod", "/opt/app/.deploy.lock", txn=txn, heartbeat_s=heartbeat_s)


def test_flock_only_lock_is_held_then_released() -> None:
    backend = LockBackend()
    with lock_fault(backend) as fault:
        assert backend.processes
    assert backend.processes == []
    assert fault.leftovers() == []
    assert "table" not in fault.describe()


def test_holder_pattern_does_not_match_its_own_command_line() -> None:
    assert re.search(HOLDER_PATTERN, "flock /opt/app/.deploy.lock sleep 3599.5")
    assert not re.search(HOLDER_PATTERN, f"timeout 10 pgrep -f {HOLDER_PATTERN}")


def test_lock_that_is_not_held_is_inconclusive() -> None:
    with pytest.raises(Inconclusive), lock_fault(LockBackend(holder_starts=False)):
        pass


def test_txn_row_is_held_with_a_live_heartbeat_and_removed_on_revert() -> None:
    backend, txn = LockBackend(), FakeTxn()
    with lock_fault(backend, txn, heartbeat_s=0.02) as fault:
        assert list(txn.open.values()) == [FAULT_RUNNER]
        time.sleep(0.15)
        assert txn.beats >= 3 and fault.renewals == txn.beats
        assert fault.describe()["table"] == "deploy_txn"
    assert txn.open == {} and backend.processes == []
    beats = txn.beats
    time.sleep(0.06)
    assert txn.beats == beats  # the heartbeat stopped with the revert
    assert fault.leftovers() == []


def test_an_open_transaction_of_someone_else_makes_the_fault_inconclusive_and_is_left_alone() -> None:
    backend, txn = LockBackend(), FakeTxn(already_open=True)
    with pytest.raises(Inconclusive, match="already has an open transaction"), lock_fault(backend, txn):
        pass
    assert txn.open == {99: "runner-primary"}  # not the fault's to remove
    assert backend.processes == []  # the flock holder it did start is gone


def test_a_row_that_survives_revert_is_a_leftover() -> None:
    fault = lock_fault(LockBackend(), FakeTxn(release_works=False))
    with pytest.raises(FaultRevertFailed, match="deploy_txn row 1 is open"), fault:
        pass


def test_the_heartbeat_stops_and_is_journalled_when_the_row_is_gone() -> None:
    txn = FakeTxn()
    with lock_fault(LockBackend(), txn, heartbeat_s=0.02) as fault:
        txn.open.clear()  # e.g. a watchdog took it for an abandoned deploy
        time.sleep(0.1)
        [failure] = fault.journal.entries("fault.heartbeat", "fail")
        assert failure["error"] == "row gone"


class FakePgConnection:
    """Just enough of pg8000.native.Connection for PgDeployTxn: records statements, scripted answers."""

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers, self.statements, self.closed, self.row_count = answers, [], False, 1

    def run(self, sql: str, **params: object) -> object:
        self.statements.append(sql)
        for prefix, answer in self.answers.items():
            if sql.startswith(prefix):
                if isinstance(answer, Exception):
                    raise answer
                return answer
        return []

    def close(self) -> None:
        self.closed = True


def pg_error(code: str) -> Exception:
    return Exception({"S": "ERROR", "C": code, "M": "boom"})  # as pg8000 raises DatabaseError


def test_pg_txn_creates_the_agreed_schema_then_inserts_the_open_row() -> None:
    conn = FakePgConnection({"INSERT": [[7]]})
    assert PgDeployTxn(lambda: conn).hold(FAULT_RUNNER) == 7
    n = len(DEPLOY_TXN_SCHEMA)
    assert conn.statements[:n] == list(DEPLOY_TXN_SCHEMA)
    assert DEPLOY_TXN_SCHEMA[0] == "START TRANSACTION" and DEPLOY_TXN_SCHEMA[-1] == "COMMIT"
    assert "'open' FROM schema_state RETURNING id" in conn.statements[n]


def test_pg_txn_reports_who_holds_the_lock_when_the_index_refuses() -> None:
    conn = FakePgConnection({"INSERT": pg_error("23505"), "SELECT id": [[3, "runner-primary", "2.0.0"]]})
    with pytest.raises(RuntimeError, match=r"already has an open transaction: \[\[3, 'runner-primary'"):
        PgDeployTxn(lambda: conn).hold(FAULT_RUNNER)
    assert conn.closed


def test_pg_txn_conflict_probe_rolls_back_and_reads_the_unique_violation() -> None:
    refused = FakePgConnection({"INSERT": pg_error("23505")})
    assert PgDeployTxn(lambda: refused).conflicts() is True
    assert refused.statements[-1] == "ROLLBACK" and refused.closed
    accepted = FakePgConnection({})
    assert PgDeployTxn(lambda: accepted).conflicts() is False
    assert accepted.statements[-1] == "ROLLBACK"  # the probe's own row is never committed


def test_pg_txn_without_a_table_has_no_leftovers() -> None:
    assert PgDeployTxn(lambda: FakePgConnection({"SELECT": pg_error("42P01")})).open_by_faults() == []
    assert _sqlstate(ValueError("x")) is None

"""A stuck deploy holds production's deploy lock, as a hung earlier deploy would.

The lock is two things while the pipeline moves from shell scripts to the transactional deploy
(docs/production.md), and the fault holds both:

- the open transaction of PostgreSQL table `deploy_txn` (the unique partial index allows one row
  with phase 'open'): the fault inserts one and renews its heartbeat while held, so no watchdog
  or next attempt takes it for an abandoned one. It is a "redeploy of the live release" (from =
  to = schema_state.release, no snapshot), so even a rollback of it would change nothing.
- the shell pipeline's flock on the first web host (`/opt/app/.deploy.lock`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, command_op
from harness.topology.backend import ContainerBackend

HOLD_SECONDS = "3599.5"  # a distinctive argument, so revert kills exactly this holder
# a regex that matches the holder but not the command line of the pgrep/pkill (or its `timeout`) itself
HOLDER_PATTERN = r"sleep 359[9]\.5"
# `runner` of the rows the fault inserts: how leftovers are told from the pipeline's own rows
FAULT_RUNNER = "deploy-chaos-fault"
UNIQUE_VIOLATION = "23505"
UNDEFINED_TABLE = "42P01"

# The table as the pipeline creates it (agreed schema): created here too when the fault comes first,
# under the advisory lock the pipeline's app-txn takes for the same (two creators at once would race).
DEPLOY_TXN_SCHEMA = (
    "START TRANSACTION",
    "SELECT pg_advisory_xact_lock(7349201)",
    "CREATE TABLE IF NOT EXISTS deploy_txn (id bigserial primary key, from_release text, to_release text not null, "
    "runner text, phase text not null, snapshot jsonb, started_at timestamptz not null default now(), "
    "heartbeat_at timestamptz not null default now(), ended_at timestamptz)",
    "CREATE UNIQUE INDEX IF NOT EXISTS deploy_txn_one_open ON deploy_txn ((true)) WHERE phase = 'open'",
    "COMMIT",
)


class TxnLock(Protocol):
    """The deploy_txn lock as the fault uses it (PgDeployTxn, or a fake in tests)."""

    def hold(self, holder: str) -> int:
        """Open a transaction as `holder`; return its id (raise if another one is open)."""

    def renew(self, txn_id: int) -> bool:
        """Renew the heartbeat; False when the row is no longer open."""

    def conflicts(self) -> bool:
        """True when a new deploy could not open its transaction now (checked as a client, then undone)."""

    def release(self, txn_id: int) -> None:
        """Remove the transaction."""

    def open_transactions(self) -> list[dict[str, Any]]:
        """Every open row (a deploy in flight, or one whose runner died and nobody rolled back yet)."""
        conn = self._connect()
        try:
            rows = conn.run(
                "SELECT id, from_release, to_release, runner, heartbeat_at::text FROM deploy_txn WHERE phase = 'open'"
            )
        except Exception as exc:
            if _sqlstate(exc) == UNDEFINED_TABLE:
                return []  # no deploy_txn table yet: no deploy ever opened one
            raise
        finally:
            conn.close()
        keys = ("id", "from_release", "to_release", "runner", "heartbeat_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def open_by_faults(self) -> list[str]:
        """Open transactions inserted by this fault (any window), described."""


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a pg8000 error (its first argument is the server's error fields)."""
    fields = exc.args[0] if exc.args else None
    return fields.get("C") if isinstance(fields, dict) else None


class PgDeployTxn:
    """`deploy_txn` in prod-db through pg8000 connections made by `connect`."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._holder_conn: Any = None
        self._lock = threading.Lock()  # the holder's connection is shared by the heartbeat thread

    def hold(self, holder: str) -> int:
        """Create the table if missing and insert the open row (a second open row is refused by the index)."""
        with self._lock:
            if self._holder_conn is None:
                self._holder_conn = self._connect()
            conn = self._holder_conn
            try:
                for statement in DEPLOY_TXN_SCHEMA:
                    conn.run(statement)
                rows = conn.run(
                    "INSERT INTO deploy_txn (from_release, to_release, runner, phase) "
                    "SELECT release, release, :runner, 'open' FROM schema_state RETURNING id",
                    runner=holder,
                )
            except Exception as exc:
                self._holder_conn = None  # not holding anything: the connection goes
                try:
                    if _sqlstate(exc) == UNIQUE_VIOLATION:
                        held = conn.run("SELECT id, runner, to_release FROM deploy_txn WHERE phase = 'open'")
                        raise RuntimeError(f"deploy_txn already has an open transaction: {held}") from exc
                    raise
                finally:
                    conn.close()
            return int(rows[0][0])

    def renew(self, txn_id: int) -> bool:
        """heartbeat_at = now() on the row, if it is still open."""
        with self._lock:
            if self._holder_conn is None:
                return False
            self._holder_conn.run(
                "UPDATE deploy_txn SET heartbeat_at = now() WHERE id = :id AND phase = 'open'", id=txn_id
            )
            return bool(self._holder_conn.row_count)

    def conflicts(self) -> bool:
        """Try, on a connection of its own, what a deploy's `lock` step does; roll it back either way."""
        conn = self._connect()
        try:
            conn.run("START TRANSACTION")
            try:
                conn.run(
                    "INSERT INTO deploy_txn (from_release, to_release, runner, phase) "
                    "VALUES (NULL, 'probe', 'deploy-chaos-probe', 'open')"
                )
            except Exception as exc:
                if _sqlstate(exc) == UNIQUE_VIOLATION:
                    return True
                raise
            return False
        finally:
            try:
                conn.run("ROLLBACK")
            finally:
                conn.close()

    def release(self, txn_id: int) -> None:
        """Delete the fault's row: it was never a real deploy, so it leaves no history behind."""
        with self._lock:
            conn, self._holder_conn = self._holder_conn, None
        if conn is None:
            conn = self._connect()
        try:
            conn.run("DELETE FROM deploy_txn WHERE id = :id", id=txn_id)
        finally:
            conn.close()

    def open_transactions(self) -> list[dict[str, Any]]:
        """Every open row (a deploy in flight, or one whose runner died and nobody rolled back yet)."""
        conn = self._connect()
        try:
            rows = conn.run(
                "SELECT id, from_release, to_release, runner, heartbeat_at::text FROM deploy_txn WHERE phase = 'open'"
            )
        except Exception as exc:
            if _sqlstate(exc) == UNDEFINED_TABLE:
                return []  # no deploy_txn table yet: no deploy ever opened one
            raise
        finally:
            conn.close()
        keys = ("id", "from_release", "to_release", "runner", "heartbeat_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def open_by_faults(self) -> list[str]:
        """Open rows whose runner is the fault's."""
        conn = self._connect()
        try:
            rows = conn.run(
                "SELECT id, heartbeat_at FROM deploy_txn WHERE phase = 'open' AND runner = :runner",
                runner=FAULT_RUNNER,
            )
        except Exception as exc:
            if _sqlstate(exc) == UNDEFINED_TABLE:
                return []  # no deploy_txn table: nothing can be held
            raise
        finally:
            conn.close()
        return [f"deploy_txn row {row[0]} is open (runner {FAULT_RUNNER}, heartbeat {row[1]})" for row in rows]


class DeployLockHeld(Fault):
    """Hold the deploy lock until reverted: the open deploy_txn row (if `txn` is given) and the flock."""

    name = "deploy_lock_held"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        container: str,
        lock: str,
        user: str = "deploy",
        *,
        txn: TxnLock | None = None,
        heartbeat_s: float = 1.0,
        undo: UndoLog | None = None,
    ) -> None:
        """`heartbeat_s` must be well under the pipeline's transaction lease (txn_lease_s)."""
        super().__init__(journal, undo)
        self.backend, self.container, self.lock, self.user = backend, container, lock, user
        self.txn, self.heartbeat_s = txn, heartbeat_s
        self.txn_id: int | None = None
        self.renewals = 0
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def describe(self) -> dict[str, Any]:
        """Which locks, where."""
        described: dict[str, Any] = {"container": self.container, "lock": self.lock}
        if self.txn is not None:
            described.update(table="deploy_txn", runner=FAULT_RUNNER, heartbeat_s=self.heartbeat_s)
        return described

    def undo_actions(self) -> list[Action]:
        """The flock holder sleeps on for an hour after the harness dies: kill it (pkill exits 1: none left).

        The deploy_txn row is not in the log: the fault reaches it only through its TxnLock (a DB connection),
        and unrenewed it is what the pipeline's lease calls abandoned, a redeploy of the live release that a
        watchdog's rollback leaves unchanged; a dead run's prod-db is removed by the sweep anyway."""
        return [command_op("exec", self.container, ["pkill", "-KILL", "-f", HOLDER_PATTERN], ok_codes=(0, 1))]

    def inject(self) -> None:
        """Start the flock holder in the background; open the transaction and start renewing it."""
        code, out = self.backend.exec(
            self.container,
            [
                "sh",
                "-c",
                f"su -s /bin/sh {self.user} -c 'nohup flock {self.lock} sleep {HOLD_SECONDS} >/dev/null 2>&1 &'",
            ],
        )
        if code != 0:
            raise RuntimeError(f"cannot start the lock holder: {out.strip()}")
        if self.txn is not None:
            self.txn_id = self.txn.hold(FAULT_RUNNER)
            self._stop.clear()
            self._renewer = threading.Thread(target=self._renew, name="deploy-lock-heartbeat", daemon=True)
            self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            assert self.txn is not None and self.txn_id is not None
            try:
                if self.txn.renew(self.txn_id):
                    self.renewals += 1
                else:
                    self.journal.fail("fault.heartbeat", fault=self.name, fault_id=self.fault_id, error="row gone")
                    return
            except Exception as exc:  # journalled; the next beat tries again
                self.journal.fail(
                    "fault.heartbeat", fault=self.name, fault_id=self.fault_id, error=f"{type(exc).__name__}: {exc}"
                )

    def _flock_held(self) -> bool:
        for _ in range(20):  # the holder takes the lock asynchronously
            code, _ = self.backend.exec(self.container, ["flock", "-n", self.lock, "true"])
            if code != 0:
                return True
            self.backend.exec(self.container, ["sleep", "0.1"])
        return False

    def took_effect(self) -> bool:
        """Seen as a deploy would see it: the flock cannot be taken, and no transaction can be opened."""
        return self._flock_held() and (self.txn is None or self.txn.conflicts())

    def revert(self) -> None:
        """Stop renewing and delete the row; kill the flock holder (the lock goes with it) and wait until it is gone."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=10)
            self._renewer = None
        if self.txn is not None and self.txn_id is not None:
            self.txn.release(self.txn_id)
            self.txn_id = None
        self.backend.exec(self.container, ["pkill", "-KILL", "-f", HOLDER_PATTERN])
        for _ in range(30):
            if self.backend.exec(self.container, ["pgrep", "-f", HOLDER_PATTERN])[0] != 0:
                return
            self.backend.exec(self.container, ["sleep", "0.1"])

    def leftovers(self) -> list[str]:
        """A flock holder still running; an open row of the fault."""
        code, _ = self.backend.exec(self.container, ["pgrep", "-f", HOLDER_PATTERN])
        left = [f"{self.container}: a process still holds {self.lock}"] if code == 0 else []
        if self.txn is not None:
            left += self.txn.open_by_faults()
        return left

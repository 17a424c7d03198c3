"""The fault contract: inject, verify it took effect, always revert, verify nothing is left."""

from __future__ import annotations

import abc
import signal
import threading
import time
import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Any

from harness.core.errors import FaultRevertFailed, HarnessError, Inconclusive
from harness.core.journal import Journal

if TYPE_CHECKING:
    from harness.faults.undo import Action, UndoLog


class Fault(abc.ABC):
    """A fault window. Entering injects and verifies; exiting reverts, whatever happened."""

    name: str = "fault"

    def __init__(self, journal: Journal, undo: UndoLog | None = None) -> None:
        """`undo`: the run's durable undo log; with it, a harness that dies mid-fault leaves a way back."""
        self.journal = journal
        self.undo = undo
        self._undo_logged = False  # an entry of this window is in the undo log, waiting for its `done`
        self.fault_id = f"{self.name}-{uuid.uuid4().hex[:6]}"  # names this window in the journal
        self.onset_ms: int | None = None  # when it was proven in place (fault.inject ok)
        self.injected_ms: int | None = None  # when injecting it returned (it acts from about then)
        self.reverted_ms: int | None = None
        self._active = False

    @abc.abstractmethod
    def inject(self) -> None:
        """Apply the fault."""

    @abc.abstractmethod
    def took_effect(self) -> bool:
        """True when the fault is observably in place."""

    @abc.abstractmethod
    def revert(self) -> None:
        """Undo the fault (idempotent)."""

    @abc.abstractmethod
    def leftovers(self) -> list[str]:
        """What the fault left behind after revert (must be empty)."""

    def describe(self) -> dict[str, Any]:
        """Parameters of this fault, for the journal and report."""
        return {}

    def undo_actions(self) -> list[Action]:
        """How to undo this fault with only a ContainerBackend, should the harness die before `revert()`
        (harness.faults.undo); asked before injecting. Empty: nothing to log (nothing of it outlives the harness,
        or it cannot be undone through a ContainerBackend)."""
        return []

    def __enter__(self) -> Fault:
        self.journal.invoke("fault.inject", fault=self.name, fault_id=self.fault_id, **self.describe())
        self._active = True
        try:
            if self.undo is not None:
                actions = self.undo_actions()
                if actions:  # on disk before the fault is in place: nothing the harness does can outrun it
                    self.undo.begin(self.fault_id, self.name, actions)
                    self._undo_logged = True
            self.inject()
            # the fault is in place from here; proving it (below) can take seconds (e.g. a probe timing out)
            self.injected_ms = self.journal.info("fault.injected", fault=self.name, fault_id=self.fault_id)["ts_ms"]
            effective = self.took_effect()
        except BaseException as exc:
            self.journal.fail("fault.inject", fault=self.name, fault_id=self.fault_id, error=str(exc))
            self._revert_shielded()
            if isinstance(exc, Exception):
                raise Inconclusive(f"fault {self.name} could not be injected: {exc}") from exc
            raise
        if not effective:
            self.journal.fail("fault.inject", fault=self.name, fault_id=self.fault_id, error="did not take effect")
            self._revert_shielded()
            raise Inconclusive(f"fault {self.name} did not take effect; the scenario cannot be decided")
        entry = self.journal.ok(
            "fault.inject", fault=self.name, fault_id=self.fault_id, took_effect=True, **self.describe()
        )
        self.onset_ms = entry["ts_ms"]
        return self

    def onset(self) -> int:
        """Wall ms at which the fault took effect (its fault.inject ok entry)."""
        if self.onset_ms is None:
            raise HarnessError(f"fault {self.name} has not taken effect: enter it before asking when it did")
        return self.onset_ms

    def reverted(self) -> int:
        """Wall ms at which the fault was reverted (its fault.revert ok entry)."""
        if self.reverted_ms is None:
            raise HarnessError(f"fault {self.name} has not been reverted yet")
        return self.reverted_ms

    def journal_revert_time(self, started_monotonic: float | None, **extra: Any) -> None:
        """Journal how long a revert took (`fault.timing` with revert_ms, unless given in `extra`) and its figures."""
        if started_monotonic is not None:
            extra = {"revert_ms": round((time.monotonic() - started_monotonic) * 1000, 1), **extra}
        self.journal.info("fault.timing", fault=self.name, fault_id=self.fault_id, **extra)

    def _undo_done(self) -> None:
        """Mark this window undone in the undo log; a failed write is journalled (a replay would only redo it)."""
        if self.undo is None or not self._undo_logged:
            return
        try:
            self.undo.done(self.fault_id)
            self._undo_logged = False
        except OSError as exc:
            self.journal.fail("fault.undo_done", fault=self.name, fault_id=self.fault_id, error=str(exc))

    def revert_now(self) -> None:
        """End the fault window early (e.g. "the runner comes back"); exiting later is then a no-op."""
        self._revert_shielded()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._revert_shielded()

    def _revert_shielded(self) -> None:
        """Revert with Ctrl-C deferred until the revert is done, so an interrupt cannot leave the fault."""
        if not self._active:
            return
        interrupted: list[int] = []
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum)) if in_main else None
        try:
            self.journal.invoke("fault.revert", fault=self.name, fault_id=self.fault_id)
            try:
                self.revert()
                left = self.leftovers()
            except Exception as exc:
                self.journal.fail(
                    "fault.revert", fault=self.name, fault_id=self.fault_id, error=f"{type(exc).__name__}: {exc}"
                )
                raise FaultRevertFailed(f"fault {self.name} could not be reverted: {exc}") from exc
            self._active = False
            if left:
                self.journal.fail("fault.revert", fault=self.name, fault_id=self.fault_id, leftovers=left)
                raise FaultRevertFailed(f"fault {self.name} left {left} behind after revert")
            self._undo_done()
            self.reverted_ms = self.journal.ok("fault.revert", fault=self.name, fault_id=self.fault_id, leftovers=[])[
                "ts_ms"
            ]
        finally:
            if in_main and previous is not None:
                signal.signal(signal.SIGINT, previous)
        if interrupted:
            raise KeyboardInterrupt

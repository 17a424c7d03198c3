"""Re-judge a recorded run from its journal alone: every verdict recomputed, optionally with other budgets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.checks.enforce import VERDICT_OP
from harness.checks.registry import evaluate
from harness.core.journal import Journal
from harness.core.types import CheckRequest, CheckResult


@dataclass(frozen=True)
class Rejudged:
    """One verdict of a recorded run: as recorded, and as recomputed now."""

    request: CheckRequest
    recorded: dict[str, Any]
    recomputed: CheckResult

    @property
    def same(self) -> bool:
        """True when the recomputed verdict, message and figures equal the recorded ones."""
        now = self.recomputed.to_dict()
        return all(now[k] == self.recorded.get(k) for k in ("verdict", "message", "measured"))

    def row(self) -> dict[str, Any]:
        """A row of the measurement table (recomputed)."""
        return {"scenario": self.request.scenario, "check": self.request.check, **self.recomputed.to_dict()}


def recheck(journal: Journal, budgets: dict[str, float] | None = None, only: str | None = None) -> list[Rejudged]:
    """Recompute every verdict entry of `journal` over the entries its checker saw when it ran.

    `budgets` replaces named budgets of every request that uses them; `only` limits to one checker.
    """
    entries = journal.entries()
    out = []
    for entry in journal.entries(VERDICT_OP):
        request = CheckRequest.from_dict(entry["request"])
        if only is not None and request.check != only:
            continue
        if budgets:
            request = request.with_budgets(budgets)
        window = [e for e in entries if request.since_seq <= e["seq"] < entry["seq"]]
        out.append(Rejudged(request, dict(entry["result"]), evaluate(window, request)))
    return out

"""Central domain types: verdicts, check results, run identity. Plain, JSON-serialisable data."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Role(enum.StrEnum):
    """A production runner's role, as its labels and the spec name it."""

    PRIMARY = "primary"
    SECONDARY = "secondary"


class Verdict(enum.StrEnum):
    """The three outcomes of a check."""

    PASSED = "passed"  # the pipeline met the claim
    FAILED = "failed"  # the pipeline violated the claim: a finding, with evidence
    INCONCLUSIVE = "inconclusive"  # the harness could not decide (never the pipeline's fault)


@dataclass
class CheckResult:
    """A verdict on one claim, computed from the journal and event log after the fact."""

    claim: str
    verdict: Verdict
    message: str
    measured: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data


@dataclass(frozen=True)
class CheckRequest:
    """What a checker is asked to judge: its name, its parameters and budgets, and the journal window.

    Plain data, journalled with the verdict, so `deploy-chaos recheck` can ask the same question
    of the same entries (and, with other budgets, a different one).
    """

    check: str
    params: dict[str, Any] = field(default_factory=dict)
    budgets: dict[str, float] = field(default_factory=dict)
    scenario: str = ""
    since_seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckRequest:
        """Inverse of `to_dict`."""
        return cls(
            str(data["check"]),
            dict(data.get("params", {})),
            {k: float(v) for k, v in data.get("budgets", {}).items()},
            str(data.get("scenario", "")),
            int(data.get("since_seq", 0)),
        )

    def budget(self, name: str) -> float:
        """One named budget of this request."""
        return self.budgets[name]

    def with_budgets(self, overrides: dict[str, float]) -> CheckRequest:
        """The same request with some budgets replaced (those it does not use are ignored)."""
        return CheckRequest(
            self.check,
            self.params,
            {k: overrides.get(k, v) for k, v in self.budgets.items()},
            self.scenario,
            self.since_seq,
        )

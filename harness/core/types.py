"""Central domain types: verdicts, check results, run identity. Plain, JSON-serialisable data."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


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

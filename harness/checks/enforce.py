"""Turn a checker's CheckResult into the scenario's outcome, with the evidence in the report."""

from __future__ import annotations

from typing import Any

from harness.actions.deploys import run_diagnostics
from harness.core.errors import Inconclusive, PipelineFinding
from harness.core.types import CheckResult, Verdict
from harness.report.attach import attach_json
from harness.topology.environment import Environment


def enforce(env: Environment, result: CheckResult, name: str, run_id: int | None = None) -> CheckResult:
    """Journal and attach `result`; raise Inconclusive or PipelineFinding (with run diagnostics) unless it passed."""
    env.journal.info(f"check.{name}", result=result.to_dict())
    attach_json(
        f"{name} measurement",
        {
            "verdict": result.verdict.value,
            "message": result.message,
            "measured": result.measured,
            "budget": result.budget,
            "profile": env.profile.name,
            "timers": env.profile.timers,
        },
        env.secrets(),
    )
    if result.verdict is Verdict.INCONCLUSIVE:
        raise Inconclusive(result.message)
    if result.verdict is Verdict.FAILED:
        evidence: dict[str, Any] = dict(result.evidence)
        if run_id is not None:
            evidence["run"] = run_diagnostics(env, run_id)
        attach_json(f"{name} evidence", evidence, env.secrets())
        raise PipelineFinding(f"FINDING: {result.message}", evidence)
    return result

"""The one enforcement point: judge a request from the journal, record the verdict, raise the outcome.

Steps act and record; they ask `judge` for verdicts and never raise findings themselves.
Nothing here talks to the environment or to a report: the evidence of a finding comes from
the journal; reporters (Allure, the measurement table) subscribe to the journal's verdict
entries; and the verdict entry (request + result) is what `deploy-chaos recheck` replays.
"""

from __future__ import annotations

from typing import Any

from harness.checks.registry import evaluate
from harness.core.errors import Inconclusive, PipelineFinding
from harness.core.journal import Journal
from harness.core.types import CheckRequest, CheckResult, Verdict

VERDICT_OP = "check.verdict"


def scenario_window(journal: Journal) -> tuple[str, int]:
    """(name, first seq) of the scenario being run: the newest scenario.start entry, else the whole journal."""
    start = journal.last("scenario.start")
    return (str(start.get("scenario", "")), int(start["seq"])) if start else ("", 0)


def judge(journal: Journal, check: str, budgets: dict[str, float] | None = None, **params: Any) -> CheckResult:
    """Judge `check` over this scenario's journal; journal the verdict (reporters subscribe); raise unless passed."""
    scenario, since = scenario_window(journal)
    request = CheckRequest(check, params, dict(budgets or {}), scenario, since)
    result = evaluate(journal.entries()[since:], request)
    journal.info(VERDICT_OP, request=request.to_dict(), result=result.to_dict())
    return raise_outcome(result)


def raise_outcome(result: CheckResult) -> CheckResult:
    """Raise Inconclusive or PipelineFinding (with its evidence) unless `result` passed."""
    if result.verdict is Verdict.INCONCLUSIVE:
        raise Inconclusive(result.message)
    if result.verdict is Verdict.FAILED:
        raise PipelineFinding(f"FINDING: {result.message}", result.evidence)
    return result

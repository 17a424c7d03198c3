"""Every checker by name, and `evaluate`: a request and journal entries in, a verdict out.

The same function judges live (through `harness.checks.enforce`) and afterwards
(`deploy-chaos recheck`), so a recorded run can be re-judged, with other budgets or a fixed
checker, from its journal alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any

from harness.checks import (
    alerting,
    authorization,
    concurrency,
    converged,
    deploy_lock,
    diagnosis,
    fail_fast,
    failover,
    notifications,
    placement,
    production,
    secrets,
    success_rate,
)
from harness.checks.history import History, MissingObservation
from harness.core.errors import ConfigError
from harness.core.types import CheckRequest, CheckResult, Verdict

Checker = Callable[[History, CheckRequest], CheckResult]

CHECKERS: MappingProxyType[str, Checker] = MappingProxyType(
    {
        "placement": placement.judge_ran_on,
        "authorized_only": authorization.judge_authorized_only,
        "failover": failover.judge_failover,
        "detection": failover.judge_detection,
        "fail_fast": fail_fast.judge_fail_fast,
        "cause_named": diagnosis.judge_cause_named,
        "diagnosis": diagnosis.judge_classification,
        "deployed": production.judge_version_deployed,
        "unchanged": production.judge_version_unchanged,
        "state_file": production.judge_state_file,
        "state_versions": production.judge_state_versions,
        "run_failed": production.judge_run_failed,
        "healthy": production.judge_healthy,
        "team_notification": notifications.judge_team_told,
        "alert_delivery": alerting.judge_alert_delivered,
        "alert_resolved": alerting.judge_alert_resolved,
        "no_page": alerting.judge_no_page,
        "no_page_short_holds": deploy_lock.judge_no_page_for_short_holds,
        "success_rate": success_rate.judge_success_rate,
        "durations": success_rate.judge_durations,
        "exclusive": concurrency.judge_exclusive,
        "superseded": concurrency.judge_superseded,
        "secrets": secrets.judge_no_secret_leak,
        "converged": converged.judge_converged,
        "components_at": production.judge_components_at,
        "no_residue": production.judge_no_residue,
        "no_change": production.judge_no_change,
    }
)


def evaluate(entries: Sequence[dict[str, Any]], request: CheckRequest) -> CheckResult:
    """Judge `request` over `entries`; a missing observation makes the verdict inconclusive, never a pass."""
    checker = CHECKERS.get(request.check)
    if checker is None:
        raise ConfigError(f"unknown checker {request.check!r}; known: {', '.join(sorted(CHECKERS))}")
    history = History(entries)
    try:
        result = checker(history, request)
    except MissingObservation as exc:
        return CheckResult(request.check, Verdict.INCONCLUSIVE, f"cannot judge: {exc}", {}, dict(request.budgets))
    if result.verdict is Verdict.FAILED and "run_id" in request.params:
        result.evidence.setdefault("run", history.run_evidence(request.params["run_id"]))
    return result

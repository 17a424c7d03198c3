"""What production reports after a deploy: version, health and the pipeline's state file."""

from __future__ import annotations

from typing import Any

from harness.checks.history import History
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM_VERSION = "US1: a deploy leaves production at the new version, with no manual step"
CLAIM_UNCHANGED = "a deploy stopped before production leaves production as it was"
CLAIM_STATE = "US3: the state file records current/previous version and runner, written only after success"
CLAIM_FAILED = "US3: a deploy of a broken release concludes failure"
CLAIM_HEALTHY = "US3: production is healthy after the deploy (or its rollback)"


def check_version_deployed(run: dict[str, Any], served: str | None, version: str) -> CheckResult:
    """Verdict: the run concluded success and production serves `version`."""
    measured = {"served_version": served, "run_conclusion": run.get("conclusion")}
    if run.get("conclusion") != "success" or served != version:
        return CheckResult(
            CLAIM_VERSION,
            Verdict.FAILED,
            f"production serves {served!r} and the deploy run concluded {run.get('conclusion')!r}; "
            f"expected {version!r} and success",
            measured,
            evidence={"run": run},
        )
    return CheckResult(CLAIM_VERSION, Verdict.PASSED, f"production serves {version} after a successful run", measured)


def check_version_unchanged(served: str | None, before: str | None) -> CheckResult:
    """Verdict: production still serves what it served before the scenario acted."""
    measured = {"served_version": served, "version_before": before}
    if served != before:
        return CheckResult(
            CLAIM_UNCHANGED,
            Verdict.FAILED,
            f"production serves {served!r}, but the deploy should not have touched it (it served {before!r} before)",
            measured,
        )
    return CheckResult(CLAIM_UNCHANGED, Verdict.PASSED, f"production still serves {before!r}", measured)


def check_state_file(read: dict[str, Any], expected: dict[str, Any]) -> CheckResult:
    """Verdict: the state file read holds `expected` (a subset of its keys)."""
    if "error" in read:
        return CheckResult(
            CLAIM_STATE,
            Verdict.FAILED,
            f"the production state file is unusable: {read['error']}",
            evidence={"read": read},
        )
    state = read.get("state") or {}
    actual = {key: state.get(key) for key in expected}
    if actual != expected:
        return CheckResult(
            CLAIM_STATE,
            Verdict.FAILED,
            f"the production state file records {actual}, expected {expected}",
            {"recorded": actual},
            evidence={"state": state},
        )
    return CheckResult(CLAIM_STATE, Verdict.PASSED, f"the state file records {actual}", {"recorded": actual})


def judge_version_deployed(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the run as last seen and the newest production version sample."""
    p = request.params
    served = history.last_production("version").get("version")
    return check_version_deployed(history.run(p["run_id"]), served, p["version"])


def judge_version_unchanged(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the scenario's baseline version and the newest version sample."""
    return check_version_unchanged(history.last_production("version").get("version"), history.baseline_version())


def judge_state_file(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the newest state-file read against the expected fields.

    Parameters: `version` and `runner` (a deploy that landed), or `unchanged` (production's
    baseline must still be current).
    """
    p = request.params
    if p.get("unchanged"):
        expected = {"current_version": history.baseline_version()}
    else:
        expected = {
            "current_version": p["version"],
            "previous_version": history.baseline_version(),
            "deploy_runner": p["runner"],
        }
    return check_state_file(history.state_file(), expected)


def judge_run_failed(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the run as last seen concluded failure."""
    run = history.run(request.params["run_id"])
    conclusion = run.get("conclusion")
    if conclusion != "failure":
        return CheckResult(
            CLAIM_FAILED,
            Verdict.FAILED,
            f"the deploy of a broken release concluded {conclusion!r}, not failure",
            {"run_conclusion": conclusion},
            evidence={"run": run},
        )
    return CheckResult(CLAIM_FAILED, Verdict.PASSED, "the run concluded failure", {"run_conclusion": conclusion})


def judge_healthy(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the newest health probe of production."""
    health = history.last_production("health")
    measured = {"health_status": health.get("status")}
    if not health.get("healthy"):
        served = history.last_production("version").get("version")
        return CheckResult(
            CLAIM_HEALTHY,
            Verdict.FAILED,
            f"production is unhealthy (serving {served!r})",
            measured | {"served": served},
        )
    return CheckResult(CLAIM_HEALTHY, Verdict.PASSED, "production's health endpoint answers 200", measured)

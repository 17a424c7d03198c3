"""What production reports after a deploy: version, health and the pipeline's state file."""

from __future__ import annotations

import re
from typing import Any

from harness.checks.history import History, MissingObservation
from harness.core.errors import ConfigError
from harness.core.types import CheckRequest, CheckResult, Verdict

RECAP = re.compile(r"(prod-[\w-]+)\s+:\s+ok=\d+\s+changed=(\d+)")  # Ansible's PLAY RECAP line of a prod host
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


def check_state_file(read: dict[str, Any], expected: dict[str, Any], claim: str = CLAIM_STATE) -> CheckResult:
    """Verdict: the state file read holds `expected` (a subset of its keys)."""
    if "error" in read:
        return CheckResult(
            claim,
            Verdict.FAILED,
            f"the production state file is unusable: {read['error']}",
            evidence={"read": read},
        )
    state = read.get("state") or {}
    actual = {key: state.get(key) for key in expected}
    if actual != expected:
        return CheckResult(
            claim,
            Verdict.FAILED,
            f"the production state file records {actual}, expected {expected}",
            {"recorded": actual},
            evidence={"state": state},
        )
    return CheckResult(claim, Verdict.PASSED, f"the state file records {actual}", {"recorded": actual})


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


CLAIM_STATE_VERSIONS = (
    "US3: deploy X -> rollback -> deploy X: the state file's current_version / previous_version advance each time"
)


def judge_state_versions(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the newest state-file read records `current` and `previous`.

    Parameters: `current` and `previous`, each a version, or instead `current_is_baseline` /
    `previous_is_baseline` (true): the version production had when the scenario began.
    """
    p = request.params
    expected = {}
    for key in ("current", "previous"):
        if p.get(f"{key}_is_baseline"):
            expected[f"{key}_version"] = history.baseline_version()
        elif key in p:
            expected[f"{key}_version"] = p[key]
        else:
            raise ConfigError(f"the state_versions check needs `{key}` or `{key}_is_baseline`")
    return check_state_file(history.state_file(), expected, CLAIM_STATE_VERSIONS)


def judge_run_failed(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the run as last seen concluded failure."""
    run = history.run(request.params["run_id"])
    conclusion = run.get("conclusion")
    if conclusion is None:  # still going when last seen: nothing to blame the pipeline for yet
        return CheckResult(
            CLAIM_FAILED,
            Verdict.INCONCLUSIVE,
            f"the deploy run had not completed when last seen (status {run.get('status')!r})",
            {"run_conclusion": None},
            evidence={"run": run},
        )
    if conclusion != "failure":
        return CheckResult(
            CLAIM_FAILED,
            Verdict.FAILED,
            f"the deploy run concluded {conclusion!r}, not failure",
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


CLAIM_COMPONENTS = "US1/US3: every component (backend, frontend, database schema) reports one version"
CLAIM_RESIDUE = "US3: safeguards leave nothing behind: no open deploy lock, marker or temporary file on any host"
CLAIM_NO_CHANGE = "US3: deploying the version already live changes nothing and restarts nothing"


def judge_components_at(history: History, request: CheckRequest) -> CheckResult:
    """From the newest components sample: every component at `version` (or at the scenario's baseline)."""
    p = request.params
    expected = history.baseline_version() if p.get("baseline") else p["version"]
    sample = history.last_production("components")
    versions = dict(sample.get("versions") or {})
    measured = {"components": len(versions), "expected": expected}
    off = {k: v for k, v in versions.items() if v != expected}
    if not versions or off:
        return CheckResult(
            CLAIM_COMPONENTS,
            Verdict.FAILED,
            f"not every component reports {expected}: {off or 'no component answered'}",
            measured,
            evidence={"versions": versions, "errors": sample.get("errors")},
        )
    return CheckResult(CLAIM_COMPONENTS, Verdict.PASSED, f"all {len(versions)} components report {expected}", measured)


def judge_no_residue(history: History, request: CheckRequest) -> CheckResult:
    """From the newest residue read: no open deploy transaction and no deploy temporary file on any host."""
    read = history.last("production.residue", "a look for leftovers of earlier deploys on the production hosts")
    if read.get("error"):
        raise MissingObservation(f"production's leftovers could not be listed: {read['error']}")
    files = {host: paths for host, paths in (read.get("files") or {}).items() if paths}
    txns = read.get("open_transactions") or []
    measured = {"hosts_checked": len(read.get("files") or {}), "open_transactions": len(txns)}
    if files or txns:
        return CheckResult(
            CLAIM_RESIDUE,
            Verdict.FAILED,
            f"left behind: open deploy transactions {txns}, files {files}",
            measured,
            evidence={"files": files, "open_transactions": txns},
        )
    return CheckResult(CLAIM_RESIDUE, Verdict.PASSED, "no open deploy lock and no deploy temporary file", measured)


def judge_no_change(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: each host's backend start time before and after the redeploy, and the deploy's recap."""
    starts = history.of("production.backend_started")
    if len(starts) < 2:
        raise MissingObservation("the journal lacks backend start times from before and after the redeploy")
    before, after = starts[-2]["started"], starts[-1]["started"]
    restarted = sorted(h for h in after if before.get(h) != after.get(h))
    log = "\n".join(history.job_log(job["id"]) for job in history.jobs(request.params["run_id"]))
    changes = {host: int(n) for host, n in RECAP.findall(log)}
    measured = {"hosts_restarted": len(restarted), "changed_tasks": sum(changes.values())}
    if not changes:
        raise MissingObservation("the redeploy's log has no Ansible PLAY RECAP to read its changes from")
    if restarted or any(changes.values()):
        return CheckResult(
            CLAIM_NO_CHANGE,
            Verdict.FAILED,
            f"redeploying the live version restarted {restarted or 'nothing'} and changed {changes}",
            measured,
            evidence={"started_before": before, "started_after": after, "recap_changed": changes},
        )
    return CheckResult(
        CLAIM_NO_CHANGE, Verdict.PASSED, f"changed=0 on {sorted(changes)} and no backend restarted", measured
    )

"""US2 diagnosis: a failed deploy names its failure class, severity and runbook in the job summary."""

from __future__ import annotations

import re
from collections.abc import Mapping

from harness.checks.history import History
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM = "US2: a failed deploy is classified with severity and runbook in the job summary"
ROW = re.compile(r"^\|\s*(class|severity|runbook|runner)\s*\|\s*(.*?)\s*\|\s*$", re.MULTILINE)


def summary_fields(summary: str) -> dict[str, str]:
    """The class/severity/runbook/runner rows of a diagnosis summary table."""
    return {key: value for key, value in ROW.findall(summary)}


def check_classification(
    summaries: Mapping[str, str], *, expected_class: str, severity: str, runbook: str
) -> CheckResult:
    """Verdict: some job's summary classifies the failure as expected, with that severity and runbook."""
    found = {job: summary_fields(text) for job, text in summaries.items() if summary_fields(text)}
    expected = {"class": expected_class, "severity": severity, "runbook": runbook}
    evidence = {"summaries": dict(summaries)}
    if not found:
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            "no job summary carries a failure diagnosis (class, severity, runbook): the responder is told nothing",
            {},
            evidence=evidence,
        )
    for job, fields in found.items():
        if (
            fields.get("class") == expected_class
            and fields.get("severity") == severity
            and runbook in fields.get("runbook", "")
        ):
            return CheckResult(
                CLAIM,
                Verdict.PASSED,
                f"job {job!r} diagnosed {expected_class} ({severity}), runbook {fields.get('runbook')}",
                {"diagnosis": fields},
                evidence=evidence,
            )
    job, fields = next(iter(found.items()))
    return CheckResult(
        CLAIM,
        Verdict.FAILED,
        f"the failure was diagnosed as {fields.get('class')!r} ({fields.get('severity')}, runbook "
        f"{fields.get('runbook')!r}) in job {job!r}; expected {expected}",
        {"diagnosis": fields},
        evidence=evidence,
    )


def check_cause_named(logs: Mapping[str, str], cause: str) -> CheckResult:
    """Verdict: the failed run's job logs name `cause` (case-insensitively), in words a responder can act on."""
    claim = "a deploy stopped before production names its cause in the job log"
    where = [job for job, text in logs.items() if cause.lower() in text.lower()]
    if not logs:
        return CheckResult(claim, Verdict.INCONCLUSIVE, "no job log of the run was recorded")
    if where:
        return CheckResult(claim, Verdict.PASSED, f"the log of {where[0]!r} names {cause!r}", {"named_in": where})
    return CheckResult(
        claim,
        Verdict.FAILED,
        f"the failed deploy's logs do not name the cause {cause!r}",
        evidence={"log_tails": {job: text[-3000:] for job, text in logs.items()}},
    )


def _run_jobs(history: History, run_id: int) -> list[dict]:
    return history.jobs(run_id)


def judge_classification(history: History, request: CheckRequest) -> CheckResult:
    """From the journalled job summaries of the run."""
    p = request.params
    summaries = {
        job["name"]: str(history.job_detail(job["id"]).get("summary") or "") for job in _run_jobs(history, p["run_id"])
    }
    return check_classification(
        summaries, expected_class=p["failure_class"], severity=p["severity"], runbook=p["runbook"]
    )


def judge_cause_named(history: History, request: CheckRequest) -> CheckResult:
    """From the journalled job logs of the run."""
    p = request.params
    logs = {job["name"]: history.job_log(job["id"]) for job in _run_jobs(history, p["run_id"])}
    return check_cause_named(logs, p["cause"])

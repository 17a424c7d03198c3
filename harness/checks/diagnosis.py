"""US2 diagnosis: a failed deploy names its failure class, severity and runbook in the job summary."""

from __future__ import annotations

import re
from collections.abc import Mapping

from harness.core.types import CheckResult, Verdict

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

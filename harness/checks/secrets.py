"""SC-004: no secret value (each line of a multi-line secret included) in any log or artifact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from harness.checks.history import History
from harness.core.redact import REDACTED, leaks
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM = "SC-004: no secret appears in any job log, artifact or report"


def check_no_secret_leak(texts: Mapping[str, str], secrets: Iterable[str]) -> CheckResult:
    """Verdict over named texts (job logs, artifacts): FAILED naming where a secret fragment occurs."""
    secrets = list(secrets)
    found = {name: leaks(text, secrets) for name, text in texts.items()}
    found = {name: hits for name, hits in found.items() if hits}
    measured = {"texts_checked": len(texts), "secrets_checked": len(secrets)}
    if not secrets:
        return CheckResult(CLAIM, Verdict.INCONCLUSIVE, "no secret values were known to check against", measured)
    if found:
        return CheckResult(
            CLAIM, Verdict.FAILED, f"secret material appears in {sorted(found)}", measured, evidence={"where": found}
        )
    return CheckResult(CLAIM, Verdict.PASSED, f"no secret fragment in {len(texts)} log(s)", measured)


def check_no_redaction_marks(texts: Mapping[str, str], secrets_known: int) -> CheckResult:
    """Verdict over recorded texts: the journal redacts every secret it is handed with REDACTED, so a
    REDACTED in a recorded job log or summary means the pipeline let a secret through unmasked."""
    found = {name: text.count(REDACTED) for name, text in texts.items() if REDACTED in text}
    measured = {"texts_checked": len(texts), "secrets_checked": secrets_known}
    if not secrets_known:
        return CheckResult(CLAIM, Verdict.INCONCLUSIVE, "no secret values were known to check against", measured)
    if found:
        lines = {name: [line for line in texts[name].splitlines() if REDACTED in line][:5] for name in sorted(found)}
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"secret material appears in {sorted(found)}",
            measured,
            evidence={"fragments_per_text": found, "lines (secrets redacted)": lines},
        )
    return CheckResult(CLAIM, Verdict.PASSED, f"no secret fragment in {len(texts)} log(s) and summaries", measured)


def judge_no_secret_leak(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the newest recorded log and summary of every job of the scenario's runs."""
    texts: dict[str, str] = {}
    for entry in history.of("github.job_log"):
        texts[f"job {entry['job_id']} log"] = str(entry["log"])
    for entry in history.of("github.job"):
        texts[f"job {entry['job_id']} summary"] = str(entry["job"].get("summary") or "")
    return check_no_redaction_marks(texts, int(request.params["secrets_known"]))

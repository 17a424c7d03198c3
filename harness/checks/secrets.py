"""SC-004: no secret value (each line of a multi-line secret included) in any log or artifact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from harness.core.redact import leaks
from harness.core.types import CheckResult, Verdict

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

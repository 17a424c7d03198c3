"""SC-004 leak check over job logs."""

from __future__ import annotations

from harness.checks.secrets import check_no_secret_leak
from harness.core.types import Verdict

KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
    "QyNTUxOQAAACDkZXBsb3kta2V5LWZvci10ZXN0\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)


def test_clean_logs_pass() -> None:
    result = check_no_secret_leak({"deploy": "deploying 1.1.0\nproduction serves 1.1.0"}, [KEY])
    assert result.verdict is Verdict.PASSED
    assert result.measured == {"texts_checked": 1, "secrets_checked": 1}


def test_one_line_of_a_multiline_key_is_a_finding_without_revealing_it() -> None:
    line = KEY.splitlines()[2]
    result = check_no_secret_leak({"deploy": f"+ echo {line}", "select": "ok"}, [KEY])
    assert result.verdict is Verdict.FAILED
    assert list(result.evidence["where"]) == ["deploy"]
    assert line not in repr(result.to_dict())


def test_no_known_secrets_is_inconclusive() -> None:
    assert check_no_secret_leak({"deploy": "x"}, []).verdict is Verdict.INCONCLUSIVE

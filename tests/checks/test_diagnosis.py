"""US2 diagnosis check over job summaries: parse the diagnose.sh table, compare class, severity and runbook."""

from __future__ import annotations

from harness.checks.diagnosis import check_classification, summary_fields
from harness.core.types import Verdict


def table(klass: str, severity: str, runbook: str, runner: str = "runner-x") -> str:
    return (
        f"## Deploy failure: {klass} ({severity})\n\n"
        "| field | value |\n|---|---|\n"
        f"| class | {klass} |\n| severity | {severity} |\n| runner | {runner} |\n"
        "| load (1 min) | 0.42 |\n| memory used | 37% |\n| disk used | 61% |\n"
        f"| runbook | {runbook} |\n"
    )


AUTH = table("authentication", "critical", "runbooks/secrets-expired-rotation.md")
NETWORK = table("network_connectivity", "critical", "runbooks/runner-network-unreachable.md", "runner-primary")


def test_summary_fields_reads_the_diagnosis_rows_only() -> None:
    assert summary_fields(AUTH) == {
        "class": "authentication",
        "severity": "critical",
        "runner": "runner-x",
        "runbook": "runbooks/secrets-expired-rotation.md",
    }


def test_summary_fields_tolerates_padding_and_surrounding_text() -> None:
    text = "deploy log summary\n\n|  class  |   timeout   |\n| severity|high|\nsome trailing prose\n"
    assert summary_fields(text) == {"class": "timeout", "severity": "high"}


def test_summary_without_a_diagnosis_has_no_fields() -> None:
    assert summary_fields("") == {}
    assert summary_fields("### Deployed 1.4.2 to prod-web-1\n| host | version |\n| prod-web-1 | 1.4.2 |\n") == {}


def test_matching_classification_passes_and_names_the_job() -> None:
    result = check_classification(
        {"select-runner": "", "preflight": AUTH},
        expected_class="authentication",
        severity="critical",
        runbook="runbooks/secrets-expired-rotation.md",
    )
    assert result.verdict is Verdict.PASSED
    assert "preflight" in result.message
    assert result.measured["diagnosis"]["class"] == "authentication"


def test_runbook_is_matched_as_a_substring() -> None:
    result = check_classification(
        {"preflight": AUTH}, expected_class="authentication", severity="critical", runbook="secrets-expired-rotation"
    )
    assert result.verdict is Verdict.PASSED


def test_runbook_that_is_not_a_substring_fails() -> None:
    result = check_classification(
        {"preflight": AUTH}, expected_class="authentication", severity="critical", runbook="runner-network-unreachable"
    )
    assert result.verdict is Verdict.FAILED


def test_wrong_class_fails_naming_found_and_expected() -> None:
    result = check_classification(
        {"deploy": NETWORK}, expected_class="authentication", severity="critical", runbook="secrets-expired-rotation"
    )
    assert result.verdict is Verdict.FAILED
    assert "network_connectivity" in result.message
    assert "authentication" in result.message
    assert "deploy" in result.message
    assert result.measured["diagnosis"]["class"] == "network_connectivity"


def test_wrong_severity_fails() -> None:
    wrong = table("authentication", "high", "runbooks/secrets-expired-rotation.md")
    result = check_classification(
        {"preflight": wrong}, expected_class="authentication", severity="critical", runbook="secrets-expired-rotation"
    )
    assert result.verdict is Verdict.FAILED
    assert "high" in result.message and "critical" in result.message


def test_any_job_with_the_expected_diagnosis_passes() -> None:
    result = check_classification(
        {"deploy": NETWORK, "preflight": AUTH},
        expected_class="authentication",
        severity="critical",
        runbook="secrets-expired-rotation",
    )
    assert result.verdict is Verdict.PASSED
    assert "preflight" in result.message


def test_no_summary_with_a_diagnosis_fails() -> None:
    summaries = {"preflight": "", "deploy": "### Deployed 1.4.2\n"}
    result = check_classification(
        summaries, expected_class="authentication", severity="critical", runbook="secrets-expired-rotation"
    )
    assert result.verdict is Verdict.FAILED
    assert "no job summary" in result.message
    assert result.evidence["summaries"] == summaries


def test_no_summaries_at_all_fails() -> None:
    result = check_classification({}, expected_class="unknown", severity="high", runbook="")
    assert result.verdict is Verdict.FAILED


def test_result_serialises() -> None:
    data = check_classification(
        {"preflight": AUTH}, expected_class="authentication", severity="critical", runbook="secrets-expired-rotation"
    ).to_dict()
    assert data["verdict"] == "passed"
    assert data["evidence"]["summaries"]["preflight"] == AUTH

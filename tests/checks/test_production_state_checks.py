"""harness.checks.production: the state file's current_version / previous_version (US3: deploy X ->
rollback -> deploy X), and the state-file check it shares its verdict with."""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks.history import History, MissingObservation
from harness.checks.production import CLAIM_STATE_VERSIONS, judge_state_file, judge_state_versions
from harness.checks.registry import evaluate
from harness.core.errors import ConfigError
from harness.core.types import CheckRequest, Verdict


def entry(op: str, seq: int, **data: Any) -> dict[str, Any]:
    return {"seq": seq, "op": op, "type": "info", "ts_ms": 1000 + seq, **data}


def history(*reads: dict[str, Any], baseline: str = "1.0.0") -> History:
    entries = [entry("scenario.baseline", 0, version=baseline)]
    entries += [entry("production.state_file", i + 1, **read) for i, read in enumerate(reads)]
    return History(entries)


def state(current: str, previous: str | None, **more: Any) -> dict[str, Any]:
    return {"state": {"current_version": current, "previous_version": previous, **more}}


def test_after_a_rollback_the_release_left_is_previous_and_the_baseline_current() -> None:
    result = judge_state_versions(
        history(state("1.0.0", "10.0.0")),
        CheckRequest("state_versions", {"current_is_baseline": True, "previous": "10.0.0"}),
    )
    assert result.verdict is Verdict.PASSED and result.claim == CLAIM_STATE_VERSIONS
    assert result.measured == {"recorded": {"current_version": "1.0.0", "previous_version": "10.0.0"}}


def test_after_the_redeploy_the_baseline_is_previous_again() -> None:
    request = CheckRequest("state_versions", {"current": "10.0.0", "previous_is_baseline": True})
    assert judge_state_versions(history(state("10.0.0", "1.0.0")), request).verdict is Verdict.PASSED


def test_a_previous_version_that_did_not_advance_is_a_finding_naming_both() -> None:
    # a rollback that rewrote current_version only: previous still the one before the deploy of 10.0.0
    result = judge_state_versions(
        history(state("1.0.0", "1.0.0")),
        CheckRequest("state_versions", {"current_is_baseline": True, "previous": "10.0.0"}),
    )
    assert result.verdict is Verdict.FAILED
    assert "records {'current_version': '1.0.0', 'previous_version': '1.0.0'}" in result.message
    assert "expected {'current_version': '1.0.0', 'previous_version': '10.0.0'}" in result.message


def test_only_the_newest_read_counts() -> None:
    request = CheckRequest("state_versions", {"current": "10.0.0", "previous": "1.0.0"})
    stale_then_new = history(state("10.0.0", "1.0.0"), state("1.0.0", "10.0.0"))
    assert judge_state_versions(stale_then_new, request).verdict is Verdict.FAILED


def test_an_unreadable_state_file_is_a_finding() -> None:
    result = judge_state_versions(
        history({"error": "not JSON: '{'"}), CheckRequest("state_versions", {"current": "1", "previous": "2"})
    )
    assert result.verdict is Verdict.FAILED and "unusable" in result.message


def test_no_read_is_inconclusive_never_a_pass() -> None:
    with pytest.raises(MissingObservation):
        judge_state_versions(history(), CheckRequest("state_versions", {"current": "1", "previous": "2"}))
    request = CheckRequest("state_versions", {"current": "1", "previous_is_baseline": True})
    assert evaluate([entry("scenario.baseline", 0, version="1")], request).verdict is Verdict.INCONCLUSIVE


def test_a_request_without_both_versions_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="previous"):
        judge_state_versions(history(state("1", "2")), CheckRequest("state_versions", {"current": "1"}))


def test_the_deploy_state_check_keeps_its_own_claim() -> None:
    result = judge_state_file(
        history(state("2.0.0", "1.0.0", deploy_runner="runner-primary")),
        CheckRequest("state_file", {"version": "2.0.0", "runner": "runner-primary"}),
    )
    assert result.verdict is Verdict.PASSED and result.claim.startswith("US3: the state file records")


@pytest.mark.parametrize(
    ("conclusion", "verdict"),
    [("failure", Verdict.PASSED), ("success", Verdict.FAILED), (None, Verdict.INCONCLUSIVE)],
)
def test_run_failed_blames_the_pipeline_only_for_a_run_that_completed(conclusion: str | None, verdict: Verdict) -> None:
    from harness.checks.production import judge_run_failed

    run = {"id": 7, "status": "completed" if conclusion else "in_progress", "conclusion": conclusion}
    result = judge_run_failed(
        History([entry("github.run", 1, run_id=7, run=run)]), CheckRequest("run_failed", {"run_id": 7})
    )
    assert result.verdict is verdict
    if verdict is Verdict.FAILED:
        assert result.message == "the deploy run concluded 'success', not failure"

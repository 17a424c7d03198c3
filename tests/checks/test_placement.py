"""check_ran_on verdicts from synthetic event logs."""

from __future__ import annotations

from harness.checks.placement import check_ran_on
from harness.core.types import Verdict


def ev(kind: str, ts: int, **fields: object) -> dict[str, object]:
    return {"type": kind, "ts_ms": ts, "run_id": 7, "job_key": "deploy", **fields}


def test_started_on_expected_runner_passes_with_queue_time() -> None:
    events = [ev("job.queued", 1000), ev("job.started", 1450, runner_name="runner-primary")]
    result = check_ran_on(events, run_id=7, job_key="deploy", expected_runner="runner-primary", trigger_ms=1000)
    assert result.verdict is Verdict.PASSED
    assert result.measured == {"runner": "runner-primary", "trigger_to_start_s": 0.45}


def test_started_elsewhere_is_a_finding() -> None:
    events = [ev("job.started", 1450, runner_name="runner-secondary")]
    result = check_ran_on(events, run_id=7, job_key="deploy", expected_runner="runner-primary", trigger_ms=1000)
    assert result.verdict is Verdict.FAILED
    assert "runner-secondary" in result.message


def test_other_runs_are_ignored_and_no_start_is_inconclusive() -> None:
    events = [{"type": "job.started", "ts_ms": 5, "run_id": 8, "job_key": "deploy", "runner_name": "runner-primary"}]
    result = check_ran_on(events, run_id=7, job_key="deploy", expected_runner="runner-primary", trigger_ms=1)
    assert result.verdict is Verdict.INCONCLUSIVE


def test_skipped_job_is_a_finding() -> None:
    events = [ev("job.skipped", 1200, conclusion="skipped")]
    result = check_ran_on(events, run_id=7, job_key="deploy", expected_runner="runner-primary", trigger_ms=1000)
    assert result.verdict is Verdict.FAILED

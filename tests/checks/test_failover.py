"""harness.checks.failover: verdicts on failover computed from synthetic event logs."""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks.failover import check_failover, first_unhealthy_ms, job_events
from harness.core.types import Verdict

RUN = 7
JOB = "deploy"
SECONDARY = "runner-secondary"
PRIMARY = "runner-primary"
LABELS = ["self-hosted", "production", "secondary"]
ONSET = 1_700_000_000_000  # fault injected (ms)
SEEN = ONSET + 12_000  # primary seen unhealthy 12 s later
BUDGET = 30.0


def ev(kind: str, ts_ms: int, run_id: int = RUN, job_key: str = JOB, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "ts_ms": ts_ms, "run_id": run_id, "job_key": job_key, **extra}


def queued(ts_ms: int, **extra: Any) -> dict[str, Any]:
    return ev("job.queued", ts_ms, labels=LABELS, **extra)


def started(ts_ms: int, runner: str = SECONDARY, **extra: Any) -> dict[str, Any]:
    return ev("job.started", ts_ms, runner_name=runner, **extra)


def check(events: list[dict[str, Any]], observed_until_ms: int | None = None, **overrides: Any):
    kwargs: dict[str, Any] = {
        "run_id": RUN,
        "job_key": JOB,
        "expected_runner": SECONDARY,
        "fault_onset_ms": ONSET,
        "seen_unhealthy_ms": SEEN,
        "budget_s": BUDGET,
        "observed_until_ms": observed_until_ms if observed_until_ms is not None else SEEN + 60_000,
    }
    kwargs.update(overrides)
    return check_failover(events, **kwargs)


def test_passed_on_secondary_within_budget() -> None:
    events = [queued(SEEN + 1_000), started(SEEN + 15_250)]
    result = check(events)
    assert result.verdict is Verdict.PASSED
    assert result.measured["failover_s"] == 15.25
    assert result.measured["detection_s"] == 12.0
    assert result.measured["fault_onset_to_start_s"] == 27.25
    assert result.measured["runner"] == SECONDARY
    assert result.budget == {"failover_budget_s": BUDGET}
    assert result.evidence["expected_runner"] == SECONDARY
    assert result.evidence["job_events"] == events
    assert SECONDARY in result.message
    assert "15.250 s" in result.message
    assert result.to_dict()["verdict"] == "passed"


def test_failover_is_measured_from_seen_unhealthy_not_from_onset() -> None:
    # 25 s after being seen unhealthy, 37 s after the onset: within the 30 s budget.
    result = check([started(SEEN + 25_000)])
    assert result.verdict is Verdict.PASSED
    assert result.measured["failover_s"] == 25.0
    assert result.measured["fault_onset_to_start_s"] == 37.0


def test_exactly_at_the_budget_passes() -> None:
    result = check([started(SEEN + 30_000)])
    assert result.verdict is Verdict.PASSED
    assert result.measured["failover_s"] == 30.0


def test_failed_when_started_on_the_wrong_runner() -> None:
    result = check([queued(SEEN), started(SEEN + 5_000, runner=PRIMARY)])
    assert result.verdict is Verdict.FAILED
    assert result.measured["runner"] == PRIMARY
    assert repr(PRIMARY) in result.message
    assert repr(SECONDARY) in result.message


def test_failed_when_over_budget() -> None:
    result = check([queued(SEEN), started(SEEN + 30_001)])
    assert result.verdict is Verdict.FAILED
    assert result.measured["failover_s"] == 30.001
    assert "over the 30 s budget" in result.message
    assert "30.001" in result.message


def test_failed_when_still_queued() -> None:
    result = check([queued(SEEN + 500)], observed_until_ms=SEEN + 31_000)
    assert result.verdict is Verdict.FAILED
    assert "did not start on any runner within 30 s" in result.message
    assert "still queued" in result.message
    assert str(LABELS) in result.message
    assert "failover_s" not in result.measured
    assert result.measured["detection_s"] == 12.0


def test_failed_when_ended_failure_without_starting() -> None:
    events = [queued(SEEN + 500), ev("job.completed", SEEN + 20_000, conclusion="failure")]
    result = check(events, observed_until_ms=SEEN + 40_000)
    assert result.verdict is Verdict.FAILED
    assert "ended failure without starting" in result.message


def test_failed_when_no_events_at_all_after_the_budget() -> None:
    result = check([], observed_until_ms=SEEN + 30_000)
    assert result.verdict is Verdict.FAILED
    assert "still queued for labels ?" in result.message


def test_inconclusive_when_observation_ended_before_the_budget_elapsed() -> None:
    result = check([queued(SEEN + 500)], observed_until_ms=SEEN + 20_000)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "10.0 s before the failover budget elapsed" in result.message
    assert result.to_dict()["verdict"] == "inconclusive"


def test_a_start_seen_early_is_decided_even_if_observation_ended_early() -> None:
    result = check([started(SEEN + 3_000)], observed_until_ms=SEEN + 4_000)
    assert result.verdict is Verdict.PASSED


def test_events_of_other_runs_and_jobs_are_ignored() -> None:
    events = [
        started(SEEN + 1_000, run_id=RUN + 1),
        started(SEEN + 1_000, job_key="select-runner"),
        queued(SEEN + 2_000),
    ]
    result = check(events, observed_until_ms=SEEN + 60_000)
    assert result.verdict is Verdict.FAILED
    assert result.evidence["job_events"] == [events[2]]


def test_first_start_is_the_one_judged() -> None:
    result = check([started(SEEN + 5_000, runner=PRIMARY), started(SEEN + 6_000)])
    assert result.verdict is Verdict.FAILED
    assert result.measured["runner"] == PRIMARY


def test_job_events_filters_by_job_and_optional_run() -> None:
    events = [started(1), started(2, run_id=RUN + 1), started(3, job_key="other")]
    assert job_events(events, JOB, RUN) == [events[0]]
    assert job_events(events, JOB) == [events[0], events[1]]


# --- first_unhealthy_ms ----------------------------------------------------------------------

ONSET_S = ONSET / 1000


def test_first_zero_at_or_after_onset() -> None:
    samples = [(ONSET_S - 15, 1.0), (ONSET_S + 15, 1.0), (ONSET_S + 30, 0.0), (ONSET_S + 45, 0.0)]
    assert first_unhealthy_ms(samples, ONSET) == ONSET + 30_000


def test_zeros_before_onset_are_ignored() -> None:
    samples = [(ONSET_S - 30, 0.0), (ONSET_S - 15, 0.0), (ONSET_S + 1, 1.0), (ONSET_S + 16, 0.0)]
    assert first_unhealthy_ms(samples, ONSET) == ONSET + 16_000


def test_zero_exactly_at_onset_counts() -> None:
    assert first_unhealthy_ms([(ONSET_S, 0.0)], ONSET) == ONSET


def test_no_zero_after_onset_is_none() -> None:
    assert first_unhealthy_ms([(ONSET_S - 1, 0.0), (ONSET_S + 1, 1.0)], ONSET) is None
    assert first_unhealthy_ms([], ONSET) is None


@pytest.mark.parametrize(("ts", "expected"), [(ONSET_S + 1.0004, ONSET + 1_000), (ONSET_S + 1.0006, ONSET + 1_001)])
def test_timestamps_are_rounded_to_ms(ts: float, expected: int) -> None:
    assert first_unhealthy_ms([(ts, 0.0)], ONSET) == expected


def test_detection_budget_adds_stale_threshold_heartbeat_and_scrape() -> None:
    from harness.checks.failover import detection_budget

    timers = {
        "exporter_stale_after_s": 5.0,
        "runner_heartbeat_s": 1.0,
        "scrape_interval_s": 1.0,
        "scrape_timeout_s": 1.0,
    }
    assert detection_budget(timers) == 10.0
    assert detection_budget(timers, margin_s=0) == 8.0


def test_check_detected_verdicts() -> None:
    from harness.checks.failover import check_detected
    from harness.core.types import Verdict

    onset = 100_000
    seen = check_detected(
        [(99.0, 1.0), (101.0, 1.0), (103.5, 0.0)],
        onset_ms=onset,
        budget_s=10,
        observed_until_ms=onset + 4000,
        what="the primary runner",
    )
    assert seen.verdict is Verdict.PASSED and seen.measured["detection_s"] == 3.5
    blind = check_detected(
        [(101.0, 1.0), (111.0, 1.0)],
        onset_ms=onset,
        budget_s=10,
        observed_until_ms=onset + 11_000,
        what="the primary runner",
    )
    assert blind.verdict is Verdict.FAILED and "still reported the primary runner healthy" in blind.message
    late = check_detected([(112.0, 0.0)], onset_ms=onset, budget_s=10, observed_until_ms=onset + 13_000, what="x")
    assert late.verdict is Verdict.FAILED
    early = check_detected([(101.0, 1.0)], onset_ms=onset, budget_s=10, observed_until_ms=onset + 2000, what="x")
    assert early.verdict is Verdict.INCONCLUSIVE

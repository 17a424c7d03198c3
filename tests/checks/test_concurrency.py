"""Deploy concurrency verdicts from synthetic event logs."""

from __future__ import annotations

from harness.checks.concurrency import check_exclusive, check_superseded, job_intervals
from harness.core.types import Verdict


def ev(kind: str, ts: int, run: int, **fields: object) -> dict[str, object]:
    return {"type": kind, "ts_ms": ts, "run_id": run, "job_key": "deploy", **fields}


SERIAL = [
    ev("job.started", 100, 1, runner_name="runner-primary"),
    ev("job.completed", 300, 1),
    ev("job.pending", 150, 2),
    ev("job.completed", 200, 2, conclusion="cancelled"),
    ev("job.started", 310, 3, runner_name="runner-primary"),
    ev("job.completed", 500, 3),
]


def test_intervals_only_for_started_jobs() -> None:
    assert [(i["run_id"], i["start_ms"], i["end_ms"]) for i in job_intervals(SERIAL, [1, 2, 3], "deploy")] == [
        (1, 100, 300),
        (3, 310, 500),
    ]


def test_serial_deploys_pass() -> None:
    result = check_exclusive(SERIAL, [1, 2, 3], "deploy")
    assert result.verdict is Verdict.PASSED
    assert result.measured == {"deploys_started": 2, "overlaps": 0}


def test_overlap_is_a_finding_naming_both_runs_and_runners() -> None:
    events = [
        ev("job.started", 100, 1, runner_name="runner-primary"),
        ev("job.completed", 400, 1),
        ev("job.started", 250, 2, runner_name="runner-secondary"),
        ev("job.completed", 500, 2),
    ]
    result = check_exclusive(events, [1, 2], "deploy")
    assert result.verdict is Verdict.FAILED
    assert "runs 1 (on runner-primary) and 2 (on runner-secondary) ran at the same time for 0.150 s" in result.message


def test_still_running_is_inconclusive() -> None:
    assert check_exclusive([ev("job.started", 100, 1)], [1], "deploy").verdict is Verdict.INCONCLUSIVE


def test_superseded_pending_deploy_passes() -> None:
    assert check_superseded(SERIAL, 2, 3, "deploy").verdict is Verdict.PASSED


def test_older_deploy_that_ran_is_a_finding() -> None:
    events = [
        ev("job.queued", 150, 2),
        ev("job.started", 310, 2),
        ev("job.completed", 400, 2, conclusion="success"),
        ev("job.started", 410, 3),
        ev("job.completed", 500, 3, conclusion="success"),
    ]
    result = check_superseded(events, 2, 3, "deploy")
    assert result.verdict is Verdict.FAILED
    assert "ran and concluded 'success' instead of being cancelled" in result.message


def test_unsettled_runs_are_inconclusive() -> None:
    assert check_superseded([ev("job.pending", 150, 2)], 2, 3, "deploy").verdict is Verdict.INCONCLUSIVE


def test_an_older_deploy_that_ran_is_a_finding_even_if_the_newest_never_started() -> None:
    # no concurrency group, a loaded machine: run 2 ran after run 1; run 3's job hit its queue timeout
    events = [
        ev("job.started", 310, 2),
        ev("job.completed", 400, 2, conclusion="success"),
        ev("job.queued", 150, 3),
        ev("job.completed", 380, 3, conclusion="failure"),
    ]
    result = check_superseded(events, 2, 3, "deploy")
    assert result.verdict is Verdict.FAILED
    assert "ran and concluded 'success' instead of being cancelled" in result.message


def test_a_newest_deploy_that_never_ran_after_the_older_was_cancelled_is_a_finding() -> None:
    events = [ev("job.completed", 200, 2, conclusion="cancelled"), ev("job.completed", 380, 3, conclusion="failure")]
    result = check_superseded(events, 2, 3, "deploy")
    assert result.verdict is Verdict.FAILED
    assert "the newest (run 3) never ran" in result.message
    pending = [ev("job.completed", 200, 2, conclusion="cancelled"), ev("job.pending", 210, 3)]
    assert check_superseded(pending, 2, 3, "deploy").verdict is Verdict.INCONCLUSIVE

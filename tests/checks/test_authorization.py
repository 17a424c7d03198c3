"""check_authorized_only verdicts from synthetic event logs, and through the registry."""

from __future__ import annotations

from harness.checks.authorization import check_authorized_only
from harness.checks.registry import evaluate
from harness.core.types import CheckRequest, Verdict

UNAUTHORIZED = ["runner-build"]


def ev(kind: str, ts: int, run_id: int = 7, **fields: object) -> dict[str, object]:
    return {"type": kind, "ts_ms": ts, "run_id": run_id, **fields}


def started(job: str, runner: str, ts: int = 1000) -> dict[str, object]:
    return ev("job.started", ts, job_key=job, runner_name=runner)


def test_every_job_on_authorized_runners_and_run_completed_passes() -> None:
    events = [started("preflight", "hosted-1"), started("deploy", "runner-secondary"), ev("run.completed", 9000)]
    result = check_authorized_only(events, run_id=7, unauthorized=UNAUTHORIZED)
    assert result.verdict is Verdict.PASSED
    assert result.measured["jobs_on"] == {"preflight": "hosted-1", "deploy": "runner-secondary"}


def test_a_job_on_the_unauthorized_runner_is_a_finding_even_before_the_run_ends() -> None:
    events = [started("deploy", "runner-build")]
    result = check_authorized_only(events, run_id=7, unauthorized=UNAUTHORIZED)
    assert result.verdict is Verdict.FAILED
    assert "'runner-build'" in result.message and "deploy" in result.message


def test_an_unfinished_run_is_inconclusive_not_a_pass() -> None:
    result = check_authorized_only([started("deploy", "runner-primary")], run_id=7, unauthorized=UNAUTHORIZED)
    assert result.verdict is Verdict.INCONCLUSIVE


def test_without_an_unauthorized_runner_nothing_was_tested() -> None:
    events = [started("deploy", "runner-primary"), ev("run.completed", 9000)]
    assert check_authorized_only(events, run_id=7, unauthorized=[]).verdict is Verdict.INCONCLUSIVE


def test_other_runs_do_not_count() -> None:
    events = [ev("job.started", 10, run_id=8, job_key="deploy", runner_name="runner-build"), ev("run.completed", 90)]
    assert check_authorized_only(events, run_id=7, unauthorized=UNAUTHORIZED).verdict is Verdict.PASSED


def test_the_registry_judges_it_from_journal_entries() -> None:
    event = started("deploy", "runner-build")
    entries = [{"v": 2, "seq": 1, "op": "github.event", "type": "info", "ts_ms": 5, "event": event}]
    request = CheckRequest("authorized_only", params={"run_id": 7, "unauthorized": UNAUTHORIZED})
    assert evaluate(entries, request).verdict is Verdict.FAILED

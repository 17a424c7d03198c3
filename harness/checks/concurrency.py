"""Concurrency of production deploys: never two at once; a newer pending deploy supersedes an older one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.checks.history import History
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM_EXCLUSIVE = "US1: at most one production deploy runs at any instant"
CLAIM_SUPERSEDE = "US1: a newer pending deploy cancels the older pending one (GitHub concurrency semantics)"


def job_intervals(events: Sequence[dict[str, Any]], run_ids: Sequence[int], job_key: str) -> list[dict[str, Any]]:
    """[start, end] (ms) of every started `job_key` job of `run_ids`; end None while still running."""
    intervals = []
    for run_id in run_ids:
        mine = [e for e in events if e.get("run_id") == run_id and e.get("job_key") == job_key]
        start = next((e for e in mine if e["type"] == "job.started"), None)
        if start is None:
            continue
        end = next((e for e in mine if e["type"] == "job.completed"), None)
        intervals.append(
            {
                "run_id": run_id,
                "runner": start.get("runner_name"),
                "start_ms": start["ts_ms"],
                "end_ms": end["ts_ms"] if end else None,
            }
        )
    return sorted(intervals, key=lambda i: i["start_ms"])


def check_exclusive(events: Sequence[dict[str, Any]], run_ids: Sequence[int], job_key: str) -> CheckResult:
    """Verdict: no two `job_key` jobs of `run_ids` ran at the same time."""
    intervals = job_intervals(events, run_ids, job_key)
    if any(i["end_ms"] is None for i in intervals):
        return CheckResult(
            CLAIM_EXCLUSIVE,
            Verdict.INCONCLUSIVE,
            "a deploy job was still running when observed",
            evidence={"intervals": intervals},
        )
    overlaps = [(a, b) for n, a in enumerate(intervals) for b in intervals[n + 1 :] if b["start_ms"] < a["end_ms"]]
    measured = {"deploys_started": len(intervals), "overlaps": len(overlaps)}
    if overlaps:
        a, b = overlaps[0]
        return CheckResult(
            CLAIM_EXCLUSIVE,
            Verdict.FAILED,
            f"deploys of runs {a['run_id']} (on {a['runner']}) and {b['run_id']} (on {b['runner']}) "
            f"ran at the same time for {(a['end_ms'] - b['start_ms']) / 1000:.3f} s",
            measured,
            evidence={"intervals": intervals},
        )
    return CheckResult(
        CLAIM_EXCLUSIVE,
        Verdict.PASSED,
        f"{len(intervals)} deploy jobs ran one at a time",
        measured,
        evidence={"intervals": intervals},
    )


def check_superseded(events: Sequence[dict[str, Any]], older: int, newer: int, job_key: str) -> CheckResult:
    """Verdict: `older`'s `job_key` job never started and concluded cancelled, while `newer`'s ran."""

    def mine(run_id: int) -> list[dict[str, Any]]:
        return [e for e in events if e.get("run_id") == run_id and e.get("job_key") == job_key]

    old, new = mine(older), mine(newer)
    evidence = {"older": old, "newer": new}
    old_started = any(e["type"] == "job.started" for e in old)
    old_end = next((e.get("conclusion") for e in old if e["type"] == "job.completed"), None)
    new_started = any(e["type"] == "job.started" for e in new)
    new_end = next((e.get("conclusion") for e in new if e["type"] == "job.completed"), None)
    if old_end is None:
        return CheckResult(
            CLAIM_SUPERSEDE, Verdict.INCONCLUSIVE, "the runs had not settled when observed", evidence=evidence
        )
    if old_started or old_end != "cancelled":  # decided by the older run alone, whatever the newer did
        ran = "ran" if old_started else "was not started"
        return CheckResult(
            CLAIM_SUPERSEDE,
            Verdict.FAILED,
            f"the older pending deploy (run {older}) {ran} and concluded {old_end!r} instead of being "
            f"cancelled by the newer one (run {newer})",
            evidence=evidence,
        )
    if not new_started:
        if new_end is None:
            return CheckResult(
                CLAIM_SUPERSEDE,
                Verdict.INCONCLUSIVE,
                "the newest deploy had not started when observed",
                evidence=evidence,
            )
        return CheckResult(
            CLAIM_SUPERSEDE,
            Verdict.FAILED,
            f"the older pending deploy (run {older}) was cancelled, but the newest (run {newer}) never ran: "
            f"its deploy concluded {new_end!r} without starting",
            evidence=evidence,
        )
    return CheckResult(
        CLAIM_SUPERSEDE,
        Verdict.PASSED,
        f"run {newer}'s deploy superseded run {older}'s pending deploy",
        evidence=evidence,
    )


def judge_exclusive(history: History, request: CheckRequest) -> CheckResult:
    """From the journalled event log of the runs."""
    return check_exclusive(history.github_events(), request.params["run_ids"], request.params["job_key"])


def judge_superseded(history: History, request: CheckRequest) -> CheckResult:
    """From the journalled event log of the runs."""
    p = request.params
    return check_superseded(history.github_events(), p["older"], p["newer"], p["job_key"])

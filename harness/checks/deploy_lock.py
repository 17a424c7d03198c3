"""US3 stale deploy lock: holds of the lock each shorter than lock_stale_s never page, even back to back.

The page itself (a lock held past lock_stale_s reaches the on-call with DeployLockStale) is judged
by the alert checkers (`alert_delivery`, `alert_resolved`); this is its must-not-fire half. A
rule that adds successive transactions up (one series for "some lock is open") pages for holds
that are each shorter than its `for`; a rule without `for` pages for any deploy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.checks.alerting import notifications
from harness.checks.history import History, MissingObservation
from harness.core.claims import AlertClaim, alert_claim
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM = "US3: a deploy lock held shorter than lock_stale_s never pages, however many holds come back to back"


def seen_holds(series: Sequence[dict[str, Any]], start_ms: int, end_ms: int, step_s: float) -> dict[str, float]:
    """How monitoring saw the lock between `start_ms` and `end_ms`: per transaction (series), seconds seen open."""
    seen: dict[str, float] = {}
    for one in series:
        held = sum(step_s for ts, value in one["values"] if start_ms <= ts * 1000 <= end_ms and value == 1)
        if held > 0:
            labels = one.get("metric", {})
            seen[str(labels.get("txn_id", labels))] = round(held, 3)
    return seen


def check_no_page_for_short_holds(
    messages: Sequence[dict[str, Any]],
    claim: AlertClaim,
    *,
    holds: Sequence[tuple[int, int]],
    for_s: float,
    watch_until_ms: int,
    observed_until_ms: int,
    seen: dict[str, float],
) -> CheckResult:
    """Verdict: no firing notification for `claim` from the first hold's start until `watch_until_ms`.

    `holds` are the (start, end) ms of each hold, each shorter than the alert's (scaled) `for`;
    `seen` is per transaction how long monitoring saw it open: unless it saw every hold, the absence
    of a page proves nothing and the verdict is inconclusive.
    """
    what = f"{claim.alertname}{dict(claim.labels)}"
    start = min(s for s, _ in holds)
    durations = [round((e - s) / 1000, 3) for s, e in holds]
    measured = {
        "holds_s": durations,
        "held_in_all_s": round((max(e for _, e in holds) - start) / 1000, 3),
        "seen_open_s": seen,
        "watched_s": round((observed_until_ms - start) / 1000, 3),
    }
    budget = {"for_s": round(for_s, 3)}
    if any(d >= for_s for d in durations):
        return CheckResult(
            CLAIM,
            Verdict.INCONCLUSIVE,
            f"a hold lasted {max(durations):g} s, not shorter than the alert's `for`",
            measured,
            budget,
        )
    fired = [n for n in notifications(messages, claim, "firing") if n["received_ms"] >= start]
    if fired:
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"{what} paged the on-call for {len(holds)} back-to-back holds of the deploy lock ({durations} s, each "
            f"shorter than its {for_s:g} s `for`; {measured['held_in_all_s']:g} s in all)",
            measured,
            budget,
            {"notification": fired[0]},
        )
    if observed_until_ms < watch_until_ms:
        return CheckResult(CLAIM, Verdict.INCONCLUSIVE, "observation ended too early", measured, budget)
    if len(seen) < len(holds):
        return CheckResult(
            CLAIM,
            Verdict.INCONCLUSIVE,
            f"monitoring saw {len(seen)} of the {len(holds)} transactions open: the absence of a page proves nothing",
            measured,
            budget,
        )
    return CheckResult(
        CLAIM,
        Verdict.PASSED,
        f"no page for {len(holds)} back-to-back holds of {durations} s ({measured['held_in_all_s']:g} s in all; "
        f"watched {measured['watched_s']:.1f} s)",
        measured,
        budget,
    )


def judge_no_page_for_short_holds(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the holds' fault windows, the lock's series and the on-call's messages."""
    p = request.params
    windows = [history.fault(fault_id) for fault_id in p["fault_ids"]]
    holds = []
    for window in windows:
        if window.reverted_ms is None:
            raise MissingObservation(f"the journal has no end of the lock hold {window.fault_id}")
        holds.append((window.onset_ms, window.reverted_ms))
    start, end = min(s for s, _ in holds), max(e for _, e in holds)
    series = history.series(p["lock_selector"])
    return check_no_page_for_short_holds(
        history.oncall_messages(),
        alert_claim(p["alertname"]),
        holds=holds,
        for_s=request.budget("for_s"),
        watch_until_ms=start + int(request.budget("budget_s") * 1000),
        observed_until_ms=history.observed_until("oncall.message"),
        seen=seen_holds(series, start, end + 2000, p["scrape_interval_s"]),
    )

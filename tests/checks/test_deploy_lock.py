"""harness.checks.deploy_lock: short holds of the deploy lock, even back to back, never page."""

from __future__ import annotations

from typing import Any

from harness.checks.deploy_lock import check_no_page_for_short_holds, judge_no_page_for_short_holds, seen_holds
from harness.checks.registry import CHECKERS, evaluate
from harness.core.claims import alert_claim
from harness.core.types import CheckRequest, Verdict

CLAIM = alert_claim("DeployLockStale")
T0 = 1_700_000_000_000
FOR_S = 30.0  # nightly: 900 s x 1/30
HOLDS = [(T0, T0 + 20_000), (T0 + 20_050, T0 + 40_050)]
SEEN = {"41": 20.0, "42": 20.0}


def message(status: str, at_ms: int, alertname: str = "DeployLockStale") -> dict[str, Any]:
    labels = {"alertname": alertname, "severity": "critical", "txn_id": "41"}
    return {"received_ms": at_ms, "path": "/oncall", "body": {"alerts": [{"status": status, "labels": labels}]}}


def verdict(messages: list[dict[str, Any]], **overrides: Any) -> Any:
    args: dict[str, Any] = {
        "holds": HOLDS,
        "for_s": FOR_S,
        "watch_until_ms": T0 + 37_000,
        "observed_until_ms": T0 + 41_000,
        "seen": SEEN,
    }
    args.update(overrides)
    return check_no_page_for_short_holds(messages, CLAIM, **args)


def test_no_page_passes_and_reports_the_holds() -> None:
    result = verdict([message("firing", T0 - 5_000), message("firing", T0 + 5_000, "RunnerOffline")])
    assert result.verdict is Verdict.PASSED, result.message
    assert result.measured["holds_s"] == [20.0, 20.0]
    assert result.measured["held_in_all_s"] == 40.05
    assert "2 back-to-back holds" in result.message


def test_a_page_during_the_holds_is_a_finding() -> None:
    result = verdict([message("firing", T0 + 33_000)])
    assert result.verdict is Verdict.FAILED
    assert "DeployLockStale{} paged the on-call for 2 back-to-back holds" in result.message
    assert "each shorter than its 30 s `for`; 40.05 s in all" in result.message


def test_a_resolved_message_is_not_a_page() -> None:
    assert verdict([message("resolved", T0 + 33_000)]).verdict is Verdict.PASSED


def test_watching_too_short_is_inconclusive() -> None:
    assert verdict([], observed_until_ms=T0 + 30_000).verdict is Verdict.INCONCLUSIVE


def test_a_hold_not_shorter_than_for_is_inconclusive_even_with_a_page() -> None:
    result = verdict([message("firing", T0 + 33_000)], holds=[(T0, T0 + 30_000)])
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "not shorter than the alert's `for`" in result.message


def test_monitoring_that_missed_a_transaction_proves_nothing() -> None:
    result = verdict([], seen={"41": 20.0})
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "saw 1 of the 2 transactions" in result.message


def test_seen_holds_counts_open_samples_per_transaction_in_the_window() -> None:
    series = [
        {"metric": {"txn_id": "41"}, "values": [(T0 / 1000 + i, 1.0) for i in range(-3, 20)]},
        {"metric": {"txn_id": "42"}, "values": [(T0 / 1000 + 20 + i, 1.0) for i in range(5)]},
        {"metric": {"txn_id": "9"}, "values": [(T0 / 1000 - 100, 1.0)]},
    ]
    assert seen_holds(series, T0, T0 + 40_000, 1.0) == {"41": 20.0, "42": 5.0}


def journal() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for n, (start, end) in enumerate(HOLDS, 1):
        details = {"fault": "deploy_lock_held", "fault_id": f"f{n}"}
        entries += [
            {"op": "fault.inject", "type": "invoke", "ts_ms": start - 10, **details},
            {"op": "fault.inject", "type": "ok", "ts_ms": start, **details},
            {"op": "fault.revert", "type": "invoke", "ts_ms": end - 5, **details},
            {"op": "fault.revert", "type": "ok", "ts_ms": end, **details},
        ]
    series = [
        {"metric": {"txn_id": str(40 + n)}, "values": [[start / 1000 + i, 1.0] for i in range(19)]}
        for n, (start, _) in enumerate(HOLDS, 1)
    ]
    entries.append(
        {"op": "prometheus.range", "type": "info", "ts_ms": T0 + 41_000, "selector": "lock", "series": series}
    )
    entries.append(
        {"op": "watch.end", "type": "info", "ts_ms": T0 + 41_000, "source": "oncall.message", "until_ms": T0 + 41_000}
    )
    return entries


def test_judged_from_the_journal_through_the_registry() -> None:
    request = CheckRequest(
        "no_page_short_holds",
        {"alertname": "DeployLockStale", "fault_ids": ["f1", "f2"], "lock_selector": "lock", "scrape_interval_s": 1},
        {"for_s": 30.0, "budget_s": 37.0},
    )
    assert CHECKERS["no_page_short_holds"] is judge_no_page_for_short_holds
    result = evaluate(journal(), request)
    assert result.verdict is Verdict.PASSED, result.message
    assert result.measured["seen_open_s"] == {"41": 19.0, "42": 19.0}

"""harness.checks.alerting: alert budgets and verdicts on alert delivery, from synthetic sink messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.checks.alerting import (
    alert_budget,
    check_alert_delivered,
    check_alert_resolved,
    check_no_page,
    first_state_ms,
    notifications,
    resolve_budget,
)
from harness.core.claims import AlertClaim
from harness.core.profiles import TIMER_KEYS, Profile, load_profile
from harness.core.types import Verdict

PROFILES = Path("/work/main/profiles")
NIGHTLY = load_profile("nightly", PROFILES)  # RunnerOffline primary budget: 10 + 1 + 1 + 2 + 1 + 2 = 17 s

PRIMARY = AlertClaim("RunnerOffline", (("runner", "primary"),), 300, "critical")
SECONDARY = AlertClaim("RunnerOffline", (("runner", "secondary"),), 600, "warning")
BOTH = AlertClaim("BothRunnersOffline", (), 60, "critical")

ONSET = 1_700_000_000_000  # fault injected (ms)
BUDGET_MS = 17_000  # nightly budget of PRIMARY
DEADLINE = ONSET + BUDGET_MS
RUNBOOK = {"summary": "Primary production runner is offline", "runbook": "runbooks/runner-offline-restore.md"}


# ---- helpers ----------------------------------------------------------------------------------------------------
def synthetic_profile() -> Profile:
    """A profile whose every term is a different number, so a swapped or dropped term shows."""
    timers = {k: 1000.0 for k in TIMER_KEYS}
    timers.update(
        {
            "alert_for_scale": 0.5,
            "scrape_interval_s": 3,
            "scrape_timeout_s": 2,
            "evaluation_interval_s": 7,
            "alertmanager_group_wait_s": 11,
            "alertmanager_group_interval_s": 17,
            "alertmanager_repeat_interval_s": 19,
        }
    )
    budgets = {
        "failover_budget_s": 900.0,
        "fail_fast_budget_s": 900.0,
        "unhealthy_detection_timeout_s": 900.0,
        "deploy_timeout_s": 900.0,
        "runner_ready_timeout_s": 900.0,
        "alert_dispatch_margin_s": 13.0,
    }
    return Profile("synthetic", "", timers, budgets)


def alert(
    status: str = "firing",
    alertname: str = "RunnerOffline",
    runner: str | None = "primary",
    severity: str = "critical",
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One alert of an Alertmanager webhook payload."""
    labels = {"alertname": alertname, "severity": severity, "job": "github-runners"}
    if runner is not None:
        labels["runner"] = runner
    return {
        "status": status,
        "labels": labels,
        "annotations": dict(RUNBOOK) if annotations is None else annotations,
        "startsAt": "2023-11-14T22:13:20Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2023-11-14T22:20:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": "abc123",
    }


def webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    """An Alertmanager webhook payload carrying `alerts`."""
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    first = alerts[0]["labels"] if alerts else {}
    return {
        "version": "4",
        "groupKey": '{}:{alertname="RunnerOffline"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "oncall",
        "groupLabels": {k: first[k] for k in ("alertname", "runner") if k in first},
        "commonLabels": dict(first),
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def message(received_ms: int, body: Any, seq: int = 0, path: str = "/oncall") -> dict[str, Any]:
    """A webhook sink message wrapping `body`."""
    return {"seq": seq, "received_ms": received_ms, "path": path, "body": body}


def sink(*pairs: tuple[int, Any]) -> list[dict[str, Any]]:
    """Sink messages from (received_ms, body) pairs, numbered in order."""
    return [message(ms, body, seq=i) for i, (ms, body) in enumerate(pairs)]


# ---- alert_budget / resolve_budget ------------------------------------------------------------------------------
def test_alert_budget_terms_each_come_from_their_own_timer() -> None:
    claim = AlertClaim("X", (), 100, "critical")
    assert alert_budget(claim, synthetic_profile()) == {
        "for_s": 50.0,
        "scrape_interval_s": 3.0,
        "scrape_timeout_s": 2.0,
        "evaluation_s": 14.0,
        "group_wait_s": 11.0,
        "dispatch_margin_s": 13.0,
        "budget_s": 93.0,
    }


@pytest.mark.parametrize(
    ("profile", "claim", "for_s", "budget_s"),
    [
        ("nightly", PRIMARY, 10.0, 17.0),
        ("nightly", SECONDARY, 20.0, 27.0),
        ("nightly", BOTH, 2.0, 9.0),
        ("maintenance-window", PRIMARY, 300.0, 395.0),
        ("maintenance-window", SECONDARY, 600.0, 695.0),
        ("maintenance-window", BOTH, 60.0, 155.0),
        ("sre-review", PRIMARY, 300.0, 395.0),
        ("sre-review", BOTH, 60.0, 155.0),
    ],
)
def test_alert_budget_of_the_real_profiles(profile: str, claim: AlertClaim, for_s: float, budget_s: float) -> None:
    budget = alert_budget(claim, load_profile(profile, PROFILES))
    assert budget["for_s"] == for_s
    assert budget["budget_s"] == budget_s
    terms = {k: v for k, v in budget.items() if k != "budget_s"}
    assert set(terms) == {
        "for_s",
        "scrape_interval_s",
        "scrape_timeout_s",
        "evaluation_s",
        "group_wait_s",
        "dispatch_margin_s",
    }
    assert sum(terms.values()) == pytest.approx(budget["budget_s"], abs=0.002)


def test_nightly_budget_terms_of_primary_runner_offline() -> None:
    assert alert_budget(PRIMARY, NIGHTLY) == {
        "for_s": 10.0,
        "scrape_interval_s": 1.0,
        "scrape_timeout_s": 1.0,
        "evaluation_s": 2.0,
        "group_wait_s": 1.0,
        "dispatch_margin_s": 2.0,
        "budget_s": 17.0,
    }


def test_resolve_budget_uses_group_interval_not_group_wait() -> None:
    assert resolve_budget(synthetic_profile()) == pytest.approx(3 + 2 + 2 * 7 + 17 + 13)


@pytest.mark.parametrize(
    ("profile", "seconds"), [("nightly", 7.0), ("maintenance-window", 365.0), ("sre-review", 365.0)]
)
def test_resolve_budget_of_the_real_profiles(profile: str, seconds: float) -> None:
    assert resolve_budget(load_profile(profile, PROFILES)) == pytest.approx(seconds)


# ---- notifications ----------------------------------------------------------------------------------------------
def test_notifications_returns_matching_alerts_with_their_arrival() -> None:
    primary = alert()
    messages = [message(ONSET + 5, webhook(primary), seq=0, path="/oncall")]
    assert notifications(messages, PRIMARY, "firing") == [
        {"received_ms": ONSET + 5, "path": "/oncall", "alert": primary}
    ]


def test_notifications_filter_by_alert_status_not_payload_status() -> None:
    firing, resolved = alert("firing"), alert("resolved")
    messages = sink((ONSET, webhook(firing, resolved)))
    assert messages[0]["body"]["status"] == "firing"
    assert [n["alert"] for n in notifications(messages, PRIMARY, "firing")] == [firing]
    assert [n["alert"] for n in notifications(messages, PRIMARY, "resolved")] == [resolved]


def test_notifications_filter_by_claim_labels() -> None:
    messages = sink(
        (ONSET + 1, webhook(alert(runner="secondary", severity="warning"))),
        (ONSET + 2, webhook(alert(alertname="RunnerHighCPU"))),
        (ONSET + 3, webhook(alert(runner=None))),
        (ONSET + 4, webhook(alert(runner="primary"))),
    )
    assert [n["received_ms"] for n in notifications(messages, PRIMARY, "firing")] == [ONSET + 4]
    assert [n["received_ms"] for n in notifications(messages, SECONDARY, "firing")] == [ONSET + 1]
    assert notifications(messages, BOTH, "firing") == []


def test_notifications_keep_every_matching_alert_of_every_message_in_order() -> None:
    messages = sink(
        (ONSET + 10, webhook(alert(runner="primary"), alert(runner="secondary", severity="warning"))),
        (ONSET + 20, webhook(alert(alertname="BothRunnersOffline", runner=None))),
        (ONSET + 30, webhook(alert(runner="primary"))),
    )
    assert [n["received_ms"] for n in notifications(messages, PRIMARY, "firing")] == [ONSET + 10, ONSET + 30]
    assert [n["received_ms"] for n in notifications(messages, BOTH, "firing")] == [ONSET + 20]


@pytest.mark.parametrize("body", [None, {"raw": "not json"}, [1, 2], "text", {"alerts": []}, {}])
def test_notifications_ignore_bodies_that_are_not_alertmanager_payloads(body: Any) -> None:
    messages = [message(ONSET, body, seq=0), message(ONSET + 1, webhook(alert()), seq=1)]
    assert [n["received_ms"] for n in notifications(messages, PRIMARY, "firing")] == [ONSET + 1]


def test_notifications_of_no_messages() -> None:
    assert notifications([], PRIMARY, "firing") == []


# ---- first_state_ms ---------------------------------------------------------------------------------------------
def series(state: str, *seconds: float, runner: str = "primary") -> dict[str, Any]:
    """An ALERTS series in `state` with samples at `seconds` (epoch s)."""
    return {
        "metric": {"__name__": "ALERTS", "alertname": "RunnerOffline", "alertstate": state, "runner": runner},
        "values": [(s, 1.0) for s in seconds],
    }


T0 = ONSET / 1000


def test_first_state_ms_picks_the_earliest_sample_of_the_state() -> None:
    data = [series("pending", T0 + 3, T0 + 4, T0 + 5), series("firing", T0 + 13, T0 + 14)]
    assert first_state_ms(data, "pending", ONSET) == ONSET + 3000
    assert first_state_ms(data, "firing", ONSET) == ONSET + 13_000


def test_first_state_ms_ignores_samples_before_after_ms_and_includes_one_at_it() -> None:
    data = [series("pending", T0 - 60, T0 - 59, T0 + 2.5)]
    assert first_state_ms(data, "pending", ONSET) == ONSET + 2500
    assert first_state_ms([series("pending", T0 - 1, T0, T0 + 1)], "pending", ONSET) == ONSET


def test_first_state_ms_takes_the_minimum_over_all_series() -> None:
    data = [series("pending", T0 + 8, T0 + 9), series("pending", T0 + 6.25, runner="primary"), series("firing", T0 + 1)]
    assert first_state_ms(data, "pending", ONSET) == ONSET + 6250


def test_first_state_ms_none_when_state_never_seen_after() -> None:
    assert first_state_ms([series("pending", T0 + 3)], "firing", ONSET) is None
    assert first_state_ms([series("firing", T0 - 5)], "firing", ONSET) is None
    assert first_state_ms([], "pending", ONSET) is None


# ---- check_alert_delivered --------------------------------------------------------------------------------------
def delivered(
    messages: list[dict[str, Any]],
    observed_until_ms: int = DEADLINE + 1000,
    claim: AlertClaim = PRIMARY,
    **states: int | None,
):
    return check_alert_delivered(
        messages, claim, alert_budget(claim, NIGHTLY), onset_ms=ONSET, observed_until_ms=observed_until_ms, **states
    )


def test_delivered_passes_within_budget_with_stages() -> None:
    result = delivered(sink((ONSET + 12_000, webhook(alert()))), pending_ms=ONSET + 2000, firing_ms=ONSET + 11_500)
    assert result.verdict == Verdict.PASSED, result.message
    assert result.measured == {"onset_to_pending_s": 2.0, "onset_to_firing_s": 11.5, "onset_to_oncall_s": 12.0}
    assert result.budget["budget_s"] == 17.0
    assert result.evidence["alert"]["labels"]["runner"] == "primary"
    assert "12.000 s" in result.message and "17" in result.message


def test_delivered_passes_exactly_at_the_deadline() -> None:
    assert delivered(sink((DEADLINE, webhook(alert())))).verdict == Verdict.PASSED


def test_delivered_fails_over_budget() -> None:
    result = delivered(sink((DEADLINE + 1000, webhook(alert()))), observed_until_ms=DEADLINE + 2000)
    assert result.verdict == Verdict.FAILED
    assert "over the 17 s budget" in result.message
    assert result.measured["onset_to_oncall_s"] == 18.0


def test_delivered_fails_with_wrong_severity() -> None:
    result = delivered(sink((ONSET + 12_000, webhook(alert(severity="warning")))))
    assert result.verdict == Verdict.FAILED
    assert "'warning'" in result.message and "'critical'" in result.message


def test_delivered_fails_without_runbook_annotation() -> None:
    result = delivered(sink((ONSET + 12_000, webhook(alert(annotations={"summary": "runner down"})))))
    assert result.verdict == Verdict.FAILED
    assert "runbook" in result.message


def test_delivered_fails_with_empty_runbook_annotation() -> None:
    result = delivered(sink((ONSET + 12_000, webhook(alert(annotations={"runbook": ""})))))
    assert result.verdict == Verdict.FAILED
    assert "runbook" in result.message


def test_delivered_reports_every_problem_at_once() -> None:
    result = delivered(
        sink((DEADLINE + 5000, webhook(alert(severity="info", annotations={})))), observed_until_ms=DEADLINE + 6000
    )
    assert result.verdict == Verdict.FAILED
    assert "over the" in result.message and "'info'" in result.message and "runbook" in result.message


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({}, "never even went pending"),
        ({"pending_ms": ONSET + 2000}, "went pending but never fired"),
        (
            {"pending_ms": ONSET + 2000, "firing_ms": ONSET + 12_000},
            "fired in Prometheus but never reached the on-call",
        ),
    ],
)
def test_delivered_failure_names_the_stage_that_stalled(states: dict[str, int], expected: str) -> None:
    result = delivered([], **states)
    assert result.verdict == Verdict.FAILED
    assert expected in result.message
    assert "17 s budget" in result.message
    others = {
        "never even went pending",
        "went pending but never fired",
        "fired in Prometheus but never reached the on-call",
    } - {expected}
    assert not any(o in result.message for o in others)


def test_delivered_inconclusive_when_observation_ended_before_the_deadline() -> None:
    result = delivered([], observed_until_ms=DEADLINE - 1)
    assert result.verdict == Verdict.INCONCLUSIVE
    result = delivered([], observed_until_ms=ONSET + 5000, pending_ms=ONSET + 2000)
    assert result.verdict == Verdict.INCONCLUSIVE


def test_delivered_fails_when_observed_exactly_to_the_deadline_without_notification() -> None:
    assert delivered([], observed_until_ms=DEADLINE).verdict == Verdict.FAILED


def test_resolved_notification_does_not_count_as_firing() -> None:
    messages = sink((ONSET + 12_000, webhook(alert("resolved"))))
    result = delivered(messages, pending_ms=ONSET + 2000, firing_ms=ONSET + 11_000)
    assert result.verdict == Verdict.FAILED
    assert "never reached the on-call" in result.message


def test_firing_notification_from_before_the_onset_does_not_count() -> None:
    result = delivered(sink((ONSET - 1, webhook(alert()))))
    assert result.verdict == Verdict.FAILED


def test_notification_for_another_runner_does_not_count() -> None:
    result = delivered(sink((ONSET + 12_000, webhook(alert(runner="secondary", severity="warning")))))
    assert result.verdict == Verdict.FAILED
    assert "never even went pending" in result.message


def test_delivered_judges_the_first_firing_notification_after_onset() -> None:
    messages = sink(
        (ONSET - 500, webhook(alert(severity="warning"))),
        (ONSET + 3000, webhook(alert("resolved"))),
        (ONSET + 12_000, webhook(alert())),
        (ONSET + 30_000, webhook(alert(severity="warning"))),
    )
    result = delivered(messages)
    assert result.verdict == Verdict.PASSED, result.message
    assert result.measured["onset_to_oncall_s"] == 12.0


# ---- check_alert_resolved ---------------------------------------------------------------------------------------
RECOVERED = ONSET + 60_000  # nightly resolve budget: 7 s


def resolved(messages: list[dict[str, Any]], observed_until_ms: int):
    return check_alert_resolved(
        messages, PRIMARY, resolve_budget(NIGHTLY), recovered_ms=RECOVERED, observed_until_ms=observed_until_ms
    )


def test_resolved_passes_within_budget() -> None:
    result = resolved(sink((RECOVERED + 5000, webhook(alert("resolved")))), RECOVERED + 5100)
    assert result.verdict == Verdict.PASSED, result.message
    assert result.measured == {"recovery_to_resolved_s": 5.0}
    assert result.budget == {"resolve_budget_s": 7.0}


def test_resolved_fails_when_late() -> None:
    result = resolved(sink((RECOVERED + 9000, webhook(alert("resolved")))), RECOVERED + 9100)
    assert result.verdict == Verdict.FAILED
    assert result.measured == {"recovery_to_resolved_s": 9.0}


def test_resolved_fails_when_never_resolved() -> None:
    messages = sink((RECOVERED - 50_000, webhook(alert())), (RECOVERED + 2000, webhook(alert())))
    result = resolved(messages, RECOVERED + 8000)
    assert result.verdict == Verdict.FAILED
    assert "not resolved" in result.message


def test_resolved_inconclusive_when_observation_ended_early() -> None:
    assert resolved([], RECOVERED + 3000).verdict == Verdict.INCONCLUSIVE


def test_resolved_notification_from_before_recovery_is_ignored() -> None:
    result = resolved(sink((RECOVERED - 1, webhook(alert("resolved")))), RECOVERED + 8000)
    assert result.verdict == Verdict.FAILED


# ---- check_no_page ----------------------------------------------------------------------------------------------
BLIP = ONSET
WATCH_UNTIL = BLIP + BUDGET_MS


def no_page(messages: list[dict[str, Any]], observed_until_ms: int = WATCH_UNTIL, blip_seen_s: float = 3.0):
    return check_no_page(
        messages,
        PRIMARY,
        blip_start_ms=BLIP,
        watch_until_ms=WATCH_UNTIL,
        observed_until_ms=observed_until_ms,
        blip_s=5.0,
        blip_seen_s=blip_seen_s,
    )


def test_no_page_passes_when_nothing_fired() -> None:
    result = no_page([])
    assert result.verdict == Verdict.PASSED, result.message
    assert result.measured == {"blip_s": 5.0, "blip_seen_down_s": 3.0, "watched_s": 17.0}


def test_no_page_fails_on_a_firing_page_after_the_blip_start() -> None:
    messages = sink((BLIP + 9000, webhook(alert())))
    result = no_page(messages)
    assert result.verdict == Verdict.FAILED
    assert result.evidence["notification"]["received_ms"] == BLIP + 9000
    assert "paged" in result.message


def test_no_page_fails_even_when_observation_ended_early() -> None:
    result = no_page(sink((BLIP + 1000, webhook(alert()))), observed_until_ms=BLIP + 2000)
    assert result.verdict == Verdict.FAILED


def test_no_page_ignores_pages_from_before_the_blip() -> None:
    result = no_page(sink((BLIP - 1, webhook(alert())), (BLIP - 60_000, webhook(alert()))))
    assert result.verdict == Verdict.PASSED, result.message


def test_no_page_ignores_resolved_and_other_alerts() -> None:
    messages = sink(
        (BLIP + 2000, webhook(alert("resolved"))), (BLIP + 3000, webhook(alert(runner="secondary", severity="warning")))
    )
    assert no_page(messages).verdict == Verdict.PASSED


def test_no_page_inconclusive_when_monitoring_never_saw_the_blip() -> None:
    result = no_page([], blip_seen_s=0)
    assert result.verdict == Verdict.INCONCLUSIVE
    assert "never saw the blip" in result.message


def test_no_page_inconclusive_when_observation_ended_early() -> None:
    result = no_page([], observed_until_ms=WATCH_UNTIL - 1)
    assert result.verdict == Verdict.INCONCLUSIVE
    assert "too early" in result.message

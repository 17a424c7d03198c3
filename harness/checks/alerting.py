"""Alert delivery: the right alert reaches the on-call within its budget, and a blip does not page.

Budgets come from the spec's `for` (harness.core.claims), scaled by the profile, plus the
monitoring pipeline's own delays; the measured latency is split into its stages from
Prometheus' ALERTS series and the webhook sink's arrival times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.checks.failover import down_seconds
from harness.checks.history import History, MissingObservation
from harness.core.claims import AlertClaim, alert_claim
from harness.core.profiles import Profile
from harness.core.types import CheckRequest, CheckResult, Verdict


def alert_budget(claim: AlertClaim, profile: Profile) -> dict[str, float]:
    """The budget from fault onset to the on-call's webhook, with its terms."""
    t, b = profile.timers, profile.budgets
    terms = {
        "for_s": claim.for_s * t["alert_for_scale"],
        "scrape_interval_s": t["scrape_interval_s"],
        "scrape_timeout_s": t["scrape_timeout_s"],
        "evaluation_s": 2 * t["evaluation_interval_s"],
        "group_wait_s": t["alertmanager_group_wait_s"],
        "dispatch_margin_s": b["alert_dispatch_margin_s"],
    }
    return {**{k: round(v, 3) for k, v in terms.items()}, "budget_s": round(sum(terms.values()), 3)}


def resolve_budget(profile: Profile) -> float:
    """Budget from recovery to the resolved notification."""
    t = profile.timers
    return (
        t["scrape_interval_s"]
        + t["scrape_timeout_s"]
        + 2 * t["evaluation_interval_s"]
        + t["alertmanager_group_interval_s"]
        + profile.budgets["alert_dispatch_margin_s"]
    )


def notifications(messages: Sequence[dict[str, Any]], claim: AlertClaim, status: str) -> list[dict[str, Any]]:
    """(received_ms, alert) for every alert in the sink's messages matching `claim` with `status`."""
    found = []
    for message in messages:
        body = message.get("body") or {}
        for alert in body.get("alerts", []) if isinstance(body, dict) else []:
            if alert.get("status") == status and claim.matches(alert.get("labels", {})):
                found.append({"received_ms": message["received_ms"], "path": message.get("path"), "alert": alert})
    return found


def first_state_ms(series: Sequence[dict[str, Any]], alertstate: str, after_ms: int) -> int | None:
    """First sample time (ms) of the ALERTS series in `alertstate`, at or after `after_ms`."""
    times = [
        ts
        for s in series
        if s["metric"].get("alertstate") == alertstate
        for ts, _ in s["values"]
        if ts * 1000 >= after_ms
    ]
    return round(min(times) * 1000) if times else None


def check_alert_delivered(
    messages: Sequence[dict[str, Any]],
    claim: AlertClaim,
    budget: dict[str, float],
    *,
    onset_ms: int,
    observed_until_ms: int,
    pending_ms: int | None = None,
    firing_ms: int | None = None,
) -> CheckResult:
    """Verdict: a firing notification for `claim`, with its severity and a runbook, within `budget["budget_s"]`."""
    what = f"{claim.alertname}{dict(claim.labels)}"
    deadline_ms = onset_ms + budget["budget_s"] * 1000
    fired = [n for n in notifications(messages, claim, "firing") if n["received_ms"] >= onset_ms]
    stages: dict[str, Any] = {}
    if pending_ms is not None:
        stages["onset_to_pending_s"] = round((pending_ms - onset_ms) / 1000, 3)
    if firing_ms is not None:
        stages["onset_to_firing_s"] = round((firing_ms - onset_ms) / 1000, 3)
    evidence = {"notifications": list(messages)[-20:]}
    if not fired:
        if observed_until_ms < deadline_ms:
            return CheckResult(
                f"{what} pages on-call",
                Verdict.INCONCLUSIVE,
                "observation ended before the alert budget elapsed",
                stages,
                budget,
                evidence,
            )
        state = (
            "it never even went pending in Prometheus"
            if pending_ms is None
            else "it went pending but never fired"
            if firing_ms is None
            else "it fired in Prometheus but never reached the on-call"
        )
        return CheckResult(
            f"{what} pages on-call",
            Verdict.FAILED,
            f"{what} did not reach the on-call within its {budget['budget_s']:g} s budget: {state}",
            stages,
            budget,
            evidence,
        )
    first = fired[0]
    stages["onset_to_oncall_s"] = round((first["received_ms"] - onset_ms) / 1000, 3)
    alert = first["alert"]
    problems = []
    if first["received_ms"] > deadline_ms:
        problems.append(
            f"it arrived after {stages['onset_to_oncall_s']:.3f} s, over the {budget['budget_s']:g} s budget"
        )
    if alert.get("labels", {}).get("severity") != claim.severity:
        problems.append(f"severity is {alert.get('labels', {}).get('severity')!r}, the spec says {claim.severity!r}")
    if not alert.get("annotations", {}).get("runbook"):
        problems.append("it carries no runbook annotation for the responder")
    evidence["alert"] = alert
    if problems:
        return CheckResult(
            f"{what} pages on-call", Verdict.FAILED, f"{what}: " + "; ".join(problems), stages, budget, evidence
        )
    return CheckResult(
        f"{what} pages on-call",
        Verdict.PASSED,
        f"{what} reached the on-call {stages['onset_to_oncall_s']:.3f} s after the fault "
        f"(budget {budget['budget_s']:g} s)",
        stages,
        budget,
        evidence,
    )


def check_alert_resolved(
    messages: Sequence[dict[str, Any]],
    claim: AlertClaim,
    budget_s: float,
    *,
    recovered_ms: int,
    observed_until_ms: int,
) -> CheckResult:
    """Verdict: a resolved notification for `claim` arrived within the resolve budget after recovery."""
    what = f"{claim.alertname}{dict(claim.labels)}"
    resolved = [n for n in notifications(messages, claim, "resolved") if n["received_ms"] >= recovered_ms]
    budget = {"resolve_budget_s": round(budget_s, 3)}
    if not resolved:
        if observed_until_ms < recovered_ms + budget_s * 1000:
            return CheckResult(f"{what} clears", Verdict.INCONCLUSIVE, "observation ended too early", {}, budget)
        return CheckResult(
            f"{what} clears",
            Verdict.FAILED,
            f"{what} was not resolved within {budget_s:g} s of recovery",
            {},
            budget,
            {"notifications": list(messages)[-20:]},
        )
    seconds = round((resolved[0]["received_ms"] - recovered_ms) / 1000, 3)
    verdict = Verdict.PASSED if seconds <= budget_s else Verdict.FAILED
    return CheckResult(
        f"{what} clears",
        verdict,
        f"{what} resolved {seconds:.3f} s after recovery (budget {budget_s:g} s)",
        {"recovery_to_resolved_s": seconds},
        budget,
    )


def check_no_page(
    messages: Sequence[dict[str, Any]],
    claim: AlertClaim,
    *,
    blip_start_ms: int,
    watch_until_ms: int,
    observed_until_ms: int,
    blip_s: float,
    blip_seen_s: float,
) -> CheckResult:
    """Verdict: a blip shorter than the alert's `for` sent no firing notification for `claim`.

    `blip_seen_s` is how long monitoring saw the target down: if it never saw the blip, "no page"
    proves nothing and the verdict is inconclusive.
    """
    what = f"{claim.alertname}{dict(claim.labels)}"
    fired = [n for n in notifications(messages, claim, "firing") if n["received_ms"] >= blip_start_ms]
    measured = {
        "blip_s": round(blip_s, 3),
        "blip_seen_down_s": round(blip_seen_s, 3),
        "watched_s": round((observed_until_ms - blip_start_ms) / 1000, 3),
    }
    if fired:
        return CheckResult(
            f"{what} ignores blips",
            Verdict.FAILED,
            f"a {blip_s:.1f} s blip, shorter than the alert's `for`, paged the on-call with {what}",
            measured,
            evidence={"notification": fired[0]},
        )
    if observed_until_ms < watch_until_ms:
        return CheckResult(f"{what} ignores blips", Verdict.INCONCLUSIVE, "observation ended too early", measured)
    if blip_seen_s <= 0:
        return CheckResult(
            f"{what} ignores blips",
            Verdict.INCONCLUSIVE,
            "monitoring never saw the blip, so the absence of a page proves nothing",
            measured,
        )
    return CheckResult(
        f"{what} ignores blips",
        Verdict.PASSED,
        f"no page for a {blip_s:.1f} s blip (watched {measured['watched_s']:.1f} s)",
        measured,
    )


def alerts_selector(claim: AlertClaim) -> str:
    """PromQL selector of Prometheus' ALERTS series for `claim`."""
    labels = ",".join([f'alertname="{claim.alertname}"', *(f'{k}="{v}"' for k, v in claim.labels)])
    return f"ALERTS{{{labels}}}"


def _claim(request: CheckRequest) -> AlertClaim:
    return alert_claim(request.params["alertname"], request.params.get("role"))


def judge_alert_delivered(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the fault's onset, the ALERTS samples and the on-call's messages."""
    claim = _claim(request)
    onset = history.fault(request.params["fault_id"]).onset_ms
    try:
        series = history.series(alerts_selector(claim))
    except MissingObservation:
        series = []  # the alert states only explain a finding; the verdict rests on the messages
    return check_alert_delivered(
        history.oncall_messages(),
        claim,
        request.budgets,
        onset_ms=onset,
        observed_until_ms=history.observed_until("oncall.message"),
        pending_ms=first_state_ms(series, "pending", onset),
        firing_ms=first_state_ms(series, "firing", onset),
    )


def judge_alert_resolved(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: when the fault was reverted, and the on-call's messages."""
    window = history.fault(request.params["fault_id"])
    if window.reverted_ms is None:
        raise MissingObservation(f"the journal has no revert of fault {window.fault_id}")
    return check_alert_resolved(
        history.oncall_messages(),
        _claim(request),
        request.budget("resolve_budget_s"),
        recovered_ms=window.reverted_ms,
        observed_until_ms=history.observed_until("oncall.message"),
    )


def judge_no_page(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the blip's window, how long monitoring saw it, and the on-call's messages."""
    p = request.params
    window = history.fault(p["fault_id"])
    if window.reverted_ms is None:
        raise MissingObservation(f"the journal has no end of the blip {window.fault_id}")
    samples = history.samples(p["health_selector"])
    seen = down_seconds(samples, window.onset_ms, window.reverted_ms + 2000, p["scrape_interval_s"])
    return check_no_page(
        history.oncall_messages(),
        _claim(request),
        blip_start_ms=window.onset_ms,
        watch_until_ms=window.onset_ms + int(request.budget("budget_s") * 1000),
        observed_until_ms=history.observed_until("oncall.message"),
        blip_s=(window.reverted_ms - window.onset_ms) / 1000,
        blip_seen_s=seen,
    )

"""Follow what reaches the on-call (webhook sink) and Prometheus' alert states; journal all of it."""

from __future__ import annotations

import time
from typing import Any

from harness.actions.feeds import JournalFeed
from harness.checks.alerting import first_state_ms, notifications
from harness.core.claims import AlertClaim
from harness.topology.environment import Environment


class OnCallFeed(JournalFeed):
    """Copies the webhook sink's messages into the journal, once per message."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env.journal, lambda after: env.sink.messages(after=after), "oncall.message", "message")

    def messages(self) -> list[dict[str, Any]]:
        """Every on-call message this feed journalled."""
        return self.items()


def await_notification(feed: OnCallFeed, claim: AlertClaim, status: str, after_ms: int, until_ms: int) -> int:
    """Follow the sink until a `status` notification for `claim` arrives after `after_ms`, or `until_ms`.

    Returns the wall-clock time (ms) up to which the sink was observed.
    """
    while True:
        now_ms = int(time.time() * 1000)
        feed.poll()
        if any(n["received_ms"] >= after_ms for n in notifications(feed.messages(), claim, status)):
            return now_ms
        if now_ms >= until_ms:
            return now_ms
        time.sleep(0.1)


def alert_states(env: Environment, claim: AlertClaim, since_ms: int) -> dict[str, int | None]:
    """When Prometheus first had `claim` pending and firing since `since_ms` (from its ALERTS series)."""
    labels = ",".join([f'alertname="{claim.alertname}"', *(f'{k}="{v}"' for k, v in claim.labels)])
    window = max(1.0, time.time() - since_ms / 1000 + 5)
    series = env.prometheus.series_samples(f"ALERTS{{{labels}}}", window)
    return {
        "pending_ms": first_state_ms(series, "pending", since_ms),
        "firing_ms": first_state_ms(series, "firing", since_ms),
    }

"""Follow what reaches the on-call (webhook sink) and Prometheus' alert states; journal all of it."""

from __future__ import annotations

import time
from typing import Any

from harness.actions.feeds import JournalFeed
from harness.checks.alerting import alerts_selector, notifications
from harness.core.claims import AlertClaim
from harness.core.waiting import watch
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

    Journals how far the sink was watched and returns that wall-clock time (ms).
    """

    def probe() -> bool:
        feed.poll()
        return any(n["received_ms"] >= after_ms for n in notifications(feed.messages(), claim, status))

    _, observed = watch(probe, until_ms)
    return feed.mark_observed(observed)


def record_alert_states(env: Environment, claim: AlertClaim, since_ms: int) -> None:
    """Read Prometheus' ALERTS series of `claim` since `since_ms` (the driver journals the samples)."""
    window = max(1.0, time.time() - since_ms / 1000 + 5)
    env.prometheus.series_samples(alerts_selector(claim), window)

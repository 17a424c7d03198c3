"""The spec's named parameters for alerts (pipeline-spec.md, US2), as immutable data.

Budgets are derived from these, never from the pipeline's own rules: a rule whose `for`
drifted from the spec is exactly what the harness must catch.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.errors import ConfigError

SUCCESS_RATE_MIN = 0.95  # SC-001
DEPLOY_P50_BUDGET_S = 600.0  # SC-002
DEPLOY_P95_BUDGET_S = 600.0  # SC-002
CONFIDENCE = 0.95  # one-sided, for rate and quantile bounds
LOCK_STALE_S = 900.0  # US3: a deploy lock held longer than this is an alert, never a silent deadlock


@dataclass(frozen=True)
class AlertClaim:
    """One alert of the canonical set: its name, the labels that identify it, `for` and severity."""

    alertname: str
    labels: tuple[tuple[str, str], ...]
    for_s: float
    severity: str

    def matches(self, labels: dict[str, str]) -> bool:
        """True when an alert's labels identify this claim."""
        return labels.get("alertname") == self.alertname and all(labels.get(k) == v for k, v in self.labels)


ALERT_CLAIMS: tuple[AlertClaim, ...] = (
    AlertClaim("RunnerOffline", (("runner", "primary"),), 300, "critical"),
    AlertClaim("RunnerOffline", (("runner", "secondary"),), 600, "warning"),
    AlertClaim("BothRunnersOffline", (), 60, "critical"),
    # US3's lock_stale_s as an alert's `for` (the spec names no severity: every deploy is blocked, so critical)
    AlertClaim("DeployLockStale", (), LOCK_STALE_S, "critical"),
)


def alert_claim(alertname: str, runner: str | None = None) -> AlertClaim:
    """The claim for `alertname` (for the runner `runner`, when the alert is per runner)."""
    candidates = [c for c in ALERT_CLAIMS if c.alertname == alertname]
    per_runner = [c for c in candidates if ("runner", runner) in c.labels]
    if per_runner:
        return per_runner[0]
    if len(candidates) == 1 and not any(k == "runner" for k, _ in candidates[0].labels):
        return candidates[0]  # not a per-runner alert: the runner does not select it
    raise ConfigError(
        f"no alert claim {alertname!r} for runner {runner!r}; known: {sorted({c.alertname for c in ALERT_CLAIMS})}"
    )

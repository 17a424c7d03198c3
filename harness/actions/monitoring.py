"""Watch monitoring detect a runner fault: the exporter's own runner_status, from Prometheus samples."""

from __future__ import annotations

import time

from harness.checks.failover import check_detected, detection_budget, first_unhealthy_ms
from harness.core.types import CheckResult
from harness.core.waiting import WaitTimeout, wait_for
from harness.topology.environment import Environment


def observe_detection(env: Environment, role: str, onset_ms: int) -> CheckResult:
    """Follow runner_status of `role` until a 0 sample or the detection budget ends; return the verdict."""
    budget = detection_budget(env.profile.timers)
    selector = env.runner_status_selector(role)
    deadline = onset_ms / 1000 + budget + 0.5

    def probe() -> int | None:
        return first_unhealthy_ms(env.prometheus.samples(selector, budget + 30), onset_ms)

    try:
        wait_for(probe, f"runner_status of {role} to drop to 0", max(0.0, deadline - time.time()), interval=0.25)
    except WaitTimeout:
        pass  # not seen in time: the checker below turns that into the verdict, with the samples as evidence
    return check_detected(
        env.prometheus.samples(selector, budget + 30),
        onset_ms=onset_ms,
        budget_s=budget,
        observed_until_ms=int(time.time() * 1000),
        what=f"the {role} runner",
    )

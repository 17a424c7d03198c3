"""US3 "never mixed": from continuous samples of every component's version, did production end
all at the previous version or all at the target, within the recovery budget, and how long was
it mixed on the way?

A sample is the versions every component reported at one instant (`production.sample` entries
with `probe: "components"`, taken every ≤ 100 ms by the sampler). Production is *mixed* at a
sample when the components that answered report more than one version. A component that did
not answer is unknown: it does not make a sample mixed, but production has not converged while
any component is unknown.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.checks.history import History, MissingObservation
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM = "US3: an interrupted deploy leaves every component at the previous or every one at the target version"


@dataclass(frozen=True)
class Sample:
    """Every component's version at one instant (None: the component did not answer)."""

    ts_ms: int
    versions: dict[str, str | None]

    @property
    def known(self) -> set[str]:
        """The distinct versions reported."""
        return {v for v in self.versions.values() if v is not None}

    @property
    def mixed(self) -> bool:
        """More than one version among the components that answered."""
        return len(self.known) > 1

    @property
    def uniform(self) -> str | None:
        """The one version every component reports, if all answered and agree."""
        values = set(self.versions.values())
        return next(iter(values)) if len(values) == 1 and None not in values else None


def mixed_windows(samples: Sequence[Sample]) -> list[tuple[int, int]]:
    """[start, end) ms of every stretch of mixed samples (end: the next unmixed sample, or the last sample)."""
    windows: list[tuple[int, int]] = []
    start: int | None = None
    for sample in samples:
        if sample.mixed and start is None:
            start = sample.ts_ms
        elif not sample.mixed and start is not None:
            windows.append((start, sample.ts_ms))
            start = None
    if start is not None:
        windows.append((start, samples[-1].ts_ms))
    return windows


def check_converged(
    samples: Sequence[Sample],
    *,
    before: str,
    target: str,
    settled_ms: int,
    budget_s: float,
    observed_until_ms: int,
    quiescent_ms: int | None = None,
) -> CheckResult:
    """Verdict: from `settled_ms` + `budget_s` on, every sample is uniform at `before` or at `target`.

    `settled_ms` is when the disruption ended (its revert, or its onset when the disruption is
    permanent, such as a killed runner); the pipeline's own recovery (retry, secondary, watchdog)
    gets `budget_s` from then. Sampling may end before that deadline when production was seen
    quiescent at `quiescent_ms` (no deploy run going, no open deploy transaction): then nothing
    is left that could change it, and the samples up to then decide.
    """
    budget = {"recovery_budget_s": budget_s}
    if not samples:
        return CheckResult(CLAIM, Verdict.INCONCLUSIVE, "production was never sampled", {}, budget)
    deadline = settled_ms + int(budget_s * 1000)
    windows = mixed_windows(samples)
    gaps = [b.ts_ms - a.ts_ms for a, b in itertools.pairwise(samples)]
    measured: dict[str, Any] = {
        "samples": len(samples),
        "max_sample_gap_s": round(max(gaps, default=0) / 1000, 3),
        "mixed_windows": len(windows),
        "longest_mixed_s": round(max((e - s for s, e in windows), default=0) / 1000, 3),
        "mixed_total_s": round(sum(e - s for s, e in windows) / 1000, 3),
    }
    # when the final stretch began: the first sample from which every later one equals the last
    final = samples[-1].uniform
    stretch_start = samples[-1].ts_ms
    for sample in reversed(samples):
        if sample.uniform != final or final is None:
            break
        stretch_start = sample.ts_ms
    measured["final_version"] = final
    measured["recovery_s"] = round(max(0, stretch_start - settled_ms) / 1000, 3) if final else None
    if observed_until_ms < deadline or samples[-1].ts_ms < deadline:
        quiet = quiescent_ms is not None and final in (before, target) and stretch_start <= quiescent_ms
        if not quiet or stretch_start > deadline:
            return CheckResult(
                CLAIM,
                Verdict.INCONCLUSIVE,
                f"sampling ended {(deadline - min(observed_until_ms, samples[-1].ts_ms)) / 1000:.1f} s before the "
                "recovery budget elapsed, without production seen quiescent at one version",
                measured,
                budget,
            )
        deadline = samples[-1].ts_ms  # quiescent: the last samples are the final state
    after = [s for s in samples if s.ts_ms >= deadline]
    wrong = [s for s in after if s.uniform not in (before, target)]
    if wrong:
        first = wrong[0]
        if first.mixed:
            state = f"mixed {first.versions}"
        elif None in first.versions.values():
            state = f"not answering in {sorted(k for k, v in first.versions.items() if v is None)}"
        else:
            state = f"at {sorted(first.known)}, neither {before} nor {target}"
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"{(first.ts_ms - settled_ms) / 1000:.1f} s after the disruption settled (budget {budget_s:g} s) "
            f"production was {state}",
            measured,
            budget,
            {"first_wrong_sample": {"ts_ms": first.ts_ms, "versions": first.versions}, "mixed_windows_ms": windows},
        )
    return CheckResult(
        CLAIM,
        Verdict.PASSED,
        f"every component at {final} {measured['recovery_s']:.3f} s after the disruption settled "
        f"(budget {budget_s:g} s); longest mixed window {measured['longest_mixed_s']:.3f} s",
        measured,
        budget,
        {"mixed_windows_ms": windows},
    )


def component_samples(history: History) -> list[Sample]:
    """Every `components` sample of the window, in time order."""
    return [
        Sample(int(e["ts_ms"]), dict(e["versions"]))
        for e in history.production_samples("components")
        if isinstance(e.get("versions"), dict)
    ]


STEP_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z TASK \[DCH-STEP (\S+)\]", re.MULTILINE)


def step_running_at(log: str, at_ms: int) -> str | None:
    """The deploy step the job log says was running at wall ms `at_ms` (its last DCH-STEP line before then)."""
    running = None
    for stamp, fraction, name in STEP_LINE.findall(log):
        ts = datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp() + float(fraction or 0)
        if ts * 1000 > at_ms:
            break
        running = name
    return running


def judge_converged(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the component samples, the disruption's window and how long sampling ran.

    Parameters: `before`, `target` (versions), `fault_id` of the disruption.
    """
    p = request.params
    window = history.fault(p["fault_id"])
    samples = component_samples(history)
    if not samples:
        raise MissingObservation("the journal has no sample of production's components")
    result = check_converged(
        samples,
        before=p["before"],
        target=p["target"],
        settled_ms=window.reverted_ms if window.reverted_ms is not None else window.onset_ms,
        budget_s=request.budget("recovery_budget_s"),
        observed_until_ms=history.observed_until("production.components"),
        quiescent_ms=max(
            (int(e["ts_ms"]) for e in history.of("production.quiescence") if e.get("quiescent")), default=None
        ),
    )
    if "run_id" in p:  # where the disruption really landed: the step the deploy's log says was running
        logs = [log for log in (history.job_log(job["id"]) for job in history.jobs(p["run_id"])) if "DCH-STEP" in log]
        landed_at = window.injected_ms if window.injected_ms is not None else window.onset_ms
        result.measured["landed_in"] = step_running_at(logs[0], landed_at) if logs else None
    return result

"""harness.checks.converged: never mixed, judged from continuous component samples."""

from __future__ import annotations

import pytest

from harness.checks.converged import Sample, check_converged, judge_converged, mixed_windows
from harness.checks.history import History
from harness.core.types import CheckRequest, Verdict

N, N1 = "1.0.0", "1.1.0"
COMPONENTS = ("backend@prod-web-1", "backend@prod-web-2", "frontend@prod-web-1", "frontend@prod-web-2", "schema")
T0 = 1_700_000_000_000


def at(ts: int, *versions: str | None) -> Sample:
    """A sample at T0 + ts ms; one version for all components, or one per component."""
    values = versions * len(COMPONENTS) if len(versions) == 1 else versions
    return Sample(T0 + ts, dict(zip(COMPONENTS, values, strict=True)))


def judge(samples: list[Sample], settled: int = 0, budget: float = 5.0, until: int | None = None):
    return check_converged(
        samples,
        before=N,
        target=N1,
        settled_ms=T0 + settled,
        budget_s=budget,
        observed_until_ms=T0 + (until if until is not None else samples[-1].ts_ms - T0),
    )


def timeline(*spans: tuple[int, int, tuple[str | None, ...]], step: int = 100) -> list[Sample]:
    """Samples every `step` ms over [start, end) spans, each with its versions."""
    return [at(t, *versions) for start, end, versions in spans for t in range(start, end, step)]


def test_rolled_back_to_the_previous_version_passes_and_measures_the_mixed_window() -> None:
    mixed = (N1, N1, N, N, N)  # backends switched, frontends and schema not yet
    samples = timeline((0, 1000, (N,)), (1000, 2500, mixed), (2500, 9000, (N,)))
    result = judge(samples, settled=1200)
    assert result.verdict is Verdict.PASSED
    assert result.measured["final_version"] == N
    assert result.measured["longest_mixed_s"] == 1.5
    assert result.measured["mixed_windows"] == 1
    assert result.measured["recovery_s"] == 1.3  # from 1.2 s (settled) to 2.5 s (all at N)


def test_completed_to_the_target_passes() -> None:
    samples = timeline((0, 500, (N,)), (500, 700, (N1, N, N, N, N1)), (700, 8000, (N1,)))
    result = judge(samples)
    assert result.verdict is Verdict.PASSED
    assert result.measured["final_version"] == N1


def test_left_mixed_after_the_recovery_budget_is_a_finding_naming_the_components() -> None:
    mixed = (N1, N1, N, N, N1)
    samples = timeline((0, 1000, (N,)), (1000, 9000, mixed))
    result = judge(samples, settled=1000, budget=5.0)
    assert result.verdict is Verdict.FAILED
    assert "mixed" in result.message and "'frontend@prod-web-1': '1.0.0'" in result.message
    assert result.evidence["first_wrong_sample"]["ts_ms"] >= T0 + 6000


def test_mixed_only_before_the_deadline_is_not_a_finding() -> None:
    samples = timeline((0, 5900, (N1, N, N, N, N)), (5900, 7000, (N,)))
    assert judge(samples, settled=0, budget=6.0).verdict is Verdict.PASSED


def test_a_component_not_answering_after_the_deadline_is_a_finding() -> None:
    samples = timeline((0, 1000, (N,)), (1000, 8000, (N, None, N, N, N)))
    result = judge(samples, settled=0, budget=5.0)
    assert result.verdict is Verdict.FAILED
    assert "not answering in ['backend@prod-web-2']" in result.message


def test_a_third_version_is_a_finding() -> None:
    samples = timeline((0, 8000, ("0.9.0",)))
    result = judge(samples)
    assert result.verdict is Verdict.FAILED
    assert "neither 1.0.0 nor 1.1.0" in result.message


def test_sampling_that_ended_before_the_deadline_is_inconclusive() -> None:
    samples = timeline((0, 3000, (N,)))
    assert judge(samples, settled=0, budget=5.0).verdict is Verdict.INCONCLUSIVE
    # samples reach the deadline but the sampler said it stopped watching earlier
    assert judge(timeline((0, 8000, (N,))), settled=0, budget=5.0, until=4000).verdict is Verdict.INCONCLUSIVE


def test_no_sample_at_all_is_inconclusive() -> None:
    result = check_converged([], before=N, target=N1, settled_ms=T0, budget_s=1, observed_until_ms=T0 + 10_000)
    assert result.verdict is Verdict.INCONCLUSIVE


def test_unknown_components_do_not_make_a_sample_mixed() -> None:
    assert not at(0, N, None, N, None, N).mixed
    assert at(0, N, None, N1, None, N).mixed
    assert mixed_windows(timeline((0, 300, (N,)), (300, 500, (N, N1, N, N, N)), (500, 600, (N,)))) == [
        (T0 + 300, T0 + 500)
    ]


def test_a_trailing_mixed_window_ends_at_the_last_sample() -> None:
    samples = timeline((0, 300, (N,)), (300, 600, (N, N1, N, N, N)))
    assert mixed_windows(samples) == [(T0 + 300, T0 + 500)]


def entries(samples: list[Sample], *, reverted: int | None) -> list[dict]:
    out: list[dict] = [
        {"seq": 0, "op": "fault.inject", "type": "ok", "ts_ms": T0 + 1000, "fault": "runner_killed", "fault_id": "f1"}
    ]
    if reverted is not None:
        out.append({"seq": 1, "op": "fault.revert", "type": "ok", "ts_ms": T0 + reverted, "fault_id": "f1"})
    out += [
        {
            "seq": 2 + i,
            "op": "production.sample",
            "type": "info",
            "ts_ms": s.ts_ms,
            "probe": "components",
            "versions": s.versions,
        }
        for i, s in enumerate(samples)
    ]
    out.append(
        {
            "seq": 9999,
            "op": "watch.end",
            "type": "info",
            "ts_ms": samples[-1].ts_ms,
            "source": "production.components",
            "until_ms": samples[-1].ts_ms,
        }
    )
    return out


@pytest.mark.parametrize(("reverted", "expected"), [(None, Verdict.FAILED), (4000, Verdict.PASSED)])
def test_judge_takes_the_settle_time_from_the_fault_window(reverted: int | None, expected: Verdict) -> None:
    # Mixed until 6.5 s, budget 5 s. A permanent disruption (a killed runner) settles at its onset,
    # 1 s: deadline 6 s, still mixed, a finding. One reverted at 4 s: deadline 9 s, converged by then.
    samples = timeline((0, 6500, (N1, N, N, N, N)), (6500, 12_000, (N,)))
    request = CheckRequest("converged", {"before": N, "target": N1, "fault_id": "f1"}, {"recovery_budget_s": 5.0})
    assert judge_converged(History(entries(samples, reverted=reverted)), request).verdict is expected


def test_sampling_may_stop_early_once_production_is_quiescent_at_one_version() -> None:
    samples = timeline((0, 1000, (N,)), (1000, 1500, (N1, N, N, N, N)), (1500, 3000, (N1,)))
    common = {"before": N, "target": N1, "settled_ms": T0 + 500, "budget_s": 30.0}
    quiet = check_converged(samples, observed_until_ms=T0 + 2900, quiescent_ms=T0 + 2800, **common)
    assert quiet.verdict is Verdict.PASSED
    assert quiet.measured["final_version"] == N1 and quiet.measured["longest_mixed_s"] == 0.5
    # quiescence seen while still mixed proves nothing: keep watching
    early = check_converged(samples, observed_until_ms=T0 + 2900, quiescent_ms=T0 + 1200, **common)
    assert early.verdict is Verdict.INCONCLUSIVE
    assert check_converged(samples, observed_until_ms=T0 + 2900, **common).verdict is Verdict.INCONCLUSIVE

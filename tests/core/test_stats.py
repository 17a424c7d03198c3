"""Wilson bounds, trials needed, quantiles and their distribution-free bounds."""

from __future__ import annotations

import math

import pytest

from harness.core.stats import (
    quantile,
    quantile_trials_needed,
    quantile_upper_bound,
    rate_decision,
    trials_needed,
    wilson_interval,
    z_value,
)


def test_z_values() -> None:
    assert z_value(0.95) == pytest.approx(1.6449, abs=1e-4)
    assert z_value(0.95, one_sided=False) == pytest.approx(1.9600, abs=1e-4)
    with pytest.raises(ValueError):
        z_value(1.0)


def test_wilson_all_successes_lower_bound_is_n_over_n_plus_z2() -> None:
    low, high = wilson_interval(52, 52, 0.95)
    assert low == pytest.approx(52 / (52 + z_value(0.95) ** 2))
    assert high == 1.0


def test_wilson_known_value_two_sided() -> None:
    # 8 of 10, 95 % two-sided Wilson interval: [0.490, 0.943]
    low, high = wilson_interval(8, 10, 0.95, one_sided=False)
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)


def test_wilson_edge_cases() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 20)[0] == 0.0
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


def test_trials_needed_for_95_percent() -> None:
    assert trials_needed(0.95) == 52
    assert wilson_interval(51, 51)[0] < 0.95 <= wilson_interval(52, 52)[0]
    assert trials_needed(0.95, failures=1) > 52


def test_rate_decision() -> None:
    assert rate_decision(52, 52, 0.95).met
    refuted = rate_decision(5, 10, 0.95)
    assert refuted.decided and not refuted.met
    undecided = rate_decision(20, 20, 0.95)
    assert not undecided.decided


def test_quantile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert quantile(values, 0.5) == 5
    assert quantile(values, 0.95) == 10
    with pytest.raises(ValueError):
        quantile([], 0.5)


def test_quantile_upper_bound_needs_enough_samples() -> None:
    assert quantile_trials_needed(0.95, 0.95) == 59
    assert quantile_upper_bound([1.0] * 58, 0.95) is None
    assert quantile_upper_bound(list(map(float, range(59))), 0.95) == 58.0
    median_bound = quantile_upper_bound(list(map(float, range(100))), 0.5)
    assert median_bound is not None and 50 <= median_bound <= 60
    # coverage: P(Binomial(100, .5) <= k) >= .95 at the chosen order statistic
    k = int(median_bound)
    assert sum(math.comb(100, j) for j in range(k + 1)) / 2**100 >= 0.95

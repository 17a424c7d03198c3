"""Statistics for repeated trials: Wilson bounds on success rates, distribution-free quantile bounds.

A claim like "at least 95 % of deploys succeed" is decided on the bound, never on the point
estimate: PASSED when the lower bound clears the target, FAILED when the upper bound is below
it, otherwise not yet decided (and the report says how many trials would decide it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


def z_value(confidence: float, one_sided: bool = True) -> float:
    """The normal quantile for `confidence` (one- or two-sided)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    tail = 1 - confidence if one_sided else (1 - confidence) / 2
    return NormalDist().inv_cdf(1 - tail)


def wilson_interval(
    successes: int, trials: int, confidence: float = 0.95, one_sided: bool = True
) -> tuple[float, float]:
    """Wilson score bounds of a success proportion (each bound one-sided at `confidence` by default)."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} outside 0..{trials}")
    z = z_value(confidence, one_sided)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def trials_needed(target: float, confidence: float = 0.95, failures: int = 0, limit: int = 100_000) -> int:
    """Smallest number of trials with `failures` failures whose Wilson lower bound reaches `target`."""
    for n in range(failures + 1, limit):
        if wilson_interval(n - failures, n, confidence)[0] >= target:
            return n
    return limit


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def quantile_upper_bound(values: list[float], q: float, confidence: float = 0.95) -> float | None:
    """Distribution-free upper confidence bound of the q-quantile (order statistic), or None if n is too small."""
    ordered = sorted(values)
    n = len(ordered)
    cumulative = 0.0
    # X_(j+1) >= the q-quantile iff at most j observations fall below it: P(Binomial(n, q) <= j)
    for j in range(n):
        cumulative += math.comb(n, j) * q**j * (1 - q) ** (n - j)
        if cumulative >= confidence:
            return ordered[j]
    return None


def quantile_trials_needed(q: float, confidence: float = 0.95) -> int:
    """Fewest samples for which a distribution-free upper bound of the q-quantile exists (the maximum)."""
    return math.ceil(math.log(1 - confidence) / math.log(q))


@dataclass(frozen=True)
class RateDecision:
    """Where a success-rate claim stands after some trials."""

    successes: int
    trials: int
    lower: float
    upper: float
    target: float

    @property
    def decided(self) -> bool:
        """True once the bounds put the target on one side."""
        return self.lower >= self.target or self.upper < self.target

    @property
    def met(self) -> bool:
        """True when the lower bound reaches the target."""
        return self.lower >= self.target


def rate_decision(successes: int, trials: int, target: float, confidence: float = 0.95) -> RateDecision:
    """Bounds of the success rate and whether they decide the claim `rate >= target`."""
    lower, upper = wilson_interval(successes, trials, confidence)
    return RateDecision(successes, trials, lower, upper, target)

"""The `${{ }}` evaluator against GitHub's own `@actions/expressions` (Node), case by case.

The oracle is pinned in tools/oracles (package.json + package-lock.json; `npm ci` runs there when
node_modules is missing). Without node/npm these tests are skipped, except under
DCH_REQUIRE_HOST_TOOLS=1 (CI installs npm), where they fail instead.
"""

from __future__ import annotations

import math
import os

import pytest

from harness.github.errors import ExpressionError
from harness.github.expressions import Status, evaluate
from tests.github.expr_cases import CONTEXTS, ORACLE_DEVIATIONS, table_cases, table_ids
from tests.github.expr_oracle import (
    Case,
    Disagreement,
    Oracle,
    Outcome,
    disagreements,
    normal,
    prepare_oracle,
    report,
    simulate,
)
from tests.github.expr_strategies import generated_corpus


@pytest.fixture(scope="session")
def expr_oracle() -> Oracle:
    """GitHub's evaluator, ready to run (npm ci done); skip, or fail in CI, when it cannot run."""
    oracle = prepare_oracle()
    if isinstance(oracle, str):
        # CI (.ci/run) installs npm and sets DCH_REQUIRE_HOST_TOOLS=1: there a missing oracle fails
        if os.environ.get("DCH_REQUIRE_HOST_TOOLS") == "1":
            pytest.fail(oracle)
        pytest.skip(oracle)
    return oracle


@pytest.fixture(scope="module")
def table_outcomes(expr_oracle: Oracle) -> dict[str, Outcome]:
    """The oracle's outcome of every hand-written case, from one node process."""
    cases = table_cases()
    return {case.expr: outcome for case, outcome in zip(cases, expr_oracle.run(cases), strict=True)}


@pytest.mark.parametrize("case", table_cases(), ids=table_ids())
def test_documented_semantics_match_github(case: Case, table_outcomes: dict[str, Outcome]) -> None:
    ours, theirs = simulate(case), table_outcomes[case.expr]
    assert ours == theirs, str(Disagreement(case, ours, theirs))


def test_generated_expressions_match_github(expr_oracle: Oracle) -> None:
    corpus = generated_corpus()
    assert len(corpus) > 1000, "the hypothesis profile generated too few distinct expressions"
    found = disagreements(corpus, expr_oracle)
    assert not found, report(found, len(corpus))


def test_the_generated_corpus_is_deterministic() -> None:
    assert [c.expr for c in generated_corpus(60)] == [c.expr for c in generated_corpus(60)]


@pytest.mark.parametrize("expr", sorted(ORACLE_DEVIATIONS))
def test_known_oracle_deviations_keep_githubs_documented_behaviour(expr: str, expr_oracle: Oracle) -> None:
    expected, why = ORACLE_DEVIATIONS[expr]
    if expected is ExpressionError:
        with pytest.raises(ExpressionError):
            evaluate(expr, CONTEXTS, status=Status())
    else:
        assert evaluate(expr, CONTEXTS, status=Status()) == expected
    case = Case(expr, CONTEXTS)
    (theirs,) = expr_oracle.run([case])
    assert simulate(case) != theirs, f"the oracle now agrees on {expr!r} ({why}): move it to expr_cases' table"


def test_outcomes_tell_kinds_apart() -> None:
    assert normal(True) != normal(1)
    assert normal(math.nan) == normal({"$nonfinite": "NaN"})
    assert normal(-0.0) == normal(0)
    assert normal({"a": 1, "b": 2}) != normal({"b": 2, "a": 1})
    assert Outcome(error="parse", message="x") == Outcome(error="parse", message="y")
    assert Outcome(error="parse") != Outcome(error="eval")

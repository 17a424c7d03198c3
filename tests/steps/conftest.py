"""Step functions called directly, with a ScenarioState on a FakeEnvironment (no Docker, no pytest-bdd run).

No __init__.py here on purpose: tests/ is on sys.path, and a package named `steps` (or
`fixtures`) there would shadow the project's own packages of those names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fixtures.environment import ScenarioState
from harness.checks.enforce import VERDICT_OP
from harness.topology.fake_environment import FakeEnvironment

# Small waits, so a step that waits in vain gives up quickly; every other budget stays nightly.
FAST_BUDGETS = {"runner_ready_timeout_s": 0.3, "unhealthy_detection_timeout_s": 0.5, "deploy_timeout_s": 0.5}


@pytest.fixture
def env() -> Iterator[FakeEnvironment]:
    """Two healthy runners, production at 1.0.0 (state file recording it)."""
    fake = FakeEnvironment(budgets=FAST_BUDGETS).with_runner("primary").with_runner("secondary")
    with fake.with_production_version("1.0.0") as env:
        yield env


@pytest.fixture
def state(env: FakeEnvironment, request: pytest.FixtureRequest) -> Iterator[ScenarioState]:
    """What the `scenario` fixture builds, on the fake: a scenario window, feeds caught up, a cleanup stack.

    At teardown every fault a step entered is reverted, and none may be left in place."""
    with contextlib.ExitStack() as stack:
        yield ScenarioState.begin(env, request.node.name, stack)
    assert env.leftovers() == []


@pytest.fixture
def verdicts(env: FakeEnvironment) -> Callable[[str], list[dict[str, Any]]]:
    """The results journalled as check.verdict entries for one check name, oldest first."""

    def of(check: str) -> list[dict[str, Any]]:
        return [e["result"] for e in env.journal.entries(VERDICT_OP) if e["request"]["check"] == check]

    return of

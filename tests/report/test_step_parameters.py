"""What Allure shows as a step's parameters: allure-pytest-bdd lists every step argument by its repr
(`allure_commons.utils.represent`), the `scenario` fixture included, so ScenarioState's repr must be short
and free of memory addresses, while the Gherkin arguments (version, role, ...) stay as they are."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest
from allure_commons.utils import represent

from fixtures.environment import ScenarioState
from harness.core.types import Role
from harness.topology.fake_environment import FakeEnvironment

ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


@pytest.fixture
def state() -> Iterator[ScenarioState]:
    env = FakeEnvironment().with_runner("primary")
    with env, contextlib.ExitStack() as stack:
        yield ScenarioState.begin(env, "test_primary_offline[lock-runner killed]", stack)


def test_a_scenario_states_repr_is_its_name_with_no_memory_address(state: ScenarioState) -> None:
    state.run_ids.append(7)
    assert repr(state) == "ScenarioState('test_primary_offline[lock-runner killed]')"
    assert not ADDRESS.search(repr(state))


def test_step_parameters_as_allure_shows_them(state: ScenarioState) -> None:
    step_args = {"scenario": state, "version": "1.1.0", "role": Role.PRIMARY}
    shown = {name: represent(value) for name, value in step_args.items()}
    assert shown["scenario"] == "ScenarioState('test_primary_offline[lock-runner killed]')"
    assert shown["version"] == "'1.1.0'"
    assert "primary" in shown["role"]
    assert not any(ADDRESS.search(value) for value in shown.values())

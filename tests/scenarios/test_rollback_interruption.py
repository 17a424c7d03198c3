"""Bind features/rollback_interruption.feature (US3: a rollback cut off never leaves production mixed) to pytest."""

from __future__ import annotations

import re

from pytest_bdd import scenarios

from harness.core.pipeline_source import PipelineSource
from harness.core.settings import project_root
from steps.parsers import Disruption

FEATURE = "features/rollback_interruption.feature"

scenarios(FEATURE)


def test_the_rollback_matrix_names_real_steps_and_every_disruption_for_each() -> None:
    rows = re.findall(
        r"^\s*\|\s*([\w-]+)\s*\|\s*([\w ]+?)\s*\|\s*[\d.]+\s*\|\s*$", (project_root() / FEATURE).read_text(), re.M
    )
    steps = PipelineSource(project_root() / "pipeline").deploy_steps()
    chosen = sorted({step for step, _ in rows})
    assert set(chosen) <= set(steps)
    assert sorted(rows) == sorted((s, d.value) for s in chosen for d in Disruption)

"""Bind features/deploy_interruption.feature (US3: never mixed) to pytest, and hold its matrix to the pipeline."""

from __future__ import annotations

import re

from pytest_bdd import scenarios

from harness.core.pipeline_source import PipelineSource
from harness.core.settings import project_root
from steps.parsers import Disruption

FEATURE = "features/deploy_interruption.feature"

scenarios(FEATURE)


def examples() -> list[tuple[str, str]]:
    """(step, disruption) of every row of the outline's Examples table."""
    rows = re.findall(
        r"^\s*\|\s*([\w-]+)\s*\|\s*([\w ]+?)\s*\|\s*[\d.]+\s*\|\s*$", (project_root() / FEATURE).read_text(), re.M
    )
    return [(step, disruption) for step, disruption in rows]


def test_the_matrix_crosses_every_step_the_pipeline_declares_with_every_disruption() -> None:
    steps = PipelineSource(project_root() / "pipeline").deploy_steps()
    expected = sorted((s, d.value) for s in steps for d in Disruption)
    assert sorted(examples()) == expected

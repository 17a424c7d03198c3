"""harness.lint.actionlint: workflow findings at their line, shellcheck on `run:` scripts, the runner labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.pipeline_source import PipelineSource
from harness.lint import actionlint
from harness.lint.tree import materialise
from tests.lint.support import PIPELINE, Broken, line_of, need, plant


@pytest.fixture(autouse=True)
def _tools() -> None:
    need("actionlint", "shellcheck")


def test_the_reference_workflows_are_clean() -> None:
    with materialise(PipelineSource(PIPELINE)) as tree:
        assert actionlint.lint(tree) == []


def test_a_bad_workflow_key_is_found_at_its_line(broken: Broken) -> None:
    with materialise(PipelineSource(broken.root)) as tree:
        [finding] = actionlint.lint(tree)
    assert finding.render().startswith(f"{broken.workflow}:{broken.workflow_line}:5: actionlint: unexpected key")
    assert '"timeout-minute"' in finding.message and finding.message.endswith("[syntax-check]")


def test_a_run_script_goes_through_shellcheck(broken: Broken) -> None:
    plant(broken.workflow, "run: bash scripts/select-runner.sh", "run: echo $GITHUB_SHA > out.txt")
    plant(broken.workflow, "    timeout-minute: 5\n", "")
    with materialise(PipelineSource(broken.root)) as tree:
        [finding] = actionlint.lint(tree)
    assert (finding.path, finding.line) == (str(broken.workflow), line_of(broken.workflow, "echo $GITHUB_SHA"))
    assert "SC2086" in finding.message and finding.message.endswith("[shellcheck]")


def test_the_self_hosted_runner_labels_are_declared(broken: Broken) -> None:
    """A variant naming the production labels in runs-on is not flagged: .github/actionlint.yaml declares them."""
    plant(broken.workflow, "    timeout-minute: 5\n", "")
    plant(broken.workflow, "runs-on: ${{ fromJSON(needs.select-runner.outputs.labels) }}",
          "runs-on: [self-hosted, production, primary]")  # fmt: skip
    with materialise(PipelineSource(broken.root)) as tree:
        assert actionlint.lint(tree) == []
    (broken.root / ".github/actionlint.yaml").unlink()
    with materialise(PipelineSource(broken.root)) as tree:
        assert {f.message.split('"')[1] for f in actionlint.lint(tree)} == {"production", "primary"}


@pytest.mark.parametrize("variant", sorted(p.parts[-4] for p in PIPELINE.glob("variants/*/.github/workflows/*.yml")))
def test_variant_workflows_are_clean(variant: str, tmp_path: Path) -> None:
    """A negative control must fail for its planted defect, never for a workflow mistake."""
    with materialise(PipelineSource(PIPELINE, variant)) as tree:
        assert [f.render() for f in actionlint.lint(tree)] == []

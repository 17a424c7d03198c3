"""harness.lint.shellcheck: shell findings at their line and column, in the file a person edits."""

from __future__ import annotations

from harness.core.pipeline_source import PipelineSource
from harness.lint import shellcheck
from harness.lint.tree import materialise
from tests.lint.support import PIPELINE, Broken, need


def test_the_reference_scripts_are_clean() -> None:
    need("shellcheck")
    with materialise(PipelineSource(PIPELINE)) as tree:
        assert shellcheck.lint(tree) == []


def test_an_unquoted_variable_is_found_at_its_line_and_column(broken: Broken) -> None:
    need("shellcheck")
    col = next(line for n, line in enumerate(broken.script.read_text().splitlines(), 1) if n == broken.script_line)
    with materialise(PipelineSource(broken.root)) as tree:
        [finding] = shellcheck.lint(tree)
    assert finding.render() == (
        f"{broken.script}:{broken.script_line}:{col.index('$PROMETHEUS_URL') + 1}: shellcheck: "
        "SC2086 (info): Double quote to prevent globbing and word splitting."
    )


def test_a_variants_script_is_reported_in_the_variant(broken: Broken) -> None:
    need("shellcheck")
    overlay = broken.root / "variants/unquoted/scripts"
    overlay.mkdir(parents=True)
    (overlay / "select-runner.sh").write_text(broken.script.read_text())
    (broken.root / "scripts/select-runner.sh").write_text((PIPELINE / "scripts/select-runner.sh").read_text())
    with materialise(PipelineSource(broken.root, "unquoted")) as tree:
        [finding] = shellcheck.lint(tree)
    assert finding.path == str(overlay / "select-runner.sh")

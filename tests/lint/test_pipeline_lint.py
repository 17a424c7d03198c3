"""harness.lint.pipeline_lint: every tool on a pipeline at once; a missing tool is an error, not a silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.errors import ConfigError
from harness.core.pipeline_source import PipelineSource
from harness.lint import tools
from harness.lint.pipeline_lint import TOOL_NAMES, lint_pipeline
from tests.lint.support import PIPELINE, Broken, need, only_on_path


def test_the_reference_pipeline_lints_clean() -> None:
    need(*TOOL_NAMES)
    report = lint_pipeline(PipelineSource(PIPELINE))
    assert [f.render() for f in report.findings] == [] and report.errors == ()
    assert report.tools == TOOL_NAMES


def test_each_planted_defect_is_one_finding_at_its_file_and_line(broken: Broken) -> None:
    need(*TOOL_NAMES)
    report = lint_pipeline(PipelineSource(broken.root))
    assert report.errors == ()
    assert [(f.path, f.line, f.tool) for f in report.findings] == [
        (str(broken.workflow), broken.workflow_line, "actionlint"),
        (str(broken.playbook), broken.playbook_line, "ansible-playbook"),
        (str(broken.rules), broken.rules_line, "promtool"),
        (str(broken.script), broken.script_line, "shellcheck"),
    ]


def test_a_missing_tool_is_an_error_and_the_others_still_run(
    broken: Broken, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("actionlint", "shellcheck")
    only_on_path(monkeypatch, tmp_path / "bin", "shellcheck")
    report = lint_pipeline(PipelineSource(broken.root), ["actionlint", "shellcheck", "promtool"])
    assert report.errors == (
        f"promtool not found (checks the pipeline's Prometheus alert rules) in {tools.venv_bin()} or on PATH. "
        "Fix: apt-get install prometheus (Debian's package ships promtool)",
    )
    assert sorted(f.tool for f in report.findings) == ["actionlint", "shellcheck"]
    assert "2 finding(s), 1 tool error(s)" in report.summary()


def test_with_no_tool_at_all_every_one_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "venv_bin", lambda: tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    report = lint_pipeline(PipelineSource(PIPELINE))
    assert report.findings == ()
    assert [error.split()[0] for error in report.errors] == ["actionlint", "shellcheck", "promtool", "ansible-playbook"]
    assert all(". Fix: " in error for error in report.errors)


def test_only_the_chosen_tools_run(broken: Broken) -> None:
    need("shellcheck")
    report = lint_pipeline(PipelineSource(broken.root), ["shellcheck"])
    assert report.tools == ("shellcheck",)
    assert [f.tool for f in report.findings] == ["shellcheck"]


def test_an_unknown_tool_is_bad_input() -> None:
    with pytest.raises(ConfigError, match=r"unknown lint tool\(s\) yamllint\. Fix: choose among actionlint, "):
        lint_pipeline(PipelineSource(PIPELINE), ["yamllint"])

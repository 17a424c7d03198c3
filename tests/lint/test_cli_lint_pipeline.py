"""`deploy-chaos lint-pipeline` (harness/cli/commands.py): findings on stdout, and the exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.commands import EXIT_FINDINGS, EXIT_HARNESS_ERROR, EXIT_USAGE, build_parser, cmd_lint, main
from harness.lint import tools
from tests.lint.support import Broken, need, only_on_path


def test_lint_is_still_the_project_style_check() -> None:
    assert build_parser().parse_args(["lint"]).func is cmd_lint


def test_findings_exit_1_one_line_each(broken: Broken, capsys: pytest.CaptureFixture[str]) -> None:
    need("shellcheck")
    assert main(["lint-pipeline", "--pipeline", str(broken.root), "--tool", "shellcheck"]) == EXIT_FINDINGS
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    assert line.startswith(f"{broken.script}:{broken.script_line}:") and ": shellcheck: SC2086 (info): " in line
    assert err.startswith(f"pipeline lint ({broken.root}, reference; shellcheck): 1 finding(s), 0 tool error(s) in ")


def test_a_clean_variant_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    need("actionlint", "shellcheck")
    assert main(["lint-pipeline", "--variant", "no-failover", "--tool", "actionlint"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "variant no-failover; actionlint): 0 finding(s)" in err


def test_a_missing_tool_exits_2_saying_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tools, "venv_bin", lambda: tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["lint-pipeline", "--tool", "promtool"]) == EXIT_HARNESS_ERROR
    err = capsys.readouterr().err
    assert "deploy-chaos: error: promtool not found (" in err and "Fix: apt-get install prometheus" in err


def test_findings_win_over_a_missing_tool(
    broken: Broken, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    need("shellcheck")
    only_on_path(monkeypatch, tmp_path / "bin", "shellcheck")  # promtool is on no PATH
    argv = ["lint-pipeline", "--pipeline", str(broken.root), "--tool", "shellcheck", "--tool", "promtool"]
    assert main(argv) == EXIT_FINDINGS
    out, err = capsys.readouterr()
    assert out.startswith(f"{broken.script}:{broken.script_line}:") and "promtool not found" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--pipeline", "/no/such/folder"], "--pipeline /no/such/folder: no such folder. Fix: "),
        (["--variant", "no-such-variant"], "unknown pipeline variant 'no-such-variant'"),
        (["--tool", "yamllint"], "argument --tool: invalid choice: 'yamllint'"),
    ],
)
def test_bad_input_exits_3(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["lint-pipeline", *argv])
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    assert code == EXIT_USAGE
    assert message in capsys.readouterr().err

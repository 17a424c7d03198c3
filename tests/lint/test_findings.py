"""harness.lint.findings: one finding, one line."""

from __future__ import annotations

from harness.lint.findings import Finding, one_line


def test_a_finding_renders_as_path_line_col_tool_message() -> None:
    finding = Finding("pipeline/scripts/deploy.sh", 12, 5, "shellcheck", "SC2086 (info): Double quote\n  it")
    assert finding.render() == "pipeline/scripts/deploy.sh:12:5: shellcheck: SC2086 (info): Double quote it"


def test_one_line_collapses_every_whitespace_run() -> None:
    assert one_line("  a\n\tb   c\n") == "a b c"


def test_findings_sort_by_file_then_line_then_column() -> None:
    found = [Finding("b", 1, 1, "t", "m"), Finding("a", 10, 1, "t", "m"), Finding("a", 2, 7, "t", "m")]
    assert [(f.path, f.line) for f in sorted(found)] == [("a", 2), ("a", 10), ("b", 1)]

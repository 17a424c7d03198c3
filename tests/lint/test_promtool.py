"""harness.lint.promtool: rule findings at their line (promtool's own l:c), unit test failures at their eval_time.

The parsing of promtool's output is tested on its words (promtool 2.42, Debian bookworm) without promtool;
the rest runs promtool from the host.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.pipeline_source import PipelineSource
from harness.lint import promtool
from harness.lint.tree import LintTree, display_path, materialise
from tests.lint.support import PIPELINE, Broken, line_of, need, plant

RULES = "monitoring/rules/runner-alerts.yml"
TESTS = "monitoring/tests/runner-alerts.test.yml"


@pytest.fixture
def tree(tmp_path: Path) -> LintTree:
    """A copy holding the reference's runner rules and their unit tests, shown as the reference's files."""
    root = tmp_path / "copy"
    for rel in (RULES, TESTS):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text((PIPELINE / rel).read_text())
    return LintTree(root, {RULES: PIPELINE / RULES, TESTS: PIPELINE / TESTS}, tmp_path / "scratch")


def test_check_rules_errors_at_line_and_column_each_once(tree: LintTree) -> None:
    output = (
        "  FAILED:\n"
        f'{RULES}: 19:15: group "github-runners", rule 3, "BothRunnersOffline": could not parse expression: '
        '1:53: parse error: unexpected ")"\n' * 3
    )
    [finding] = promtool.check_failures(tree, [RULES], output)
    assert finding.render() == (
        f'{display_path(PIPELINE / RULES)}:19:15: promtool: group "github-runners", rule 3, "BothRunnersOffline": '
        'could not parse expression: 1:53: parse error: unexpected ")"'
    )


def test_check_rules_yaml_errors_with_and_without_a_column(tree: LintTree) -> None:
    output = (
        "  FAILED:\n"
        f"{RULES}: yaml: unmarshal errors:\n"
        "  line 8: field exr not found in type rulefmt.RuleNode\n"
        "  line 12: field bogus not found in type rulefmt.RuleNode\n"
        "  FAILED:\n"
        f"{RULES}: yaml: line 3: did not find expected '-' indicator\n"
        f'{RULES}: groupname: "g" is repeated\n'
    )
    found = [(f.line, f.col, f.message) for f in promtool.check_failures(tree, [RULES], output)]
    assert found == [
        (8, 1, "field exr not found in type rulefmt.RuleNode"),
        (12, 1, "field bogus not found in type rulefmt.RuleNode"),
        (3, 1, "yaml: did not find expected '-' indicator"),
        (1, 1, 'groupname: "g" is repeated'),
    ]


def test_a_failed_alert_test_is_found_at_its_eval_time(tree: LintTree) -> None:
    output = (
        "  FAILED:\n"
        "    name: primary down pages after 5m, not before,\n"
        "    alertname: RunnerOffline, time: 6m, \n"
        "        exp:[\n"
        "            0:\n"
        '              Labels:{alertname="RunnerOffline", runner="primary", severity="critical"}\n'
        '              Annotations:{summary="Primary production runner is offline"}\n'
        "            ], \n"
        "        got:[]\n"
    )
    [finding] = promtool.unit_test_failures(tree, TESTS, output)
    line = line_of(PIPELINE / TESTS, "- eval_time: 6m", unique=False)  # the first test's
    assert finding.render() == (
        f"{display_path(PIPELINE / TESTS)}:{line}:9: promtool: test 'primary down pages after 5m, not before': "
        "alert RunnerOffline at 6m: expected 1 alert(s), got 0"
    )


def test_an_unrecognised_test_failure_is_reported_whole_at_line_1(tree: LintTree) -> None:
    [finding] = promtool.unit_test_failures(tree, TESTS, "  FAILED:\n    1:12: parse error: bad input series\n")
    assert (finding.line, finding.col, finding.message) == (1, 1, "1:12: parse error: bad input series")


def test_the_reference_rules_and_their_unit_tests_pass() -> None:
    need("promtool")
    with materialise(PipelineSource(PIPELINE)) as tree:
        assert promtool.lint(tree) == []


def test_a_bad_promql_expression_is_found_at_its_line(broken: Broken) -> None:
    need("promtool")
    with materialise(PipelineSource(broken.root)) as tree:
        [finding] = promtool.lint(tree)
    assert finding.render().startswith(f"{broken.rules}:{broken.rules_line}:15: promtool: ")
    assert "parse error" in finding.message


def test_a_rule_that_fails_its_unit_test_is_found_in_the_test(broken: Broken) -> None:
    need("promtool")
    broken.rules.write_text((PIPELINE / RULES).read_text())
    plant(broken.rules, 'runner="primary"} == 0)\n        for: 5m', 'runner="primary"} == 0)\n        for: 7m')
    with materialise(PipelineSource(broken.root)) as tree:
        [finding] = promtool.lint(tree)
    test = broken.root / TESTS
    assert (finding.path, finding.line) == (str(test), line_of(test, "- eval_time: 6m", unique=False))
    assert finding.message.endswith("alert RunnerOffline at 6m: expected 1 alert(s), got 0")

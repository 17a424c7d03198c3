"""`deploy-chaos list` (harness/cli/listing.py) over the real features/, and over small made-up ones."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from harness.cli.commands import EXIT_USAGE, main
from harness.cli.listing import judged_checks, render_text, scenarios, step_definitions
from harness.core.errors import ConfigError
from harness.core.settings import project_root

ROOT = project_root()
DECLARED = re.compile(r"^\s*(?:Scenario|Scenario Outline|Example):\s*(.+?)\s*$", re.MULTILINE)


def declared(feature: str) -> list[str]:
    """Scenario names as written in features/`feature`, read without the Gherkin parser."""
    return DECLARED.findall((ROOT / "features" / feature).read_text())


def every_declared() -> list[str]:
    return [name for path in sorted((ROOT / "features").glob("*.feature")) for name in declared(path.name)]


def listed_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:
    assert main(["list", "--format", "json", *argv]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows)
    return rows


def test_text_lists_every_real_scenario_one_row_each(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # wide enough that no cell wraps
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["FEATURE", "SCENARIO", "TAGS", "CLAIMS", "CHECKED"]
    names = every_declared()
    assert names and all(name in out for name in names)
    [row] = [line for line in lines if "A healthy primary runner takes the production deploy" in line]
    assert row.startswith("runner_failover ")
    assert "@US1 @failover @docker" in row
    assert row.rstrip().endswith("placement, deployed, state_file, secrets")
    [alerts] = [line for line in lines if "An offline primary runner pages RunnerOffline" in line]
    assert "RunnerOffline{runner=primary}, alert_delivery, alert_resolved" in alerts
    assert f"{len(names)} scenario(s). Claims no scenario checks:" in out


def test_json_is_a_list_of_objects_with_the_claims_each_scenario_checks(capsys: pytest.CaptureFixture[str]) -> None:
    rows = listed_json(capsys)
    assert [r["scenario"] for r in rows] == every_declared()
    assert set(rows[0]) == {
        "feature",
        "line",
        "scenario",
        "examples",
        "tags",
        "alert_claims",
        "checks",
        "undefined_steps",
    }
    by_name = {r["scenario"]: r for r in rows}
    rate = by_name["Deploys succeed at least 95 % of the time when SSH connections to production drop"]
    assert rate["feature"] == "features/deploy_success_rate.feature"
    assert rate["tags"] == ["US1", "success-rate", "docker"]
    assert rate["checks"] == ["success_rate", "durations", "secrets"]
    assert rate["examples"] == 0
    [outline] = [r for r in rows if r["feature"] == "features/deploy_interruption.feature"]
    assert outline["scenario"] == declared("deploy_interruption.feature")[0]
    table = (ROOT / "features" / "deploy_interruption.feature").read_text().split("Examples:")[1]
    assert outline["examples"] == len([line for line in table.splitlines() if line.strip().startswith("|")]) - 1
    assert "converged" in outline["checks"]
    assert all(r["undefined_steps"] == [] for r in rows), "every step of features/ has a definition"
    assert all("secrets" in r["checks"] for r in rows), "the scenario fixture judges secrets after every scenario"


def test_claims_no_scenario_checks_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    rows, uncovered = scenarios(ROOT)
    checked = {a for r in rows for a in r.alert_claims}
    assert uncovered, "claims.py has alert claims no scenario pages for"
    assert all(line.startswith(("alert ", "check ")) for line in uncovered)
    assert not any(line.split()[1] in checked for line in uncovered)
    assert main(["list", "--format", "json"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("not covered by any scenario: ") and uncovered[0] in err


def test_one_tag(capsys: pytest.CaptureFixture[str]) -> None:
    rows = listed_json(capsys, "--tag", "US2")
    expected = declared("deploy_secrets.feature") + declared("runner_alerts.feature")
    assert [r["scenario"] for r in rows] == expected
    assert all("US2" in r["tags"] for r in rows)


def test_a_tag_expression_and_repeated_tags(capsys: pytest.CaptureFixture[str]) -> None:
    rows = listed_json(capsys, "--tag", "alerts and not US3")
    assert [r["scenario"] for r in rows] == declared("runner_alerts.feature")
    rows = listed_json(capsys, "--tag", "@US1", "--tag", "success-rate")
    assert [r["scenario"] for r in rows] == declared("deploy_success_rate.feature")
    assert listed_json(capsys, "--tag", "US1 and US2") == []


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("nosuch", "--tag 'nosuch': unknown tag 'nosuch'. Fix: use one of US1, US2, US3, "),
        ("US1 and", "--tag 'US1 and': expected not OR left parenthesis OR identifier; got end of input. Fix: "),
    ],
)
def test_an_unknown_tag_or_bad_expression_is_one_line_and_exit_3(
    tag: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--tag", tag]) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"deploy-chaos: error: {message}")


def test_text_cells_wrap_to_the_terminal_width() -> None:
    rows, _ = scenarios(ROOT)
    lines = render_text(rows, 120)
    assert max(len(line) for line in lines) <= 120
    starts = [line for line in lines[1:] if not line.startswith(" ")]
    assert len(starts) == len(rows)  # a row starts where FEATURE is filled; continuation lines are indented


def test_every_judge_call_in_steps_belongs_to_a_step_definition() -> None:
    """The listing attributes checks to step functions: a judge in a helper would be missed."""
    in_modules = {c for path in (ROOT / "steps").glob("*.py") for c in judged_checks(path.read_text())}
    in_steps = {c for d in step_definitions() for c in d.checks}
    assert in_modules and in_modules == in_steps


def test_judged_checks_reads_literal_checker_names_only() -> None:
    source = """
def step(scenario, check):
    scenario.judge("deployed", run_id=1)
    judge(journal, "secrets", secrets_known=2)
    scenario.judge(check)
    scenario.judge("no_such_checker")
    scenario.judge("deployed")
"""
    ast.parse(source)
    assert judged_checks(source) == ("deployed", "secrets")


def write(root: Path, name: str, text: str) -> None:
    (root / "features").mkdir(exist_ok=True)
    (root / "features" / name).write_text(text)


def test_examples_tags_filter_rows_of_an_outline_and_undefined_steps_are_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        "x.feature",
        """@US1
Feature: made up
  Scenario Outline: deploy <version>
    Given a healthy primary and secondary runner
    When a production deploy of version "<version>" is triggered
    Then something no step defines

    @slow
    Examples:
      | version |
      | 1.0.0   |
      | 1.1.0   |

    Examples:
      | version |
      | 2.0.0   |
""",
    )
    [row], _ = scenarios(tmp_path, ["slow"])
    assert (row.scenario, row.examples, row.tags) == ("deploy <version>", 2, ["US1", "slow"])
    assert row.undefined_steps == ["something no step defines"]
    [row], _ = scenarios(tmp_path)
    assert row.examples == 3


def test_a_feature_that_is_not_gherkin_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "bad.feature", "this is not Gherkin\nFeature: x\n")
    with pytest.raises(ConfigError, match=r"^features/bad\.feature: not valid Gherkin"):
        scenarios(tmp_path)

"""harness.report.claims_matrix: claim → scenarios → verdicts, figures and bounds; uncovered claims shown."""

from __future__ import annotations

import csv
import io
from typing import Any

from harness.checks.registry import CHECKERS
from harness.cli.listing import Scenario, scenarios
from harness.core.claims import ALERT_CLAIMS
from harness.core.settings import project_root
from harness.report.claims_matrix import (
    NO_VERDICT,
    NOT_COVERED,
    ClaimRow,
    bound,
    claim_status,
    claims_matrix,
    figures,
    item_names,
    render_csv,
    render_markdown,
    session_claims_matrix,
    summary,
)

FAILOVER = Scenario(
    "features/runner_failover.feature", 14, "The primary runner is offline: deploy fails over", 0, ["US1"],
    checks=["failover", "deployed", "secrets"],
)  # fmt: skip
ALERTS = Scenario(
    "features/runner_alerts.feature", 6, "An offline primary runner pages RunnerOffline", 0, ["US2"],
    alert_claims=["RunnerOffline{runner=primary}"], checks=["alert_delivery", "secrets"],
)  # fmt: skip
CUT_OFF = Scenario(
    "features/deploy_interruption.feature", 13, "A deploy cut off at its <step> step by <disruption>", 4, ["US3"],
    checks=["converged", "secrets"],
)  # fmt: skip
LISTED = [FAILOVER, ALERTS, CUT_OFF]


def verdict(scenario: str, check: str, result: str = "passed", **extra: Any) -> dict[str, Any]:
    return {"scenario": scenario, "check": check, "verdict": result, "params": {}, "message": "", **extra}


VERDICTS = [
    verdict(
        "test_the_primary_runner_is_offline_deploy_fails_over",
        "failover",
        measured={"failover_s": 12.345, "seen_unhealthy_ms": 1_700_000_000_000, "runner": "runner-secondary"},
        budget={"failover_budget_s": 60.0},
    ),
    verdict("test_the_primary_runner_is_offline_deploy_fails_over", "secrets", measured={"logs_checked": 3}),
    verdict(
        "test_an_offline_primary_runner_pages_runneroffline",
        "alert_delivery",
        "failed",
        params={"alertname": "RunnerOffline", "role": "primary", "fault_id": "f-1"},
        measured={"onset_to_pending_s": 4.0},
        budget={"for_s": 300.0, "scrape_interval_s": 5.0, "budget_s": 320.0},
        message="RunnerOffline did not reach\nthe on-call | within 320 s",
    ),
    verdict(
        "test_a_deploy_cut_off_at_its_step_step_by_disruption[lock-runner killed-7.1.0]",
        "converged",
        "inconclusive",
        measured={"recovery_s": None, "longest_mixed_s": 0.5},
        budget={"recovery_budget_s": 30.0},
    ),
]


def rows_of(rows: list[ClaimRow], claim: str) -> list[ClaimRow]:
    return [r for r in rows if r.claim == claim]


def test_every_claim_has_a_row_alert_claims_first_then_every_checker() -> None:
    rows = claims_matrix(VERDICTS, LISTED)
    claims = list(dict.fromkeys(r.claim for r in rows))
    assert len(claims) == len(ALERT_CLAIMS) + len(CHECKERS)
    assert claims[0] == "alert RunnerOffline{runner=primary} (for 300 s, critical)"
    assert claims[len(ALERT_CLAIMS)] == f"check {next(iter(CHECKERS))}"


def test_a_verdict_row_gives_scenario_verdict_measured_figures_and_bound() -> None:
    [row] = rows_of(claims_matrix(VERDICTS, LISTED), "check failover")
    assert row == ClaimRow(
        "check failover",
        FAILOVER.feature,
        FAILOVER.scenario,
        "passed",
        "failover_s=12.345",  # the wall-clock *_ms and the runner's name are not figures
        "failover_budget_s=60",
    )


def test_an_alert_verdict_counts_for_its_alert_claim_and_for_its_checker() -> None:
    rows = claims_matrix(VERDICTS, LISTED)
    [alert] = rows_of(rows, "alert RunnerOffline{runner=primary} (for 300 s, critical)")
    [check] = rows_of(rows, "check alert_delivery")
    assert alert.verdict == check.verdict == "failed"
    assert alert.scenario == ALERTS.scenario
    assert alert.bound == "budget_s=320"
    assert alert.message == "RunnerOffline did not reach the on-call | within 320 s"
    assert rows_of(rows, "alert RunnerOffline{runner=secondary} (for 600 s, warning)") == [
        ClaimRow("alert RunnerOffline{runner=secondary} (for 600 s, warning)", "", "", NOT_COVERED)
    ]


def test_an_outline_row_names_the_scenario_and_its_example() -> None:
    [row] = rows_of(claims_matrix(VERDICTS, LISTED), "check converged")
    assert row.scenario == f"{CUT_OFF.scenario} [lock-runner killed-7.1.0]"
    assert (row.verdict, row.measured, row.bound) == ("inconclusive", "longest_mixed_s=0.5", "recovery_budget_s=30")


def test_a_listed_scenario_without_a_verdict_and_an_unchecked_claim() -> None:
    rows = claims_matrix(VERDICTS, LISTED)
    assert [(r.scenario, r.verdict) for r in rows_of(rows, "check secrets")] == [
        (FAILOVER.scenario, "passed"),
        (ALERTS.scenario, NO_VERDICT),
        (CUT_OFF.scenario, NO_VERDICT),
    ]
    assert rows_of(rows, "check placement") == [ClaimRow("check placement", "", "", NOT_COVERED)]


def test_a_verdict_of_an_unlisted_scenario_keeps_its_test_name() -> None:
    [row] = rows_of(claims_matrix([verdict("test_made_up[x]", "placement")], []), "check placement")
    assert (row.feature, row.scenario, row.verdict) == ("", "test_made_up [x]", "passed")


def test_item_names_follow_pytest_bdd_and_flag_names_two_features_share() -> None:
    twin = Scenario("features/b.feature", 3, FAILOVER.scenario, 0, [])
    again = Scenario(FAILOVER.feature, 30, FAILOVER.scenario, 0, [])
    names = item_names([FAILOVER, again, twin, ALERTS])
    assert names["test_the_primary_runner_is_offline_deploy_fails_over"] is None  # a.feature and b.feature
    assert names["test_the_primary_runner_is_offline_deploy_fails_over_1"] is again
    assert names["test_an_offline_primary_runner_pages_runneroffline"] is ALERTS


def test_figures_and_bounds() -> None:
    assert figures({"a_s": 1.0, "n": 3, "ok": True, "at_ms": 5, "who": "x", "none": None}) == "a_s=1, n=3"
    assert bound({"p50_budget_s": 600.0, "success_rate_min": 0.95, "confidence": 0.95}) == (
        "p50_budget_s=600, success_rate_min=0.95"
    )
    assert bound({"for_s": 27.0}) == "for_s=27"
    assert bound({}) == ""


def test_a_claims_status_is_its_worst_row() -> None:
    def status(*verdicts: str) -> str:
        return claim_status(ClaimRow("c", "", "", v) for v in verdicts)

    assert status("passed", "passed") == "passed"
    assert status("passed", NO_VERDICT) == NO_VERDICT
    assert status(NO_VERDICT, "inconclusive", "passed") == "inconclusive"
    assert status("inconclusive", "failed") == "failed"
    assert status(NOT_COVERED) == NOT_COVERED


def test_markdown_has_a_summary_and_one_table_row_per_row_the_claim_shown_once() -> None:
    rows = claims_matrix(VERDICTS, LISTED)
    text = render_markdown(rows)
    lines = text.splitlines()
    assert lines[0] == "# Claims matrix"
    assert lines[2] == summary(rows) + "."
    assert summary(rows).startswith(f"{len(ALERT_CLAIMS) + len(CHECKERS)} claims: 1 passed, 2 failed, 1 inconclusive")
    assert lines[4] == "| Claim | Scenario | Verdict | Measured | Bound |"
    table = lines[6:]
    assert len(table) == len(rows)
    assert "| check failover | runner_failover: The primary runner is offline: deploy fails over | ✓ passed |" in text
    secrets = [line for line in table if "check secrets" in line or line.startswith("|  | ")]
    assert "| check secrets | runner_failover: The primary runner" in secrets[0]
    assert "| — not covered |" in text and "| ✗ FAILED |" in text


def test_csv_has_every_field_of_every_row() -> None:
    rows = claims_matrix(VERDICTS, LISTED)
    parsed = list(csv.reader(io.StringIO(render_csv(rows))))
    assert parsed[0] == ["claim", "feature", "scenario", "verdict", "measured", "bound", "message"]
    assert [ClaimRow(*line) for line in parsed[1:]] == rows


def test_over_the_real_features_the_uncovered_claims_are_those_list_reports() -> None:
    listed, uncovered = scenarios(project_root())
    rows = session_claims_matrix([], project_root())
    assert sorted({r.claim for r in rows if r.verdict == NOT_COVERED}) == sorted(uncovered)
    assert {r.verdict for r in rows} == {NO_VERDICT, NOT_COVERED}
    assert {(r.feature, r.scenario) for r in rows if r.verdict == NO_VERDICT} == {
        (s.feature, s.scenario) for s in listed
    }  # every scenario checks something (the secrets check at least)

"""harness.report.matrix: the step x disruption table of the US3 interruption scenarios."""

from __future__ import annotations

from harness.report.matrix import interruption_matrix


def row(step: str, disruption: str, verdict: str = "passed", **measured: object) -> dict:
    return {
        "check": "converged",
        "verdict": verdict,
        "params": {"step": step, "disruption": disruption},
        "measured": {"final_version": "1.0.0", "recovery_s": 9.7, "longest_mixed_s": 10.1, **measured},
    }


def test_one_line_per_step_one_column_per_disruption() -> None:
    lines = interruption_matrix(
        [
            row("lock", "runner_killed"),
            row("lock", "runner_offline", "failed", recovery_s=None, final_version=None),
            row("backend", "runner_killed"),
            {"check": "secrets", "verdict": "passed"},
        ]
    )
    assert lines[0] == "| step | runner_killed | runner_offline |"
    assert lines[2] == (
        "| lock | ✓ → 1.0.0; recovery 9.7 s; mixed ≤ 10.1 s | ✗ FINDING → None; not converged; mixed ≤ 10.1 s |"
    )
    assert lines[3] == "| backend | ✓ → 1.0.0; recovery 9.7 s; mixed ≤ 10.1 s |  |"


def test_no_interruption_verdicts_no_table() -> None:
    assert interruption_matrix([{"check": "failover", "verdict": "passed"}]) == []


def test_rollback_runs_have_a_table_of_their_own() -> None:
    rollback = row("migrate", "runner_killed", final_version="2.0.0")
    rollback["params"]["run_kind"] = "rollback"
    rows = [row("migrate", "runner_killed"), rollback]
    assert "→ 1.0.0" in interruption_matrix(rows)[2] and "2.0.0" not in interruption_matrix(rows)[2]
    assert "→ 2.0.0" in interruption_matrix(rows, "rollback")[2]
    assert interruption_matrix([row("lock", "runner_killed")], "rollback") == []

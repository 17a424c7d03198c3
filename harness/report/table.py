"""The measurement table: one line per verdict, grouped by scenario (end of a run, and `recheck`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def measurement_lines(checks: Sequence[dict[str, Any]]) -> list[str]:
    """Lines of the table for verdict rows ({scenario, check, verdict, measured, budget, ...})."""
    lines: list[str] = []
    scenario = None
    for check in checks:
        if check["scenario"] != scenario:
            scenario = check["scenario"]
            lines.append(f"{scenario}:")
        figures = ", ".join(
            f"{k}={v}"
            for k, v in check.get("measured", {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool) and not k.endswith("_ms")
        )
        budget = ", ".join(f"{k}={v}" for k, v in check.get("budget", {}).items() if k.endswith("budget_s"))
        lines.append(f"  {check['verdict']:<12} {check['check']:<18} {figures}" + (f"  [{budget}]" if budget else ""))
    return lines

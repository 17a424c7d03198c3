"""The US3 interruption matrix: step x disruption, with each cell's verdict, recovery time and longest mixed window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MARK = {"passed": "✓", "failed": "✗ FINDING", "inconclusive": "? inconclusive"}


RUN_KINDS = ("deploy", "rollback")  # what was cut off: a deploy run, or a rollback run (workflows/rollback.yml)


def interruption_matrix(rows: Sequence[dict[str, Any]], kind: str = "deploy") -> list[str]:
    """Markdown table lines from verdict rows of the `converged` check of runs of `kind` (empty when none)."""
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        params = row.get("params") or {}
        if params.get("run_kind", "deploy") != kind:
            continue
        if row.get("check") == "converged" and params.get("step") and params.get("disruption"):
            cells[(params["step"], params["disruption"])] = row
    if not cells:
        return []
    steps = list(dict.fromkeys(step for step, _ in cells))
    disruptions = sorted({d for _, d in cells})
    lines = ["| step | " + " | ".join(disruptions) + " |", "|---|" + "---|" * len(disruptions)]
    for step in steps:
        line = []
        for disruption in disruptions:
            row = cells.get((step, disruption))
            if row is None:
                line.append("")
                continue
            m = row.get("measured", {})
            figures = f"recovery {m['recovery_s']:.1f} s" if m.get("recovery_s") is not None else "not converged"
            landed = f" (landed in {m['landed_in']})" if m.get("landed_in") not in (None, step) else ""
            line.append(
                f"{MARK.get(row['verdict'], row['verdict'])} → {m.get('final_version')}; {figures}; "
                f"mixed ≤ {m.get('longest_mixed_s', 0):.1f} s{landed}"
            )
        lines.append(f"| {step} | " + " | ".join(line) + " |")
    return lines

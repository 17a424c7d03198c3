"""The claims matrix: each claim, the scenarios that check it, their verdicts, measured figures and bounds.

The claims and which scenario checks which are `deploy-chaos list`'s (harness/cli/listing.py): the
alert claims of harness/core/claims.py and the checkers of the registry, derived from the steps.
The verdicts are the rows the session collects (fixtures/verdicts.py, reports/verdicts.json), whose
`scenario` is the pytest item's name (`test_<scenario name>[<example>]`, as pytest-bdd names it).

A claim no scenario checks is one row marked NOT_COVERED; a scenario that checks a claim but has no
verdict for it in these rows (not run in this session, or stopped before that check) is NO_VERDICT.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from pytest_bdd.scenario import get_python_name_generator

from harness.checks.registry import CHECKERS
from harness.cli.listing import Scenario, alert_label, scenarios
from harness.core.claims import ALERT_CLAIMS, AlertClaim, alert_claim
from harness.core.errors import ConfigError

NOT_COVERED = "not covered"
NO_VERDICT = "no verdict"
MARK = {"passed": "✓ passed", "failed": "✗ FAILED", "inconclusive": "? inconclusive", NOT_COVERED: "— not covered"}
SEVERITY = ("failed", "inconclusive", NO_VERDICT, "passed")  # a claim's status: its worst row, in this order
BOUND_SUFFIXES = ("budget_s", "_min", "_max")


@dataclass(frozen=True)
class ClaimRow:
    """One line of the matrix: a claim, one scenario (run) that checks it, and what it measured."""

    claim: str
    feature: str
    scenario: str
    verdict: str
    measured: str = ""
    bound: str = ""
    message: str = ""


def claim_title(claim: AlertClaim | str) -> str:
    """`alert RunnerOffline{runner=primary} (for 300 s, critical)` or `check failover`, as `list` names them."""
    if isinstance(claim, AlertClaim):
        return f"alert {alert_label(claim)} (for {claim.for_s:g} s, {claim.severity})"
    return f"check {claim}"


def claims_matrix(verdicts: Sequence[dict[str, Any]], listed: Sequence[Scenario]) -> list[ClaimRow]:
    """Rows for every claim (alert claims, then checkers), from verdict rows and the listed scenarios."""
    by_test = item_names(listed)
    rows: list[ClaimRow] = []
    for claim in ALERT_CLAIMS:
        label = alert_label(claim)
        checking = [s for s in listed if label in s.alert_claims]
        judged = [v for v in verdicts if selects(v, claim)]
        rows += _rows(claim_title(claim), checking, judged, by_test)
    for name in CHECKERS:
        checking = [s for s in listed if name in s.checks]
        rows += _rows(claim_title(name), checking, [v for v in verdicts if v.get("check") == name], by_test)
    return rows


def session_claims_matrix(verdicts: Sequence[dict[str, Any]], root: Path) -> list[ClaimRow]:
    """`claims_matrix` of `verdicts` against every scenario under root/features (as `deploy-chaos list` reads them)."""
    listed, _ = scenarios(root)
    return claims_matrix(verdicts, listed)


def selects(verdict: dict[str, Any], claim: AlertClaim) -> bool:
    """True when a verdict row judged `claim` (its params name the alert, and the runner when per runner)."""
    params = verdict.get("params") or {}
    if not params.get("alertname"):
        return False
    role = params.get("role")
    try:
        return alert_claim(str(params["alertname"]), str(role) if role is not None else None) == claim
    except ConfigError:
        return False


def item_names(listed: Sequence[Scenario]) -> dict[str, Scenario | None]:
    """The pytest function name pytest-bdd gives each scenario (None: two features give the same name)."""
    names: dict[str, Scenario | None] = {}
    for feature in dict.fromkeys(s.feature for s in listed):
        taken: set[str] = set()
        for scenario in (s for s in listed if s.feature == feature):
            name = next(n for n in get_python_name_generator(scenario.scenario) if n not in taken)
            taken.add(name)
            names[name] = None if name in names else scenario
    return names


def _rows(
    title: str, checking: Sequence[Scenario], judged: Sequence[dict[str, Any]], by_test: dict[str, Scenario | None]
) -> list[ClaimRow]:
    rows = []
    seen: set[tuple[str, int]] = set()
    for verdict in judged:
        test, _, example = str(verdict.get("scenario", "")).partition("[")
        scenario = by_test.get(test)
        if scenario is not None:
            seen.add((scenario.feature, scenario.line))
        name = scenario.scenario if scenario is not None else test
        rows.append(
            ClaimRow(
                title,
                scenario.feature if scenario is not None else "",
                name + (f" [{example.removesuffix(']')}]" if example else ""),
                str(verdict.get("verdict", "")),
                figures(verdict.get("measured") or {}),
                bound(verdict.get("budget") or {}),
                " ".join(str(verdict.get("message", "")).split())[:300],
            )
        )
    rows += [ClaimRow(title, s.feature, s.scenario, NO_VERDICT) for s in checking if (s.feature, s.line) not in seen]
    return rows or [ClaimRow(title, "", "", NOT_COVERED)]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _pairs(data: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in data.items())


def figures(measured: dict[str, Any]) -> str:
    """The measured numbers (wall-clock timestamps, `*_ms`, left out): `failover_s=1.5, attempts=2`."""
    return _pairs({k: v for k, v in measured.items() if _number(v) and not k.endswith("_ms")})


def bound(budget: dict[str, Any]) -> str:
    """The bounds a verdict was held to (`*budget_s`, `*_min`, `*_max`; else every number of the budget)."""
    numbers = {k: v for k, v in budget.items() if _number(v)}
    named = {k: v for k, v in numbers.items() if k.endswith(BOUND_SUFFIXES)}
    return _pairs(named or numbers)


def claim_status(rows: Iterable[ClaimRow]) -> str:
    """One claim's status: NOT_COVERED, else its worst verdict (failed, inconclusive, no verdict, passed)."""
    verdicts = {r.verdict for r in rows}
    if NOT_COVERED in verdicts:
        return NOT_COVERED
    return next((v for v in SEVERITY if v in verdicts), "passed")


def _by_claim(rows: Sequence[ClaimRow]) -> dict[str, list[ClaimRow]]:
    grouped: dict[str, list[ClaimRow]] = {}
    for row in rows:
        grouped.setdefault(row.claim, []).append(row)
    return grouped


def summary(rows: Sequence[ClaimRow]) -> str:
    """`27 claims: 10 passed, 1 failed, …`: how many claims have each status."""
    statuses = [claim_status(group) for group in _by_claim(rows).values()]
    order = ("passed", "failed", "inconclusive", NO_VERDICT, NOT_COVERED)
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in order if statuses.count(s))
    return f"{len(statuses)} claims: {counts}" if statuses else "0 claims"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown(rows: Sequence[ClaimRow]) -> str:
    """The matrix as a Markdown document: a summary line, then one table row per ClaimRow (claim shown once)."""
    lines = [
        "# Claims matrix",
        "",
        summary(rows) + ".",
        "",
        "| Claim | Scenario | Verdict | Measured | Bound |",
        "|---|---|---|---|---|",
    ]
    for claim, group in _by_claim(rows).items():
        for i, row in enumerate(group):
            where = f"{Path(row.feature).stem}: {row.scenario}" if row.feature else row.scenario
            cells = (claim if i == 0 else "", where, MARK.get(row.verdict, row.verdict), row.measured, row.bound)
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render_csv(rows: Sequence[ClaimRow]) -> str:
    """The matrix as CSV: a header, then every field of every row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.name for f in fields(ClaimRow)])
    writer.writerows(astuple(r) for r in rows)
    return out.getvalue()

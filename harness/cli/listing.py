"""`deploy-chaos list`: the Gherkin scenarios, their tags and the claims each one checks.

Scenarios come from features/*.feature through the official Gherkin parser and compiler (the
one pytest-bdd bundles), so outlines expand and tags inherit exactly as when they run. What a
scenario checks is derived, not declared: each step is matched against the step definitions
pytest-bdd would use (the `steps` package), and a step checks what its function passes to
`judge` (the checker registry's names, as `recheck --check` takes them) and, for alert steps,
the alert claim of harness/core/claims.py its alert name and runner select. Checks judged by the
`scenario` fixture itself (fixtures/) apply to every scenario.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gherkin.parser import Parser
from gherkin.pickles.compiler import Compiler

from harness.checks.registry import CHECKERS
from harness.core.claims import ALERT_CLAIMS, AlertClaim, alert_claim
from harness.core.errors import ConfigError

STEP_TYPES = {"Context": "given", "Action": "when", "Outcome": "then"}
HEADERS = ("FEATURE", "SCENARIO", "TAGS", "CLAIMS CHECKED")


@dataclass(frozen=True)
class StepDef:
    """A step definition: its type (None: any), the pytest-bdd parser and the checks its function judges."""

    type: str | None
    parser: Any
    checks: tuple[str, ...]


@dataclass(frozen=True)
class Pickle:
    """One runnable scenario (one row of an outline) with what it checks."""

    feature: str
    scenario_id: str
    tags: tuple[str, ...]
    alerts: tuple[str, ...]
    checks: tuple[str, ...]
    undefined: tuple[str, ...]


@dataclass
class Scenario:
    """A scenario or outline as listed: where it is, its tags and the claims its runs check."""

    feature: str
    line: int
    scenario: str
    examples: int
    tags: list[str]
    alert_claims: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    undefined_steps: list[str] = field(default_factory=list)


def alert_label(claim: AlertClaim) -> str:
    """`RunnerOffline{runner=primary}`: the alert name and the labels that select the claim."""
    labels = ",".join(f"{k}={v}" for k, v in claim.labels)
    return f"{claim.alertname}{{{labels}}}" if labels else claim.alertname


def judged_checks(source: str) -> tuple[str, ...]:
    """Checker names passed as literals to `judge(...)` / `x.judge(...)` in `source`, in order, once each."""
    found: list[str] = []
    for node in ast.walk(ast.parse(textwrap.dedent(source))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name != "judge":
            continue
        for arg in node.args:
            if isinstance(arg, ast.Constant) and arg.value in CHECKERS and arg.value not in found:
                found.append(arg.value)
    return tuple(found)


def step_definitions() -> list[StepDef]:
    """Every step definition of the `steps` package, as pytest-bdd registered it on import."""
    from pytest_bdd.steps import step_function_context_registry

    import steps

    for module in pkgutil.iter_modules(steps.__path__):
        importlib.import_module(f"steps.{module.name}")
    return [
        StepDef(ctx.type, ctx.parser, judged_checks(inspect.getsource(ctx.step_func)))
        for ctx in list(step_function_context_registry.values())
        if ctx.step_func.__module__.startswith("steps.")
    ]


def every_scenario_checks(root: Path) -> tuple[str, ...]:
    """Checks the fixtures judge for every scenario (e.g. no secret in any job log)."""
    found: list[str] = []
    for path in sorted((root / "fixtures").glob("*.py")):
        found += [c for c in judged_checks(path.read_text()) if c not in found]
    return tuple(found)


def _claims_of(steps: Sequence[dict[str, Any]], defs: Sequence[StepDef]) -> tuple[list[str], list[str], list[str]]:
    alerts: list[str] = []
    checks: list[str] = []
    undefined: list[str] = []
    for step in steps:
        kind = STEP_TYPES.get(step["type"])
        match = next((d for d in defs if d.type in (kind, None) and d.parser.is_matching(step["text"])), None)
        if match is None:
            undefined.append(step["text"])
            continue
        checks += [c for c in match.checks if c not in checks]
        args = match.parser.parse_arguments(step["text"]) or {}
        if "alertname" in args:
            role = args.get("role")
            label = alert_label(alert_claim(str(args["alertname"]), str(role) if role is not None else None))
            alerts += [label] if label not in alerts else []
    return alerts, checks, undefined


def _scenario_nodes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every scenario node of a Gherkin document by id (rules included)."""
    nodes: dict[str, dict[str, Any]] = {}
    children = list(document.get("feature", {}).get("children", []))
    while children:
        child = children.pop(0)
        if "rule" in child:
            children += child["rule"].get("children", [])
        elif "scenario" in child:
            nodes[child["scenario"]["id"]] = child["scenario"]
    return nodes


def load_pickles(root: Path, defs: Sequence[StepDef], every: Sequence[str]) -> tuple[list[Pickle], dict[str, Any]]:
    """The runnable scenarios of root/features and each scenario node (name, line) by (feature, id)."""
    pickles: list[Pickle] = []
    nodes: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted((root / "features").glob("*.feature")):
        feature = str(path.relative_to(root))
        try:
            document: dict[str, Any] = dict(Parser().parse(path.read_text()))
        except Exception as exc:  # gherkin's CompositeParserException and friends
            raise ConfigError(
                f"{feature}: not valid Gherkin ({' '.join(str(exc).split())[:200]}). "
                "Fix: correct that file (pytest-bdd rejects it too)"
            ) from None
        document["uri"] = feature
        nodes.update({(feature, sid): node for sid, node in _scenario_nodes(document).items()})
        for pickle in Compiler().compile(document):  # type: ignore[arg-type]
            alerts, checks, undefined = _claims_of(pickle["steps"], defs)
            pickles.append(
                Pickle(
                    feature,
                    pickle["astNodeIds"][0],
                    tuple(dict.fromkeys(tag["name"].lstrip("@") for tag in pickle["tags"])),
                    tuple(alerts),
                    tuple(checks + [c for c in every if c not in checks]),
                    tuple(undefined),
                )
            )
    return pickles, nodes


def tag_filter(expressions: Sequence[str], known: Iterable[str]) -> Callable[[Sequence[str]], bool]:
    """A predicate on a scenario's tags: every expression (pytest -m syntax: and, or, not, parentheses) holds."""
    from _pytest.mark.expression import Expression

    known = set(known)
    compiled = []
    for text in expressions:
        text = " ".join(word.lstrip("@") for word in text.split())
        try:
            expression = Expression.compile(text)
        except SyntaxError as exc:
            raise ConfigError(f"--tag {text!r}: {exc.msg}. Fix: e.g. --tag US1 or --tag 'alerts and not US3'") from None
        unknown = sorted(set(expression.idents()) - known)
        if unknown:
            raise ConfigError(
                f"--tag {text!r}: unknown tag {', '.join(map(repr, unknown))}. "
                f"Fix: use one of {', '.join(sorted(known))}"
            )
        compiled.append(expression)

    def matches(tags: Sequence[str]) -> bool:
        return all(e.evaluate(lambda name, /, **kwargs: not kwargs and name in tags) for e in compiled)

    return matches


def scenarios(root: Path, tags: Sequence[str] = ()) -> tuple[list[Scenario], list[str]]:
    """The scenarios under root/features matching every `tags` expression, and the claims no scenario checks."""
    every = every_scenario_checks(root)
    pickles, nodes = load_pickles(root, step_definitions(), every)
    match = tag_filter(tags, {t for p in pickles for t in p.tags})
    listed: dict[tuple[str, str], Scenario] = {}
    for p in pickles:
        if not match(p.tags):
            continue
        node = nodes[(p.feature, p.scenario_id)]
        row = listed.setdefault(
            (p.feature, p.scenario_id), Scenario(p.feature, node["location"]["line"], node["name"], 0, [])
        )
        row.examples += 1 if node.get("examples") else 0
        row.tags.extend(t for t in p.tags if t not in row.tags)
        row.alert_claims.extend(a for a in p.alerts if a not in row.alert_claims)
        row.checks.extend(c for c in p.checks if c not in row.checks)
        row.undefined_steps.extend(s for s in p.undefined if s not in row.undefined_steps)
    return list(listed.values()), not_covered(pickles)


def not_covered(pickles: Sequence[Pickle]) -> list[str]:
    """Alert claims (harness/core/claims.py) and checkers (the registry) that no scenario checks."""
    alerts = {a for p in pickles for a in p.alerts}
    checks = {c for p in pickles for c in p.checks}
    return [
        *(
            f"alert {alert_label(c)} (for {c.for_s:g} s, {c.severity})"
            for c in ALERT_CLAIMS
            if alert_label(c) not in alerts
        ),
        *(f"check {name}" for name in CHECKERS if name not in checks),
    ]


def render_json(rows: Sequence[Scenario]) -> str:
    """A JSON list of scenario objects."""
    return json.dumps([asdict(r) for r in rows], indent=2)


def render_text(rows: Sequence[Scenario], width: int) -> list[str]:
    """One table, its cells wrapped to fit `width` columns (a new row starts where FEATURE is filled)."""
    cells = [
        (
            Path(r.feature).stem,
            r.scenario + (f" [{r.examples} examples]" if r.examples else ""),
            " ".join(f"@{t}" for t in r.tags),
            ", ".join(r.alert_claims + r.checks)
            + (f", UNDEFINED STEP: {'; '.join(r.undefined_steps)}" if r.undefined_steps else ""),
        )
        for r in rows
    ]
    fixed = [max(len(c[i]) for c in [HEADERS, *cells]) for i in (0, 2)]
    rest = max(40, width - sum(fixed) - 6)
    widths = [fixed[0], max(20, rest * 11 // 20), fixed[1], max(20, rest - rest * 11 // 20)]
    lines = []
    for row in [HEADERS, *cells]:
        wrapped = [textwrap.wrap(cell, w, break_on_hyphens=False) or [""] for cell, w in zip(row, widths, strict=True)]
        for i in range(max(len(w) for w in wrapped)):
            parts = [(w[i] if i < len(w) else "").ljust(n) for w, n in zip(wrapped, widths, strict=True)]
            lines.append("  ".join(parts).rstrip())
    return lines

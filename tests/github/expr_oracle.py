"""Differential testing of harness.github.expressions against GitHub's `@actions/expressions` (Node).

`Oracle.run(cases)` evaluates a whole batch in one `node tools/oracles/eval-expressions.mjs` process;
`simulate(case)` evaluates one case with the simulator. Both give an `Outcome`, compared with `==`.
`python -m tests.github.expr_oracle` prints the figures recorded in harness/github/README.md.
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.github.errors import ExpressionError
from harness.github.expressions import Status, evaluate, kind_of, parse, to_string
from harness.github.exprparse import KNOWN_CONTEXTS

ORACLE_DIR = Path(__file__).resolve().parents[2] / "tools" / "oracles"
SCRIPT = ORACLE_DIR / "eval-expressions.mjs"
NAMES = tuple(sorted(KNOWN_CONTEXTS))
NONFINITE = "$nonfinite"


@dataclass(frozen=True)
class Case:
    """An expression with the contexts (and status-function inputs) it is evaluated against."""

    expr: str
    contexts: Mapping[str, Any] = field(default_factory=dict)
    status: Status = field(default_factory=Status)


@dataclass(frozen=True)
class Outcome:
    """A result: `error` is "parse"/"eval" (or "crash" for a non-ExpressionError), else kind/value/text."""

    error: str | None = None
    kind: str | None = None
    value: Any = None  # normalized by `normal()`: comparable with ==, NaN included
    text: str | None = None
    message: str = field(default="", compare=False)

    def __str__(self) -> str:
        if self.error:
            return f"{self.error} error ({self.message[:120]})"
        return f"{self.kind} {plain(self.value)!r} (as text {self.text!r})"


def normal(value: Any) -> Any:
    """A kind-tagged form of a JSON-ish value: True != 1, NaN == NaN, -0 == 0, key order kept."""
    if isinstance(value, Mapping) and set(value) == {NONFINITE}:
        return ("n", value[NONFINITE])
    kind = kind_of(value)
    if kind == "null":
        return None
    if kind == "boolean":
        return ("b", bool(value))
    if kind == "number":
        number = float(value)
        return ("n", "NaN" if math.isnan(number) else "Infinity" if number == math.inf else
                "-Infinity" if number == -math.inf else number + 0.0)  # fmt: skip
    if kind == "string":
        return ("s", value)
    if kind == "array":
        return ("a", tuple(normal(v) for v in value))
    return ("o", tuple((k, normal(v)) for k, v in value.items()))


def plain(tagged: Any) -> Any:
    """Undo `normal()` for display."""
    if tagged is None:
        return None
    tag, body = tagged
    if tag == "n" and isinstance(body, str):
        return float(body)
    if tag == "a":
        return [plain(v) for v in body]
    if tag == "o":
        return {k: plain(v) for k, v in body}
    return body


def encode(value: Any) -> Any:
    """Contexts as JSON the oracle understands (non-finite numbers tagged)."""
    if isinstance(value, float) and not math.isfinite(value):
        return {NONFINITE: "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"}
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def request(case: Case) -> str:
    """One JSON line for eval-expressions.mjs."""
    status = {"success": case.status.success, "failure": case.status.failure, "cancelled": case.status.cancelled}
    return json.dumps({"expr": case.expr, "contexts": encode(case.contexts), "names": NAMES, "status": status})


def simulate(case: Case) -> Outcome:
    """Evaluate `case` with the simulator."""
    try:
        tree = parse(case.expr)
    except ExpressionError as exc:
        return Outcome(error="parse", message=str(exc))
    except Exception as exc:
        return Outcome(error="crash", message=f"{type(exc).__name__}: {exc}")
    try:
        value = evaluate(tree, case.contexts, status=case.status)
    except ExpressionError as exc:
        return Outcome(error="eval", message=str(exc))
    except Exception as exc:
        return Outcome(error="crash", message=f"{type(exc).__name__}: {exc}")
    return Outcome(kind=kind_of(value), value=normal(value), text=to_string(value))


def _from_oracle(reply: Mapping[str, Any]) -> Outcome:
    if not reply["ok"]:
        return Outcome(error=reply["error"], message=reply.get("message", ""))
    return Outcome(kind=reply["kind"], value=normal(reply["value"]), text=reply["text"])


@dataclass(frozen=True)
class Oracle:
    """GitHub's evaluator behind `node`; `run` starts one process per batch."""

    node: str
    folder: Path = ORACLE_DIR

    def run(self, cases: Sequence[Case]) -> list[Outcome]:
        """Evaluate every case in one node process; results in order."""
        if not cases:
            return []
        proc = subprocess.run(
            [self.node, str(self.folder / SCRIPT.name)],
            input="".join(request(c) + "\n" for c in cases),
            capture_output=True, text=True, timeout=300, cwd=self.folder, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"eval-expressions.mjs failed ({proc.returncode}): {proc.stderr[-2000:]}")
        replies = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        if len(replies) != len(cases):
            raise RuntimeError(f"eval-expressions.mjs answered {len(replies)} of {len(cases)} cases")
        return [_from_oracle(r) for r in replies]


def prepare_oracle() -> Oracle | str:
    """The oracle, after `npm ci` if node_modules is missing; or why it cannot run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "node and npm are needed for the @actions/expressions oracle (install Node.js >= 20)"
    if not (ORACLE_DIR / "node_modules" / "@actions" / "expressions").is_dir():
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=ORACLE_DIR, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            return f"`npm ci` in {ORACLE_DIR} failed: {(proc.stderr or proc.stdout)[-1500:]}"
    return Oracle(node)


@dataclass(frozen=True)
class Disagreement:
    """A case on which the simulator and the oracle differ."""

    case: Case
    ours: Outcome
    oracle: Outcome

    def __str__(self) -> str:
        expr = self.case.expr if self.case.expr.isprintable() else repr(self.case.expr)
        return f"{expr}\n    ours:   {self.ours}\n    oracle: {self.oracle}"


def disagreements(cases: Sequence[Case], oracle: Oracle) -> list[Disagreement]:
    """Every case whose simulator outcome differs from the oracle's."""
    theirs = oracle.run(cases)
    found = []
    for case, expected in zip(cases, theirs, strict=True):
        ours = simulate(case)
        if ours != expected:
            found.append(Disagreement(case, ours, expected))
    return found


def report(found: Sequence[Disagreement], total: int, limit: int = 40) -> str:
    """A readable failure message listing the disagreements (expression, ours, oracle's)."""
    lines = [f"{len(found)} of {total} expressions evaluate differently from @actions/expressions:"]
    lines += [f"  {d}" for d in found[:limit]]
    if len(found) > limit:
        lines.append(f"  ... and {len(found) - limit} more")
    return "\n".join(lines)


def _measure(name: str, cases: Sequence[Case], oracle: Oracle) -> None:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    theirs = oracle.run(cases)
    oracle_wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    oracle_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    wall, cpu = time.perf_counter(), time.process_time()
    ours = [simulate(c) for c in cases]
    ours_wall, ours_cpu = time.perf_counter() - wall, time.process_time() - cpu
    agree = sum(a == b for a, b in zip(ours, theirs, strict=True))
    print(
        f"{name}: {len(cases)} cases, {agree} agree ({100 * agree / len(cases):.1f}%); batch wall (CPU) time: "
        f"oracle node process {oracle_wall * 1000:.0f} ms ({oracle_cpu * 1000:.0f} ms), "
        f"simulator {ours_wall * 1000:.0f} ms ({ours_cpu * 1000:.0f} ms)"
    )
    if os.environ.get("DCH_SHOW_DISAGREEMENTS") == "1":
        for a, b, case in zip(ours, theirs, cases, strict=True):
            if a != b:
                print(f"  {Disagreement(case, a, b)}")


def main() -> None:
    """Print case counts, agreement and batch times for the table and the generated corpus."""
    from tests.github.expr_cases import table_cases
    from tests.github.expr_strategies import generated_corpus

    oracle = prepare_oracle()
    if isinstance(oracle, str):
        raise SystemExit(oracle)
    _measure("hand-written table", table_cases(), oracle)
    started = time.perf_counter()
    corpus = generated_corpus()
    print(f"generating the corpus with hypothesis: {time.perf_counter() - started:.1f} s")
    _measure("generated (hypothesis)", corpus, oracle)


if __name__ == "__main__":
    main()

"""The `${{ }}` expression language of GitHub Actions: parse, evaluate, interpolate.

Pure functions over plain Python values (None, bool, int/float, str, list, dict).
Semantics follow GitHub's documentation: loose equality with number coercion,
case-insensitive string comparison, `&&`/`||` returning operand values, missing
properties evaluating to null, case-insensitive context and function names.
Conformance with GitHub's own `@actions/expressions` is tested differentially
(tests/github/test_expressions_oracle.py; figures in harness/github/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.github.errors import ExpressionError
from harness.github.exprparse import (
    STATUS_FUNCTIONS,
    Binary,
    Call,
    Index,
    Literal,
    Named,
    Not,
    Star,
    parse,
    uses_status_function,
)
from harness.github.exprvalues import (
    PURE_FUNCTIONS,
    Projection,
    compare,
    format_number,
    kind_of,
    lookup,
    loose_equals,
    star,
    to_number,
    to_string,
    truthy,
)

__all__ = [
    "ExpressionError",
    "Status",
    "check_template",
    "condition_ast",
    "condition_uses_status",
    "evaluate",
    "evaluate_condition",
    "evaluate_strings",
    "evaluate_template",
    "format_number",
    "has_expression",
    "interpolate",
    "kind_of",
    "loose_equals",
    "parse",
    "split_template",
    "to_number",
    "to_string",
    "truthy",
]


@dataclass(frozen=True)
class Status:
    """Inputs of the status functions success(), failure(), cancelled()."""

    success: bool = True
    failure: bool = False
    cancelled: bool = False


# ---------------------------------------------------------------- evaluation


@dataclass
class _Evaluator:
    contexts: Mapping[str, Any]
    status: Status | None
    functions: Mapping[str, Callable[..., Any]]
    expr: str

    def eval(self, node: Any) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Named):
            return lookup(self.contexts, node.name)
        if isinstance(node, Index):
            return lookup(self.eval(node.target), self.eval(node.key))
        if isinstance(node, Star):
            return star(self.eval(node.target))
        if isinstance(node, Not):
            return not truthy(self.eval(node.operand))
        if isinstance(node, Binary):
            return self.eval_binary(node)
        if isinstance(node, Call):
            return self.call(node)
        raise ExpressionError(f"Internal error: unknown node {node!r}")

    def eval_binary(self, node: Binary) -> Any:
        left = self.eval(node.left)
        if node.op == "&&":
            return self.eval(node.right) if truthy(left) else left
        if node.op == "||":
            return left if truthy(left) else self.eval(node.right)
        right = self.eval(node.right)
        if node.op == "==":
            return loose_equals(left, right)
        if node.op == "!=":
            return not loose_equals(left, right)
        return compare(node.op, left, right)

    def call(self, node: Call) -> Any:
        if node.name in STATUS_FUNCTIONS:
            if node.name == "always":
                return True
            if self.status is None:
                raise ExpressionError(
                    f"Status function {node.name}() is not available here, in expression: {self.expr!r}"
                )
            return bool(getattr(self.status, node.name))
        if node.name == "case":
            return self.case(node.args)
        args = [self.eval(a) for a in node.args]
        func = self.functions.get(node.name) or PURE_FUNCTIONS.get(node.name)
        if func is None:
            raise ExpressionError(
                f"Unsupported function: {node.name}() is not available in this simulator (expression: {self.expr!r})"
            )
        return func(*args)

    def case(self, args: tuple[Any, ...]) -> Any:
        """case(pred1, value1, ..., default): lazily, as GitHub's runner evaluates it."""
        for predicate, result in zip(args[:-1:2], args[1::2], strict=True):
            chosen = self.eval(predicate)
            if kind_of(chosen) != "boolean":
                raise ExpressionError(f"case(): a predicate must be a boolean, got {kind_of(chosen)} in: {self.expr!r}")
            if chosen:
                return self.eval(result)
        return self.eval(args[-1])


def evaluate(
    expr: str | Any,
    contexts: Mapping[str, Any],
    *,
    status: Status | None = None,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """Evaluate a bare expression (no `${{ }}`) or a parsed AST against `contexts`."""
    node = parse(expr) if isinstance(expr, str) else expr
    source = expr if isinstance(expr, str) else repr(expr)
    lowered = {k.lower(): v for k, v in (functions or {}).items()}
    value = _Evaluator(contexts, status, lowered, source).eval(node)
    return list(value) if isinstance(value, Projection) else value


# ---------------------------------------------------------------- templates


@dataclass(frozen=True)
class _Segment:
    text: str
    is_expr: bool


def _find_close(text: str, start: int) -> int:
    """Index of the `}}` closing an expression that starts at `start`, ignoring quoted text."""
    i = start
    in_string = False
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "'":
                if text.startswith("''", i):
                    i += 2
                    continue
                in_string = False
        elif ch == "'":
            in_string = True
        elif text.startswith("}}", i):
            return i
        i += 1
    raise ExpressionError(f"Unterminated '${{{{' in: {text!r}")


def split_template(text: str) -> list[_Segment]:
    """Split a string into literal text and `${{ }}` expression segments."""
    segments: list[_Segment] = []
    pos = 0
    while True:
        start = text.find("${{", pos)
        if start < 0:
            if pos < len(text):
                segments.append(_Segment(text[pos:], False))
            return segments
        if start > pos:
            segments.append(_Segment(text[pos:start], False))
        end = _find_close(text, start + 3)
        segments.append(_Segment(text[start + 3 : end].strip(), True))
        pos = end + 2


def has_expression(text: Any) -> bool:
    """True if `text` is a string containing `${{`."""
    return isinstance(text, str) and "${{" in text


def check_template(text: str) -> None:
    """Syntax-check every `${{ }}` in `text`; raises ExpressionError."""
    for segment in split_template(text):
        if segment.is_expr:
            parse(segment.text)


def evaluate_template(
    text: Any,
    contexts: Mapping[str, Any],
    *,
    status: Status | None = None,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """Evaluate a value: a lone `${{ x }}` keeps x's type, mixed text is interpolated.

    Non-string values are returned unchanged.
    """
    if not isinstance(text, str) or "${{" not in text:
        return text
    segments = split_template(text.strip())
    if len(segments) == 1 and segments[0].is_expr:
        return evaluate(segments[0].text, contexts, status=status, functions=functions)
    return interpolate(text, contexts, status=status, functions=functions)


def interpolate(
    text: str,
    contexts: Mapping[str, Any],
    *,
    status: Status | None = None,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> str:
    """Replace every `${{ expr }}` in `text` by the string form of its value."""
    if "${{" not in text:
        return text
    out: list[str] = []
    for segment in split_template(text):
        if segment.is_expr:
            out.append(to_string(evaluate(segment.text, contexts, status=status, functions=functions)))
        else:
            out.append(segment.text)
    return "".join(out)


def _condition_node(condition: Any) -> Any:
    """Parse an `if:` value (bare or wrapped in `${{ }}`) into an AST."""
    if isinstance(condition, bool):
        return Literal(condition)
    text = condition if isinstance(condition, str) else to_string(condition)
    text = text.strip()
    segments = split_template(text) if "${{" in text else [_Segment(text, True)]
    if len(segments) == 1 and segments[0].is_expr:
        return parse(segments[0].text)
    # Text around `${{ }}` makes the whole condition a (truthy) string, as on GitHub.
    for segment in segments:
        if segment.is_expr:
            parse(segment.text)
    return Literal(text)


def _is_empty_condition(condition: Any) -> bool:
    return condition is None or (isinstance(condition, str) and condition.strip() == "")


def condition_uses_status(condition: Any) -> bool:
    """True if an `if:` explicitly calls a status function (always(), failure(), ...)."""
    if _is_empty_condition(condition):
        return False
    return uses_status_function(_condition_node(condition))


def condition_ast(condition: Any) -> Any:
    """Parse an `if:` value into an AST with GitHub's implicit `success() &&` applied."""
    if _is_empty_condition(condition):
        return Call("success", ())
    node = _condition_node(condition)
    if uses_status_function(node):
        return node
    return Binary("&&", Call("success", ()), node)


def evaluate_condition(
    condition: Any,
    contexts: Mapping[str, Any],
    *,
    status: Status,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> bool:
    """Evaluate a job or step `if:`; a condition without a status function gets `success() &&`."""
    return truthy(evaluate(condition_ast(condition), contexts, status=status, functions=functions))


def evaluate_strings(value: Any, contexts: Mapping[str, Any], **kwargs: Any) -> Any:
    """Recursively evaluate templates inside lists/dicts (used for `with:` and `env:` maps)."""
    if isinstance(value, str):
        return evaluate_template(value, contexts, **kwargs)
    if isinstance(value, Mapping):
        return {k: evaluate_strings(v, contexts, **kwargs) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [evaluate_strings(v, contexts, **kwargs) for v in value]
    return value

"""Value semantics of GitHub expressions: types, coercion, equality, property access, functions."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from harness.github.errors import ExpressionError


class Projection(list):
    """The result of an object filter (`.*`): later property access maps over it."""


def kind_of(value: Any) -> str:
    """GitHub type name: null, boolean, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    return "object"


def to_number(value: Any) -> float:
    """Coerce to a number the way GitHub does (NaN when impossible)."""
    kind = kind_of(value)
    if kind == "null":
        return 0.0
    if kind == "boolean":
        return 1.0 if value else 0.0
    if kind == "number":
        return float(value)
    if kind == "string":
        text = value.strip()
        if text == "":
            return 0.0
        try:
            if re.fullmatch(r"[+-]?0x[0-9a-fA-F]+", text):
                return float(int(text, 16))
            if re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", text):
                return float(text)
            if text in ("Infinity", "+Infinity", "-Infinity"):
                return -math.inf if text.startswith("-") else math.inf
        except ValueError:
            return math.nan
        return math.nan
    return math.nan


def truthy(value: Any) -> bool:
    """Falsy: null, false, 0, -0, NaN, ''. Everything else (including [] and {}) is truthy."""
    kind = kind_of(value)
    if kind == "null":
        return False
    if kind == "boolean":
        return bool(value)
    if kind == "number":
        return not (value == 0 or (isinstance(value, float) and math.isnan(value)))
    if kind == "string":
        return value != ""
    return True


def format_number(value: float) -> str:
    """Render a number like GitHub: integers without a fraction."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def to_string(value: Any) -> str:
    """String conversion used by interpolation and string functions."""
    kind = kind_of(value)
    if kind == "null":
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        return format_number(value)
    if kind == "string":
        return value
    return "Array" if kind == "array" else "Object"


def loose_equals(left: Any, right: Any) -> bool:
    """`==`: same-kind comparison (strings case-insensitive), else compare as numbers."""
    lk, rk = kind_of(left), kind_of(right)
    if lk == rk:
        if lk == "string":
            return left.casefold() == right.casefold()
        if lk == "number":
            return float(left) == float(right)
        if lk in ("array", "object"):
            return left is right
        return left == right
    if lk in ("array", "object") or rk in ("array", "object"):
        return False
    return to_number(left) == to_number(right)


def compare(op: str, left: Any, right: Any) -> bool:
    lk, rk = kind_of(left), kind_of(right)
    if lk == rk == "string":
        a, b = left.casefold(), right.casefold()
    else:
        a, b = to_number(left), to_number(right)
        if math.isnan(a) or math.isnan(b):
            return False
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def lookup(target: Any, key: Any) -> Any:
    if isinstance(target, Projection):
        out = Projection()
        for item in target:
            value = lookup(item, key)
            if value is not None:
                out.append(value)
        return out
    kind = kind_of(target)
    if kind == "object" and isinstance(target, Mapping):
        if kind_of(key) != "string":
            key = to_string(key)
        if key in target:
            return target[key]
        folded = key.casefold()
        for name, value in target.items():
            if isinstance(name, str) and name.casefold() == folded:
                return value
        return None
    if kind == "array":
        number = to_number(key)
        if math.isnan(number) or number < 0 or number != int(number) or int(number) >= len(target):
            return None
        return target[int(number)]
    return None


def star(target: Any) -> Any:
    if isinstance(target, Projection):
        out = Projection()
        for item in target:
            out.extend(star(item))
        return out
    if kind_of(target) == "array":
        return Projection(target)
    if kind_of(target) == "object":
        return Projection(target.values())
    return Projection()


# ---------------------------------------------------------------- functions


def _format(fmt: Any, *args: Any) -> str:
    text = to_string(fmt)
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            if text.startswith("{{", i):
                out.append("{")
                i += 2
                continue
            end = text.find("}", i)
            index_text = text[i + 1 : end] if end > 0 else ""
            if not index_text.isdigit():
                raise ExpressionError(f"format(): invalid format string {text!r}")
            index = int(index_text)
            if index >= len(args):
                raise ExpressionError(f"format(): index {index} out of range for {text!r}")
            out.append(to_string(args[index]))
            i = end + 1
        elif ch == "}":
            if text.startswith("}}", i):
                out.append("}")
                i += 2
                continue
            raise ExpressionError(f"format(): invalid format string {text!r}")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _contains(search: Any, item: Any) -> bool:
    if kind_of(search) == "array":
        return any(loose_equals(element, item) for element in search)
    return to_string(item).casefold() in to_string(search).casefold()


def _join(array: Any, sep: Any = ",") -> str:
    if kind_of(array) != "array":
        return to_string(array)
    return to_string(sep).join(to_string(x) for x in array)


def _to_json(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, Projection) else value, indent=2)


def _from_json(value: Any) -> Any:
    text = to_string(value)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ExpressionError(f"fromJSON(): invalid JSON {text[:80]!r}: {exc}") from exc


PURE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": lambda s, p: to_string(s).casefold().startswith(to_string(p).casefold()),
    "endswith": lambda s, p: to_string(s).casefold().endswith(to_string(p).casefold()),
    "format": _format,
    "join": _join,
    "tojson": _to_json,
    "fromjson": _from_json,
}

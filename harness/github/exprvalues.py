"""Value semantics of GitHub expressions: types, coercion, equality, property access, functions.

Conformance is checked against GitHub's `@actions/expressions` (tests/github/test_expressions_oracle.py):
numbers are doubles with JavaScript's `Number()` parsing and number-to-text rules, strings compare
case-insensitively by upper-casing (dotless ı excepted) in UTF-16 code-unit order, objects look keys up
case-insensitively (fromJSON keeps the first of two keys differing only in case).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Context, Decimal
from types import MappingProxyType
from typing import Any

from harness.github.errors import ExpressionError

# What JavaScript's Number() and String.prototype.trim() strip: WhiteSpace and LineTerminator.
JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"  # noqa: E501
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_NON_DECIMAL = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_BASES = MappingProxyType({"x": 16, "o": 8, "b": 2})
_FIXED = Decimal("1e-15")
_MISSING = object()  # sentinel: a key or index that is absent (unlike one whose value is null)


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


def is_primitive(value: Any) -> bool:
    """null, boolean, number or string."""
    return kind_of(value) not in ("array", "object")


def as_double(value: int | float) -> float:
    """A number as the double GitHub holds (huge integers become ±Infinity)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def parse_number(text: str) -> float:
    """JavaScript's `Number(text)`: trimmed decimal, 0x/0o/0b integer, ±Infinity, '' -> 0, else NaN."""
    text = text.strip(JS_WHITESPACE)
    if text == "":
        return 0.0
    if _NON_DECIMAL.fullmatch(text):
        return as_double(int(text[2:], _BASES[text[1].lower()]))
    if _DECIMAL.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    return math.nan


def to_number(value: Any) -> float:
    """Coerce to a number the way GitHub does (NaN when impossible)."""
    kind = kind_of(value)
    if kind == "null":
        return 0.0
    if kind == "boolean":
        return 1.0 if value else 0.0
    if kind == "number":
        return as_double(value)
    if kind == "string":
        return parse_number(value)
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


# ---------------------------------------------------------------- numbers as text


def js_number_text(value: float) -> str:
    """JavaScript's `String(number)`: shortest round-trip digits, exponent below 1e-6 and from 1e21."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value < 0:
        return "-" + js_number_text(-value)
    _, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = int(exponent) + k  # value = 0.digits * 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return f"{digits[:n]}.{digits[n:]}"
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"


def format_number(value: int | float) -> str:
    """Render a number like GitHub: at most 15 decimals (`+x.toFixed(15)`), then JavaScript's text."""
    number = as_double(value)
    if number == 0 or not math.isfinite(number):
        return js_number_text(number)
    if abs(number) < 1e21:
        rounded = Decimal(number).quantize(_FIXED, rounding=ROUND_HALF_UP, context=Context(prec=80))
        number = float(rounded) + 0.0  # -0 -> 0
    return js_number_text(number)


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


# ---------------------------------------------------------------- comparison


def fold_case(text: str) -> str:
    """GitHub's case-insensitive form: upper case, except that the dotless ı stays as it is."""
    return "ı".join(part.upper() for part in text.split("ı"))


def _utf16(text: str) -> bytes:
    return fold_case(text).encode("utf-16-be", "surrogatepass")


def _coerce(left: Any, right: Any) -> tuple[Any, Any]:
    """Operands of == and < as GitHub converts them: null/boolean to number, then string to number."""
    lk, rk = kind_of(left), kind_of(right)
    if lk == rk:
        return left, right
    if lk in ("null", "boolean"):
        return _coerce(to_number(left), right)
    if rk in ("null", "boolean"):
        return _coerce(left, to_number(right))
    if (lk, rk) == ("number", "string"):
        return left, parse_number(right)
    if (lk, rk) == ("string", "number"):
        return parse_number(left), right
    return left, right


def loose_equals(left: Any, right: Any) -> bool:
    """`==`: coerce (see _coerce); strings case-insensitive; arrays/objects by identity; NaN unequal."""
    left, right = _coerce(left, right)
    kind = kind_of(left)
    if kind != kind_of(right):
        return False
    if kind == "number":
        a, b = as_double(left), as_double(right)
        return not (math.isnan(a) or math.isnan(b)) and a == b
    if kind == "string":
        return fold_case(left) == fold_case(right)
    if kind in ("array", "object"):
        return left is right
    return left == right


def _greater(left: Any, right: Any) -> bool:
    left, right = _coerce(left, right)
    kind = kind_of(left)
    if kind != kind_of(right):
        return False
    if kind == "number":
        return as_double(left) > as_double(right)  # False when either is NaN
    if kind == "string":
        return _utf16(left) > _utf16(right)
    if kind == "boolean":
        return left and not right
    return False


def compare(op: str, left: Any, right: Any) -> bool:
    """`<`, `<=`, `>`, `>=`; `<=` is `== or <` (so an object is <= itself)."""
    if op == "<":
        return _greater(right, left)
    if op == ">":
        return _greater(left, right)
    if op == "<=":
        return loose_equals(left, right) or _greater(right, left)
    return loose_equals(left, right) or _greater(left, right)


# ---------------------------------------------------------------- property access


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else to_string(key)


def first_of_each_case(pairs: Iterable[tuple[Any, Any]]) -> dict[str, Any]:
    """An object as GitHub builds one (fromJSON): of keys equal but for case, only the first."""
    out: dict[str, Any] = {}
    seen: set[str] = set()
    for key, value in pairs:
        name = _key_text(key)
        if name.lower() not in seen:
            seen.add(name.lower())
            out[name] = value
    return out


def _member(target: Any, key: Any) -> Any:
    """target[key] for one object or array; _MISSING if absent.

    Object keys match case-insensitively; a context holding keys equal but for case (env on Linux
    is case-sensitive on GitHub) gives the exact match first, else the first case-insensitive one.
    """
    kind = kind_of(target)
    if kind == "object" and isinstance(target, Mapping):
        if not is_primitive(key):
            return _MISSING
        name = to_string(key)
        if name in target:
            return target[name]
        wanted = name.lower()
        return next((value for k, value in target.items() if _key_text(k).lower() == wanted), _MISSING)
    if kind == "array":
        number = to_number(key)
        if math.isnan(number) or number < 0 or number >= len(target):
            return _MISSING
        return target[int(number)]
    return _MISSING


def lookup(target: Any, key: Any) -> Any:
    """`target[key]` / `target.key`: null when absent; over a Projection, each item's (present) value."""
    if isinstance(target, Projection):
        found = (_member(item, key) for item in target)
        return Projection(value for value in found if value is not _MISSING)
    value = _member(target, key)
    return None if value is _MISSING else value


def star(target: Any) -> Any:
    """`target.*`: the values of an object or array (of each item's, over a Projection)."""
    if isinstance(target, Projection):
        out = Projection()
        for item in target:
            out.extend(star(item))
        return out
    if kind_of(target) == "array":
        return Projection(target)
    if kind_of(target) == "object" and isinstance(target, Mapping):
        return Projection(target.values())
    return Projection()


# ---------------------------------------------------------------- functions


def _format(fmt: Any, *args: Any) -> str:
    text = to_string(fmt)
    out: list[str] = []
    i = 0
    while i < len(text):
        left, right = text.find("{", i), text.find("}", i)
        if left >= 0 and (right < 0 or right > left):
            if text.startswith("{{", left):
                out.append(text[i : left + 1])
                i = left + 2
                continue
            digits = re.match(r"[0-9]*", text[left + 1 :]).group()  # type: ignore[union-attr]
            if right <= left + 1 or not digits:
                raise ExpressionError(f"format(): invalid format string {text!r}")
            if int(digits) >= len(args):
                raise ExpressionError(f"format(): {text!r} references more arguments than were supplied")
            out += [text[i:left], to_string(args[int(digits)])]
            i = right + 1
        elif right >= 0:
            if not text.startswith("}}", right):
                raise ExpressionError(f"format(): invalid format string {text!r}")
            out.append(text[i : right + 1])
            i = right + 2
        else:
            out.append(text[i:])
            break
    return "".join(out)


def _contains(search: Any, item: Any) -> bool:
    if kind_of(search) == "array":
        return any(loose_equals(item, element) for element in search)
    if is_primitive(search) and is_primitive(item):
        return to_string(item).lower() in to_string(search).lower()
    return False


def _starts_with(text: Any, prefix: Any) -> bool:
    if not (is_primitive(text) and is_primitive(prefix)):
        return False
    return fold_case(to_string(text)).startswith(fold_case(to_string(prefix)))


def _ends_with(text: Any, suffix: Any) -> bool:
    if not (is_primitive(text) and is_primitive(suffix)):
        return False
    return fold_case(to_string(text)).endswith(fold_case(to_string(suffix)))


def _join(array: Any, sep: Any = ",") -> str:
    if is_primitive(array):
        return to_string(array)
    if kind_of(array) != "array":
        return ""
    separator = to_string(sep) if is_primitive(sep) else ","
    return separator.join(to_string(x) for x in array)


_JSON_ESCAPES = MappingProxyType(
    {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
)


def _json_string(text: str) -> str:
    """JSON.stringify of a string: short escapes, \\u00xx for other controls and lone surrogates."""
    out = []
    for ch in text:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif ch < " " or "\ud800" <= ch <= "\udfff":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _json_text(value: Any, indent: str) -> str:
    kind = kind_of(value)
    inner = indent + "  "
    if kind == "null":
        return "null"
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        number = as_double(value)
        return js_number_text(number) if math.isfinite(number) else "null"
    if kind == "string":
        return _json_string(value)
    if kind == "array":
        items = [inner + _json_text(v, inner) for v in value]
        return "[\n" + ",\n".join(items) + f"\n{indent}]" if items else "[]"
    pairs = value.items() if isinstance(value, Mapping) else ()
    items = [f"{inner}{_json_string(_key_text(k))}: {_json_text(v, inner)}" for k, v in pairs]
    return "{\n" + ",\n".join(items) + f"\n{indent}}}" if items else "{}"


def _to_json(value: Any) -> str:
    return _json_text(value, "")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    exact: dict[str, Any] = {}
    for key, value in pairs:  # a repeated key: the last value, at the first position (JSON.parse)
        exact[key] = value
    return first_of_each_case(exact.items())


def _json_int(text: str) -> int | float:
    return int(text) if len(text) <= 15 else float(text)  # beyond 15 digits: the double JSON.parse makes


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _from_json(value: Any) -> Any:
    text = to_string(value)
    if text.strip(JS_WHITESPACE) == "":
        raise ExpressionError("fromJSON(): empty input")
    try:
        return json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ExpressionError(f"fromJSON(): invalid JSON {text[:80]!r}: {exc}") from exc


PURE_FUNCTIONS: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {
        "contains": _contains,
        "startswith": _starts_with,
        "endswith": _ends_with,
        "format": _format,
        "join": _join,
        "tojson": _to_json,
        "fromjson": _from_json,
    }
)

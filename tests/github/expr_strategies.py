"""Hypothesis strategies generating `${{ }}` expressions over expr_cases.CONTEXTS, and a fixed corpus."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.github.expr_cases import CONTEXTS
from tests.github.expr_oracle import Case

ROOT = Path(__file__).resolve().parents[2]
# Deterministic and bounded: the same corpus on every run and machine, for a given hypothesis version and
# code (hypothesis also draws literals found in the harness modules it sees loaded).
PROFILE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=1500,
    suppress_health_check=list(HealthCheck),
)

# Text inside generated string literals: case pairs, digits and number syntax, format braces, characters
# whose case mapping is special (ß, dotless ı, İ), an astral and a high-BMP character (UTF-16 order).
ALPHABET = 'aAbBzZ_-. 019xXeE+{}[]"\\ßıİé😀Ａ\t'
NUMBER_TEXTS = (
    "0", "-0", "1", "+1", "-1", "42", "017", "00", "1.5", ".5", "5.", "-.5", "1e3", "1E-2", "2.5e+3", "0xff",
    "0XFF", "0o17", "0b101", "1e21", "1e-7", "1e400", "0.1", "123.456", "9007199254740993", "Infinity",
    "-Infinity", "1_0", "0x", "1e", "-0x10", " 12 ", "",
)  # fmt: skip
KEYS = ("a", "A", "b", "name", "Name", "x-y", "_k", "n")
FORMATS = ("{0}", "{0}-{1}", "{1}{0}", "{{{0}}}", "}}{{", "{0:x}", "{00}", "{2}", "{}", "{0", "x}", "{ 0}", "v{0}.{1}")


def _paths(value: Any, prefix: str) -> list[str]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, f"{prefix}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, f"{prefix}[{index}]")
    return out


PATHS = tuple(path for name, value in CONTEXTS.items() for path in _paths(value, name))


def quote(text: str) -> str:
    """An expression string literal for `text`."""
    return "'" + text.replace("'", "''") + "'"


def _number_literal() -> st.SearchStrategy[str]:
    floats = st.floats(allow_nan=False, allow_infinity=False).map(repr)
    return st.one_of(
        st.sampled_from([t for t in NUMBER_TEXTS if t.strip() and " " not in t]),
        st.integers(-(10**20), 10**20).map(str),
        st.integers(0, 2**64).map(hex),
        floats,
    )


def _string_literal() -> st.SearchStrategy[str]:
    # at most one '' per literal: the oracle unescapes only the first (see expr_cases.ORACLE_DEVIATIONS)
    text = st.one_of(st.text(ALPHABET, max_size=6), st.sampled_from(NUMBER_TEXTS + FORMATS + ("true", "null")))
    with_quote = st.tuples(st.text(ALPHABET, max_size=3), st.text(ALPHABET, max_size=3)).map("'".join)
    return st.one_of(text, with_quote).map(quote)


def _json_literal() -> st.SearchStrategy[str]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-(10**18), 10**18), st.floats(allow_nan=False, allow_infinity=False),
        st.text(ALPHABET.replace("\\", ""), max_size=4),
    )  # fmt: skip
    values = st.recursive(
        scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(KEYS), c, max_size=3), max_leaves=6
    )
    return values.map(lambda v: f"fromJSON({quote(json.dumps(v))})")


def _path() -> st.SearchStrategy[str]:
    known = st.sampled_from(PATHS)
    case_mixed = known.map(str.upper) | known.map(str.title)
    missing = st.tuples(known, st.sampled_from(KEYS)).map(".".join)
    star = st.tuples(known, st.sampled_from([".*", "[*]", ".*.*", ".*.name", "[*].n", ".*[0]", ".*.y"])).map("".join)
    return st.one_of(known, known, case_mixed, missing, star)


def _atoms() -> st.SearchStrategy[str]:
    keywords = st.sampled_from(["null", "true", "false", "NaN", "Infinity", "True", "NULL"])
    return st.one_of(keywords, _number_literal(), _string_literal(), _path(), _path(), _json_literal())


def _compound(child: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "&&", "||"])
    spaced = st.sampled_from([" ", ""])
    binary = st.tuples(child, spaced, ops, spaced, child).map("".join)
    one = st.sampled_from(["toJSON", "fromJSON", "join"])
    two = st.sampled_from(["contains", "startsWith", "endsWith", "join", "CONTAINS", "startswith"])
    fmt = st.tuples(st.sampled_from(FORMATS).map(quote) | child, st.lists(child, max_size=3)).map(
        lambda t: f"format({', '.join([t[0], *t[1]])})"
    )
    index_target = st.one_of(_path(), child.map(lambda c: f"({c})"), _json_literal())
    index = st.tuples(index_target, child).map(lambda t: f"{t[0]}[{t[1]}]")
    member = st.tuples(index_target, st.sampled_from([".name", ".*", "[*]", ".a", ".0", ".y"])).map("".join)
    return st.one_of(
        binary, binary, child.map(lambda c: f"!{c}"), child.map(lambda c: f"({c})"),
        st.tuples(one, child).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(two, child, child).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        fmt, index, member,
    )  # fmt: skip


TOKENS = (
    "github", "matrix", "env", ".", "ref", "*", "[", "]", "(", ")", ",", "!", "==", "<", "&&", "||", "=", "&",
    "1", "-1", ".5", "0x1", "'a'", "''", "true", "null", "NaN", "contains", "format", "-", "+", "'", "$", "x-y",
)  # fmt: skip


def token_soup() -> st.SearchStrategy[str]:
    """Short random token sequences: mostly syntax errors, to compare what each parser accepts."""
    return st.lists(st.tuples(st.sampled_from(TOKENS), st.sampled_from(["", " "])), min_size=1, max_size=6).map(
        lambda parts: "".join(t + s for t, s in parts)
    )


def one_escape_per_string(expr: str) -> bool:
    """No string literal with two '' escapes (the oracle unescapes only the first: a known deviation)."""
    return all(body.count("''") <= 1 for body in re.findall(r"'((?:[^']|'')*)'", expr))


def expressions() -> st.SearchStrategy[str]:
    """Expressions: literals, context paths, operators, functions, filters, and some token soup."""
    return st.one_of(st.recursive(_atoms(), _compound, max_leaves=8), token_soup()).filter(one_escape_per_string)


def collect(profile: settings = PROFILE) -> list[str]:
    """The distinct expressions hypothesis generates under `profile`, in this process."""
    found: dict[str, None] = {}

    @profile
    @given(expressions())
    def record(expr: str) -> None:
        found[expr] = None

    record()
    return list(found)


def generated_corpus(max_examples: int = PROFILE.max_examples) -> list[Case]:
    """The corpus, generated in a fresh interpreter, as Cases over CONTEXTS.

    Hypothesis also draws constants found in the (non-test) local modules loaded, so generating in
    a clean process keeps the corpus the same whatever else a test session has imported.
    """
    proc = subprocess.run(
        [sys.executable, "-m", "tests.github.expr_strategies", str(max_examples)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"generating the corpus failed: {proc.stderr[-2000:]}")
    return [Case(expr, CONTEXTS) for expr in json.loads(proc.stdout)]


if __name__ == "__main__":
    print(json.dumps(collect(settings(PROFILE, max_examples=int(sys.argv[1])))))

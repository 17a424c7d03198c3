"""The `${{ }}` evaluator: literals, operators, coercion, functions, templates, conditions."""

from __future__ import annotations

import math
import re

import pytest

from harness.github.errors import ExpressionError
from harness.github.expressions import (
    Status,
    condition_uses_status,
    evaluate,
    evaluate_condition,
    evaluate_template,
    interpolate,
    loose_equals,
    to_number,
    to_string,
    truthy,
)

CTX = {
    "github": {
        "ref": "refs/heads/main",
        "event_name": "workflow_dispatch",
        "event": {"inputs": {"dry_run": "false", "count": "3"}},
    },
    "inputs": {"dry_run": False, "version": "1.2.3", "count": 3},
    "needs": {
        "select": {"result": "success", "outputs": {"labels": '["self-hosted","primary"]', "runner": "primary"}},
        "build": {"result": "failure", "outputs": {}},
    },
    "steps": {"my-step": {"outputs": {"v": "42"}, "outcome": "failure", "conclusion": "success"}},
    "env": {"MODE": "Prod"},
    "vars": {},
    "matrix": {"items": [{"name": "a"}, {"name": "b"}]},
}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("null", None),
        ("true", True),
        ("false", False),
        ("NaN", math.nan),
        ("-Infinity", -math.inf),
        ("+7", 7),
        ("0o17", 15),
        ("42", 42),
        ("-1.5", -1.5),
        ("0xff", 255),
        ("1e3", 1000.0),
        ("'it''s'", "it's"),
        ("''", ""),
    ],
)
def test_literals(expr: str, expected: object) -> None:
    value = evaluate(expr, CTX)
    assert value == expected or (math.isnan(value) and math.isnan(expected))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("github.ref", "refs/heads/main"),
        ("github['ref']", "refs/heads/main"),
        ("GITHUB.REF", "refs/heads/main"),  # contexts and properties are case-insensitive
        ("steps.my-step.outputs.v", "42"),
        ("needs.select.outputs['runner']", "primary"),
        ("github.missing", None),
        ("github.missing.deeper", None),
        ("vars.NOPE", None),
        ("matrix.items[1].name", "b"),
        ("matrix.items[5]", None),
        ("matrix.items.*.name", ["a", "b"]),
        ("inputs.count", 3),
    ],
)
def test_property_access(expr: str, expected: object) -> None:
    assert evaluate(expr, CTX) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("'ABC' == 'abc'", True),  # string comparison ignores case
        ("1 == '1'", True),  # different types: coerced to numbers
        ("'' == 0", True),
        ("null == 0", True),
        ("true == 1", True),
        ("'abc' == 0", False),  # NaN
        ("github.event.inputs.count == 3", True),
        ("inputs.dry_run == false", True),
        ("github.event.inputs.dry_run == 'false'", True),
        ("1 != 2", True),
        ("2 > 1", True),
        ("'b' > 'A'", True),
        ("'10' < 9", False),
        ("1 <= 1", True),
        ("!github.missing", True),
        ("!!'x'", True),
        ("(1 == 1) && (2 == 3)", False),
    ],
)
def test_operators(expr: str, expected: object) -> None:
    assert evaluate(expr, CTX) == expected


def test_and_or_return_operand_values() -> None:
    assert evaluate("'a' && 'b'", CTX) == "b"
    assert evaluate("'' && 'b'", CTX) == ""
    assert evaluate("null || 'fallback'", CTX) == "fallback"
    assert evaluate("inputs.version || 'latest'", CTX) == "1.2.3"
    assert evaluate("github.event_name == 'push' && 'yes' || 'no'", CTX) == "no"


def test_precedence() -> None:
    assert evaluate("true || false && false", CTX) is True
    assert evaluate("!true == false", CTX) is True  # ! binds tighter than ==
    assert evaluate("1 < 2 == true", CTX) is True  # comparison binds tighter than equality


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("contains('Hello World', 'world')", True),
        ("contains(fromJSON(needs.select.outputs.labels), 'PRIMARY')", True),
        ("contains(fromJSON('[1,2]'), '2')", True),
        ("startsWith(github.ref, 'refs/HEADS/')", True),
        ("endsWith('deploy.yml', '.YML')", True),
        ("format('{0}-{1}-{0}', 'a', 1)", "a-1-a"),
        ("format('{{literal}} {0}', true)", "{literal} true"),
        ("join(fromJSON('[\"a\",\"b\"]'), ', ')", "a, b"),
        ("join(fromJSON('[1,2]'))", "1,2"),
        ("join('solo')", "solo"),
        ("toJSON(fromJSON('{\"a\":[1,true,null]}'))", '{\n  "a": [\n    1,\n    true,\n    null\n  ]\n}'),
        ("fromJSON('true')", True),
        ("fromJSON('3.5')", 3.5),
        ("fromJSON(needs.select.outputs.labels)[1]", "primary"),
    ],
)
def test_functions(expr: str, expected: object) -> None:
    assert evaluate(expr, CTX) == expected


def test_status_functions_use_the_given_status() -> None:
    ok, failed, cancelled = Status(), Status(success=False, failure=True), Status(success=False, cancelled=True)
    assert evaluate("success()", CTX, status=ok) is True
    assert evaluate("failure()", CTX, status=failed) is True
    assert evaluate("cancelled()", CTX, status=cancelled) is True
    assert evaluate("always()", CTX) is True
    with pytest.raises(ExpressionError, match="not available"):
        evaluate("success()", CTX)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("github.", "property name"),
        ("(1 == 1", "Expected ')'"),
        ("'unterminated", "Unterminated string"),
        ("1 ===", "Unexpected"),
        ("foo.bar", "Unrecognized named-value: 'foo'"),
        ("nosuch(1)", "Unrecognized function"),
        ("contains('a')", "takes 2"),
        ("a b", "Unrecognized named-value"),
        ("1 $ 2", "Unexpected symbol"),
        ("", "Empty expression"),
        ("FALSE", "Unrecognized named-value: 'FALSE'"),  # keywords are case-sensitive
        ("'abc'[0]", "Unexpected token '['"),  # only named-values, calls and groups can be indexed
        ("!" * 50 + "true", "Exceeded max expression depth 50"),
    ],
)
def test_syntax_errors_name_the_expression(expr: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)) as info:
        evaluate(expr, CTX)
    assert repr(expr) in str(info.value) or expr == ""


def test_hashfiles_is_a_clear_unsupported_error() -> None:
    with pytest.raises(ExpressionError, match="Unsupported function: hashfiles"):
        evaluate("hashFiles('**/*.lock')", CTX)


def test_fromjson_invalid_raises() -> None:
    with pytest.raises(ExpressionError, match="fromJSON"):
        evaluate("fromJSON('{nope')", CTX)


def test_format_errors() -> None:
    with pytest.raises(ExpressionError, match="format"):
        evaluate("format('{1}', 'a')", CTX)


def test_templates_keep_types_for_a_lone_expression() -> None:
    assert evaluate_template("${{ fromJSON(needs.select.outputs.labels) }}", CTX) == ["self-hosted", "primary"]
    assert evaluate_template("  ${{ inputs.count }}  ", CTX) == 3
    assert evaluate_template("v${{ inputs.version }}-${{ inputs.dry_run }}", CTX) == "v1.2.3-false"
    assert evaluate_template("no expressions", CTX) == "no expressions"
    assert evaluate_template(True, CTX) is True


def test_interpolation_string_forms() -> None:
    assert interpolate("${{ null }}|${{ 1.50 }}|${{ 3 }}|${{ true }}", CTX) == "|1.5|3|true"
    assert interpolate("${{ fromJSON('[1]') }} ${{ github.event }}", CTX) == "Array Object"
    assert interpolate("${{ '}}' }}", CTX) == "}}"  # '}}' inside a string does not close the expression
    with pytest.raises(ExpressionError, match="Unterminated"):
        interpolate("${{ github.ref", CTX)


def test_conditions_get_implicit_success() -> None:
    failed = Status(success=False, failure=True)
    assert evaluate_condition(None, CTX, status=Status()) is True
    assert evaluate_condition(None, CTX, status=failed) is False
    assert evaluate_condition("github.ref == 'refs/heads/main'", CTX, status=failed) is False
    assert evaluate_condition("${{ github.ref == 'refs/heads/main' }}", CTX, status=Status()) is True
    assert evaluate_condition("always() && github.ref != ''", CTX, status=failed) is True
    assert evaluate_condition("failure()", CTX, status=failed) is True
    assert evaluate_condition("!cancelled()", CTX, status=failed) is True
    assert evaluate_condition("steps.my-step.outcome == 'failure'", CTX, status=Status()) is True
    assert evaluate_condition(False, CTX, status=Status()) is False


def test_condition_with_text_around_expression_is_a_truthy_string() -> None:
    # GitHub's famous footgun: `if: ${{ false }} && x` is a non-empty string
    assert evaluate_condition("${{ false }} || false", CTX, status=Status()) is True


def test_condition_uses_status() -> None:
    assert condition_uses_status("always()")
    assert condition_uses_status("${{ !cancelled() && inputs.x }}")
    assert not condition_uses_status("inputs.x == 'y'")
    assert not condition_uses_status(None)


def test_value_helpers() -> None:
    assert math.isnan(to_number("abc"))
    assert to_number(" 0x10 ") == 16
    assert to_number(None) == 0
    assert to_string(2.0) == "2"
    assert to_string(False) == "false"
    assert not truthy(0) and not truthy("") and not truthy(None) and not truthy(float("nan"))
    assert truthy([]) and truthy({}) and truthy("false")
    assert not loose_equals([], [])  # arrays/objects compare by identity
    assert loose_equals("A", "a")
    assert to_string(0.1 + 0.2) == "0.3"  # at most 15 decimals, as GitHub renders numbers
    assert to_string(1e-7) == "1e-7" and to_string(1e21) == "1e+21" and to_string(1e20) == "100000000000000000000"


def test_keys_equal_but_for_case() -> None:
    ctx = {"env": {"Dup": "first", "dup": "second"}}
    assert evaluate("env.dup", ctx) == "second"  # an exact match first (env is case-sensitive on Linux)
    assert evaluate("env.DUP", ctx) == "first"  # else the first case-insensitive match
    assert evaluate('fromJSON(\'{"a": 1, "A": 2}\')', ctx) == {"a": 1}  # fromJSON keeps the first

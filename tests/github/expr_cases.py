"""Hand-written expressions from GitHub's documented semantics, each checked against the oracle.

https://docs.github.com/en/actions/learn-github-actions/expressions
"""

from __future__ import annotations

from typing import Any

from harness.github.errors import ExpressionError
from tests.github.expr_oracle import Case

CONTEXTS: dict[str, Any] = {
    "github": {
        "ref": "refs/heads/main",
        "event_name": "workflow_dispatch",
        "run_attempt": "1",
        "event": {"inputs": {"dry_run": "false", "count": "3", "ratio": " 0.5 ", "hex": "0x1F"}},
    },
    "inputs": {"dry_run": False, "version": "1.2.3", "count": 3, "ratio": 0.25, "big": 1e21, "tiny": 1e-7},
    "needs": {
        "select": {"result": "success", "outputs": {"labels": '["self-hosted","primary"]', "runner": "primary"}},
        "build": {"result": "failure", "outputs": {}},
    },
    "steps": {"my-step": {"outputs": {"v": "42", "empty": ""}, "outcome": "failure", "conclusion": "success"}},
    "env": {"MODE": "Prod", "mode_lower": "prod", "NUM": "012", "SPACE": " "},
    "vars": {},
    "matrix": {
        "items": [{"name": "a", "n": 1}, {"name": "b", "n": None}, {"other": True}, "text", [10, 20]],
        "os": ["ubuntu", "Windows"],
        "nested": {"x": {"y": [1, 2]}, "z": {"y": [3]}},
    },
    "strategy": {"fail-fast": True, "job-index": 0},
    "runner": {"os": "Linux", "temp": "/tmp"},
    "job": {"status": "success"},
}

# fmt: off
LITERALS = [
    "null", "true", "false", "TRUE", "False", "NULL", "42", "-1.5", "+7", "0", "-0", "0xff", "0XFF", "-0x10", "0o17",
    "0b101", "1e3", "1E-2", "2.5e+3", "1.", ".5", "-.5", "017", "00", "0.10", "1e21", "1e-7", "1e400", "123.456",
    "0.1", "1.23456789012345678", "12345678901234567890", "NaN", "Infinity", "-Infinity", "nan", "infinity", "1_000",
    "1e", "0x", "5abc", "'it''s'", "''", "'a''b'", "'  padded  '", "'multi\nline'",
]
COMPARISONS = [
    "'ABC' == 'abc'", "'abc' != 'ABD'", "'b' > 'A'", "'B' > 'a'", "'_' < 'a'", "'_' > 'A'", "'a' < 'b'",
    "'abc' < 'abd'", "'' < 'a'", "'a' <= 'A'", "'a' >= 'A'", "'ß' == 'SS'", "'ı' == 'I'", "'i' == 'I'", "'😀' < 'Ａ'",
    "'é' == 'É'", "'10' < '9'", "'10' < 9", "1 < 2", "2 <= 2", "3 >= 4", "true > false", "true >= 1", "null < 1",
    "null <= null", "null < null", "'a' < null", "'' >= null", "github <= github", "github >= github",
    "github == github", "github < github", "matrix.os == matrix.os", "NaN < 1", "NaN >= NaN", "Infinity > 1e308",
    "-Infinity < -1e308",
]
EQUALITY = [
    "1 == '1'", "'' == 0", "' ' == 0", "null == 0", "null == ''", "null == false", "null == null", "true == 1",
    "true == '1'", "false == ''", "false == 'false'", "'true' == true", "'abc' == 0", "NaN == NaN", "1 == 1.0",
    "'0x10' == 16", "'-0x10' == -16", "' 12 ' == 12", "'1e3' == 1000", "'1_0' == 10", "'Infinity' == Infinity",
    "'+5' == 5", "'.5' == 0.5", "'5.' == 5", "'0b11' == 3", "'0o7' == 7", "'012' == 12", "env.NUM == 12",
    "github.event.inputs.count == 3", "github.event.inputs.ratio == 0.5", "github.event.inputs.hex == 31",
    "inputs.dry_run == false", "github.event.inputs.dry_run == 'false'", "github.event.inputs.dry_run == false",
    "matrix.os == 'ubuntu'", "matrix == null", "fromJSON('[]') == fromJSON('[]')", "env.SPACE == 0",
]
LOGIC = [
    "'a' && 'b'", "'' && 'b'", "null || 'fallback'", "0 || ''", "inputs.version || 'latest'",
    "github.event_name == 'push' && 'yes' || 'no'", "!github.missing", "!!'x'", "!0", "!NaN", "!'false'",
    "!fromJSON('[]')", "!fromJSON('{}')", "true || false && false", "!true == false", "1 < 2 == true",
    "(1 == 1) && (2 == 3)", "false && 1 || 2", "matrix.items && 'set'", "inputs.count && inputs.ratio",
]
FUNCTIONS = [
    "contains('Hello World', 'world')", "contains('abc', '')", "contains('ß', 'SS')", "contains(12345, 34)",
    "contains(true, 'ru')", "contains(null, '')", "contains(matrix.os, 'WINDOWS')", "contains(matrix.os, 'win')",
    "contains(fromJSON('[1,2]'), '2')", "contains(fromJSON('[null]'), 0)", "contains(fromJSON('[]'), null)",
    "contains('Object', github)", "contains(github, 'ref')", "contains(matrix.items.*.name, 'B')",
    "contains(fromJSON(needs.select.outputs.labels), 'PRIMARY')", "startsWith(github.ref, 'refs/HEADS/')",
    "startsWith('abc', '')", "startsWith(matrix.os, 'Arr')", "startsWith(12.5, 12)", "endsWith('deploy.yml', '.YML')",
    "endsWith(github, 'ect')", "endsWith('ı', 'I')", "format('{0}-{1}-{0}', 'a', 1)",
    "format('{{literal}} {0}', true)", "format('{0}', null)", "format('x')", "format('{0}', 1.50)",
    "format('{0}', 1e21)", "format('{0}', 0.1)", "format('{0}', 1e-7)", "format('}}{{')", "format('{0:x}', 'a')",
    "format('{00}', 'a')", "format('{1}', 'a')", "format('{}', 'a')", "format('{0', 'a')", "format('}', 'a')",
    "format('{ 0}', 'a')", "format('{0}', github)", "format('{0}', matrix.os)", "format(github, 1)", "format(3, 1)",
    "format('{0}{1}', fromJSON('[1]'), NaN)", "join(fromJSON('[\"a\",\"b\"]'), ', ')", "join(fromJSON('[1,2]'))",
    "join('solo')", "join(matrix.os)", "join(matrix.os, null)", "join(matrix.os, github)", "join(matrix.os, 1.5)",
    "join(github)", "join(null)", "join(fromJSON('[[1],{},null,true,0.5]'), '|')", "join(matrix.items.*.name, '+')",
    "join(12)", "toJSON(fromJSON('{\"a\":[1,true,null]}'))", "toJSON(github.event)", "toJSON('x')", "toJSON(1.5)",
    "toJSON(1e21)", "toJSON(0.1)", "toJSON(NaN)", "toJSON(null)", "toJSON(fromJSON('[]'))", "toJSON(fromJSON('{}'))",
    "toJSON(matrix.items.*.name)", "toJSON('quote \" back\\\\slash tab\tnew\nline é')", "toJSON(inputs)",
    "fromJSON('true')", "fromJSON('3.5')", "fromJSON('[1,2]')[1]", "fromJSON(needs.select.outputs.labels)[1]",
    "fromJSON('\"text\"')", "fromJSON('null')", "fromJSON(' 1 ')", "fromJSON('')", "fromJSON('  ')",
    "fromJSON('{nope')", "fromJSON('NaN')", "fromJSON('Infinity')", "fromJSON('[1,]')", "fromJSON('01')",
    "fromJSON('1e400')", "fromJSON('12345678901234567890')", "fromJSON('{\"a\":1,\"A\":2}')",
    "fromJSON('{\"a\":1,\"A\":2}').A", "fromJSON('{\"a\":1,\"a\":2}')", "fromJSON(1)", "fromJSON(github)",
    "fromJSON(true)", "FROMJSON('1')", "ToJson(1)",
]
PROPERTIES = [
    "github.ref", "github['ref']", "GITHUB.REF", "Github.Event.Inputs.Count", "steps.my-step.outputs.v",
    "needs.select.outputs['runner']", "github.missing", "github.missing.deeper", "vars.NOPE", "vars",
    "matrix.items[1].name", "matrix.items[5]", "matrix.items[-1]", "matrix.items[1.7].name", "matrix.items['1']",
    "matrix.items[true]", "matrix.items[null]", "matrix.items[NaN]", "matrix.items[Infinity]",
    "matrix.items[fromJSON('[0]')]", "matrix.items.name", "matrix['items'][0]['NAME']", "env.dup", "env.DUP",
    "env[1]", "matrix.nested[github]", "github.ref.length", "github.ref[0]", "('abc')[0]", "'abc'[0]",
    "fromJSON('[1,2]')[0]", "(fromJSON('[1,2]'))[1]", "github.event_name.x", "inputs.count.x",
    "steps.my-step.outputs.empty", "strategy.fail-fast", "strategy.job-index", "runner.OS", "job.status",
    "github.null", "github.true", "github.NaN", "matrix.items[0].name.x",
]
FILTERS = [
    "matrix.items.*.name", "matrix.items[*].name", "matrix.items.*.n", "matrix.items.*", "matrix.items.*[0]",
    "matrix.items.*.*", "matrix.nested.*.y", "matrix.nested.*.y.*", "matrix.nested.*.y[0]", "matrix.nested.*.*",
    "github.*", "github.ref.*", "github.missing.*", "github.missing.*.x", "matrix.os.*", "matrix.os[*]",
    "(matrix.items.*.name)[0]", "matrix.items.*.name[0]", "toJSON(matrix.nested.*)", "fromJSON('[1,[2,3]]').*.*",
    "fromJSON('[{\"a\":null},{\"b\":1},{\"a\":2}]').*.a", "fromJSON('[[null],[]]').*[0]", "matrix.*.*.y",
    "matrix.items.*.name == matrix.items.*.name", "join(github.event.*, ';')",
]
NUMBERS_AS_TEXT = [
    "format('{0}', 100)", "format('{0}', 1.5e300)", "format('{0}', 123456789012345678)", "format('{0}', 0.000001)",
    "format('{0}', 1.000000000000001)", "format('{0}', 1.0000000000000001)", "format('{0}', 0.1234567890123456)",
    "format('{0}', 1e-16)", "format('{0}', -1e-16)", "format('{0}', 5e-15)", "format('{0}', 0.0000152587890625)",
    "format('{0}', 2.5)", "format('{0}', -0)", "format('{0}', 1e20)", "format('{0}', 999999999999999999999)",
    "format('{0}', Infinity)", "format('{0}', -Infinity)", "format('{0}', inputs.big)", "format('{0}', inputs.tiny)",
    "format('{0}', inputs.ratio)", "format('{0}', fromJSON('1.10'))", "join(fromJSON('[1e21, 1e-7, 0.5]'))",
]
STATUS_AND_SYNTAX = [
    "success()", "failure()", "cancelled()", "always()", "!cancelled() && github.ref != ''", "success(1)", "github.",
    "(1 == 1", "'unterminated", "1 ===", "foo.bar", "nosuch(1)", "contains('a')", "a b", "1 $ 2", "", "   ", "1 = 1",
    "1 & 1", "1 | 1", "github..ref", "github.ref'x'", "github*", "1 2", "(1) (2)", "!", "1 ==", "github[", "github[]",
    "github.*.", "github.[0]", "5 -3", "5 - 3", "-github", "true.x", "1.x", "github.1", "github\t==\tnull",
    "github\n.ref", "github\f.ref", "github\u00a0.ref", "github\r\n.ref", "format()", "join(1,2,3)", "toJSON()",
    "fromJSON(1,2)", "contains(1,2,3)",
]
LIMITS = [  # at and beyond the maximum depth (50), argument count (255) and length (21000)
    "!" * 49 + "true", "!" * 50 + "true", "(" * 49 + "1" + ")" * 49, "(" * 50 + "1" + ")" * 50,
    "github" + ".a" * 49, "github" + ".a" * 50, "github" + "[0]" * 49, "github" + "[0]" * 50,
    " || ".join(["false"] * 60), "format('{0}'" + ", 1" * 254 + ")", "format('{0}'" + ", 1" * 255 + ")",
    "'" + "x" * 20998 + "'", "'" + "x" * 20999 + "'", "HASHFILES()",
]
CASE = [
    "case(true, 1, 2)", "case(false, 1, 2)", "case(false, 1, 1 == 1, 'b', 'c')", "case(1 == 2, 'a', null)",
    "case(1, 'a', 'b')", "case('true', 'a', 'b')", "case(true, 'a')", "case(true, 'a', false, 'b')",
    "CASE(github.ref == 'refs/heads/main', 'prod', 'dev')", "case(false, 1, matrix.items.*.name)",
]
# fmt: on

TOPICS: dict[str, list[str]] = {
    "literal": LITERALS,
    "comparison": COMPARISONS,
    "equality": EQUALITY,
    "logic": LOGIC,
    "function": FUNCTIONS,
    "property": PROPERTIES,
    "filter": FILTERS,
    "number-text": NUMBERS_AS_TEXT,
    "status-syntax": STATUS_AND_SYNTAX,
    "limits": LIMITS,
    "case": CASE,
}


def table_cases() -> list[Case]:
    """Every hand-written expression, against CONTEXTS."""
    return [Case(expr, CONTEXTS) for exprs in TOPICS.values() for expr in exprs]


def _short(expr: str) -> str:
    return expr if len(expr) <= 60 else f"{expr[:40]}...[{len(expr)} chars]"


def table_ids() -> list[str]:
    """pytest ids: topic and (shortened) expression."""
    return [f"{topic}:{_short(expr)}" for topic, exprs in TOPICS.items() for expr in exprs]


# Where @actions/expressions itself departs from GitHub's documented behaviour: the simulator keeps the
# documented behaviour, and the test checks the oracle still differs (a newer oracle may fix it).
# expression -> (value the simulator must give, what the oracle gets wrong)
ORACLE_DEVIATIONS: dict[str, tuple[Any, str]] = {
    "'a''b''c'": ("a'b'c", "the oracle's lexer unescapes only the first '' of a string literal"),
    "format('{0}', 'a',)": (
        ExpressionError,
        "the oracle accepts a trailing comma in a call; GitHub's lexer (actions/runner) rejects ',' before ')'",
    ),
    "case(true, 1, fromJSON(''))": (
        1,
        "the oracle evaluates every argument of case() first; GitHub's runner evaluates them lazily",
    ),
    'toJSON(fromJSON(\'{"b":1,"2":2}\'))': (
        '{\n  "b": 1,\n  "2": 2\n}',
        "the oracle (a JavaScript object) moves integer-like keys first",
    ),
}

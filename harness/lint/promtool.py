"""promtool over the pipeline's Prometheus rules: `check rules`, then the rule unit tests (`test rules`)."""

from __future__ import annotations

import re

from harness.lint.findings import Finding, one_line
from harness.lint.tools import find_tool, run_tool
from harness.lint.tree import LintTree

TOOL = "promtool"
RULES = ("monitoring/rules/*.yml", "monitoring/rules/*.yaml")
TESTS = ("monitoring/tests/*.yml", "monitoring/tests/*.yaml")
FIX = "apt-get install prometheus (Debian's package ships promtool)"
_AT = re.compile(r"(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)")
_YAML_LINE = re.compile(r"yaml: line (?P<line>\d+): (?P<msg>.*)")
_INDENTED_LINE = re.compile(r"\s+line (?P<line>\d+): (?P<msg>.*)")
_TEST_NAME = re.compile(r"\s*name: (?P<name>.*),\s*$")
_ALERT = re.compile(r"\s*alertname: (?P<alert>\S+), time: (?P<time>\S+),")
_EXPR = re.compile(r"\s*expr: (?P<expr>.*), time: (?P<time>\S+),")
_ITEM = re.compile(r"^\s+\d+:\s*$", re.MULTILINE)


def lint(tree: LintTree) -> list[Finding]:
    """Findings of `promtool check rules` on every rule file; when those are clean, of the rule unit tests."""
    binary = find_tool(TOOL, "checks the pipeline's Prometheus alert rules", FIX)
    rules = tree.matching(*RULES)
    findings = _check_rules(tree, binary, rules) if rules else []
    if findings:
        return findings  # the unit tests of rules that do not load say nothing more
    for test in tree.matching(*TESTS):
        proc = run_tool([binary, "test", "rules", test], tree.root)
        if proc.returncode != 0:
            findings += unit_test_failures(tree, test, proc.stderr or proc.stdout)
    return findings


def _check_rules(tree: LintTree, binary: str, rules: list[str]) -> list[Finding]:
    proc = run_tool([binary, "check", "rules", *rules], tree.root)
    if proc.returncode == 0:
        return []
    findings = check_failures(tree, rules, proc.stderr + proc.stdout)
    return findings or [tree.finding(TOOL, rules[0], 1, 1, _failure_text(proc.stderr or proc.stdout))]


def check_failures(tree: LintTree, files: list[str], output: str) -> list[Finding]:
    """Findings in `promtool check rules` output: `f: l:c: msg`, `f: yaml: line l: msg`, or a list of `line l:`."""
    found: dict[Finding, None] = {}  # promtool repeats some errors: each once, in order
    current = None
    for raw in output.splitlines():
        path = next((f for f in files if raw.startswith(f"{f}: ")), None)
        if path is None:
            item = _INDENTED_LINE.fullmatch(raw)
            if item and current:
                found[tree.finding(TOOL, current, int(item["line"]), 1, item["msg"])] = None
            continue
        current, rest = path, raw[len(path) + 2 :]
        at, yaml_line = _AT.fullmatch(rest), _YAML_LINE.fullmatch(rest)
        if at:
            found[tree.finding(TOOL, path, int(at["line"]), int(at["col"]), at["msg"])] = None
        elif yaml_line:
            found[tree.finding(TOOL, path, int(yaml_line["line"]), 1, f"yaml: {yaml_line['msg']}")] = None
        elif not rest.endswith("errors:"):
            found[tree.finding(TOOL, path, 1, 1, rest)] = None
    return list(found)


def unit_test_failures(tree: LintTree, test: str, output: str) -> list[Finding]:
    """Findings in `promtool test rules` output, each at the failing `eval_time` of its test in file `test`."""
    lines = (tree.root / test).read_text().splitlines()
    findings, name = [], None
    chunks = output.splitlines()
    for i, raw in enumerate(chunks):
        if m := _TEST_NAME.fullmatch(raw):
            name = m["name"].strip()
            continue
        alert, expr = _ALERT.match(raw), _EXPR.match(raw)
        if not (alert or expr) or name is None:
            continue
        block = "\n".join(_until_next_failure(chunks[i + 1 :]))
        exp, _, got = block.partition("got:")
        if alert:
            what = f"alert {alert['alert']} at {alert['time']}"
            detail = f"expected {len(_ITEM.findall(exp))} alert(s), got {len(_ITEM.findall(got))}"
        else:
            what, detail = f"expr {expr['expr']} at {expr['time']}", one_line(block)[:300]
        line, col = _eval_at(lines, name, alert["alert"] if alert else None, (alert or expr)["time"])
        findings.append(tree.finding(TOOL, test, line, col, f"test {name!r}: {what}: {detail}"))
    return findings or [tree.finding(TOOL, test, 1, 1, _failure_text(output))]


def _until_next_failure(rest: list[str]) -> list[str]:
    out = []
    for raw in rest:
        if _TEST_NAME.fullmatch(raw) or _ALERT.match(raw) or _EXPR.match(raw):
            break
        out.append(raw)
    return out


def _eval_at(lines: list[str], name: str, alert: str | None, time: str) -> tuple[int, int]:
    """1-based line and column of the failing evaluation: its `eval_time` in test `name`, else the test's name."""
    start = next((i for i, text in enumerate(lines) if "name:" in text and name in text), None)
    if start is None:
        return 1, 1
    for i in range(start + 1, len(lines)):
        if lines[i].lstrip().startswith("- name:"):
            break  # the next test
        if f"eval_time: {time}" in lines[i]:
            near = " ".join(lines[max(i - 1, 0) : i + 3])
            if alert is None or f"alertname: {alert}" in near:
                return i + 1, lines[i].index("eval_time") + 1
    return start + 1, lines[start].index("name:") + 1


def _failure_text(output: str) -> str:
    return one_line(output.replace("FAILED:", " "))[:500] or "failed without saying why"

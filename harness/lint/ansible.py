"""`ansible-playbook --syntax-check` over the pipeline's playbooks (ansible-core as the runners have it)."""

from __future__ import annotations

import re

import yaml

from harness.lint.findings import Finding, one_line
from harness.lint.tools import find_tool, run_tool
from harness.lint.tree import LintTree

TOOL = "ansible-playbook"
PLAYBOOKS = ("ansible/*.yml", "ansible/*.yaml")
CONFIG = "ansible/ansible.cfg"
FIX = "./bin/deploy-chaos setup (installs the pinned ansible-core wheel into .venv)"
_ERROR = re.compile(r"^(?:\[ERROR\]: |ERROR! )(?P<msg>.*?)(?:\n\s*\n|\nOrigin: |\Z)", re.DOTALL | re.MULTILINE)
_ORIGIN = re.compile(r"^Origin: (?P<path>.+?):(?P<line>\d+):(?P<col>\d+)\s*$", re.MULTILINE)
_APPEARS = re.compile(r"The error appears to be in '(?P<path>[^']+)': line (?P<line>\d+), column (?P<col>\d+)")


def is_playbook(text: str) -> bool:
    """A list of plays, or YAML that does not parse (ansible-playbook says where); not e.g. a list of names."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return True
    return isinstance(data, list) and bool(data) and all(isinstance(play, dict) for play in data)


def lint(tree: LintTree) -> list[Finding]:
    """The syntax-check error of each playbook under ansible/ (one per playbook: ansible stops at its first)."""
    binary = find_tool(TOOL, "syntax-checks the pipeline's Ansible playbooks", FIX)
    playbooks = [rel for rel in tree.matching(*PLAYBOOKS) if is_playbook((tree.root / rel).read_text())]
    home = tree.scratch / "ansible"
    env = {
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
    }
    if CONFIG in tree.origin:
        env["ANSIBLE_CONFIG"] = str(tree.root / CONFIG)  # as scripts/deploy.sh points it

    def check(batch: list[str]) -> str | None:
        proc = run_tool([binary, "--syntax-check", *batch], tree.root, env=env)
        return None if proc.returncode == 0 else proc.stderr + proc.stdout

    # One run checks them all (an ansible start costs a second or more). It stops at the first error,
    # in the playbooks' order: the ones after the playbook it names are checked again.
    findings: list[Finding] = []
    remaining = playbooks
    while remaining and (output := check(remaining)) is not None:
        culprit = _named(tree, remaining, output) or (remaining[0] if len(remaining) == 1 else None)
        if culprit is None:  # the error is in an included file: which playbook includes it, each alone says
            alone = ((playbook, check([playbook])) for playbook in remaining)
            return findings + [syntax_error(tree, pb, out) for pb, out in alone if out is not None]
        findings.append(syntax_error(tree, culprit, output))
        remaining = remaining[remaining.index(culprit) + 1 :]
    return findings


def _named(tree: LintTree, playbooks: list[str], output: str) -> str | None:
    """The playbook of `playbooks` where ansible's error is (None when it names another file, or none)."""
    where = _ORIGIN.search(output) or _APPEARS.search(output)
    path = tree.relative(where["path"]) if where else None
    return path if path in playbooks else None


def syntax_error(tree: LintTree, playbook: str, output: str) -> Finding:
    """The finding of a failed syntax check: its message, where ansible says (else line 1 of the playbook)."""
    error = _ERROR.search(output)
    message = one_line(error["msg"]) if error else one_line(output)[-500:] or "syntax check failed"
    where = _ORIGIN.search(output) or _APPEARS.search(output)
    if where is None:
        return tree.finding(TOOL, playbook, 1, 1, message)
    return tree.finding(TOOL, where["path"], int(where["line"]), int(where["col"]), message)

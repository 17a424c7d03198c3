"""harness.lint.ansible: `ansible-playbook --syntax-check` errors at the line ansible names."""

from __future__ import annotations

from pathlib import Path

from harness.core.pipeline_source import PipelineSource
from harness.lint import ansible
from harness.lint.tree import LintTree, display_path, materialise
from tests.lint.support import PIPELINE, Broken, need, plant


def test_playbooks_are_lists_of_plays_or_broken_yaml() -> None:
    assert ansible.is_playbook((PIPELINE / "ansible/deploy.yml").read_text())
    assert not ansible.is_playbook((PIPELINE / "ansible/steps.yml").read_text())
    assert not ansible.is_playbook("- lock\n- fetch\n")
    assert ansible.is_playbook("- hosts: web\n  bad: [yaml\n")


def test_the_origin_ansible_219_prints_is_the_findings_place(tmp_path: Path) -> None:
    tree = LintTree(tmp_path, {"ansible/deploy.yml": PIPELINE / "ansible/deploy.yml"}, tmp_path)
    output = (
        "[WARNING]: Could not match supplied host pattern, ignoring: web\n"
        "[ERROR]: couldn't resolve module/action 'ansible.builtin.commandz'. This often indicates a\n"
        "misspelling, missing collection, or incorrect module path.\n"
        f"Origin: {tmp_path}/ansible/deploy.yml:18:7\n\n"
        "18     - name: the transaction to roll back\n"
    )
    finding = ansible.syntax_error(tree, "ansible/deploy.yml", output)
    assert finding.render() == (
        f"{display_path(PIPELINE / 'ansible/deploy.yml')}:18:7: ansible-playbook: couldn't resolve module/action "
        "'ansible.builtin.commandz'. This often indicates a misspelling, missing collection, or incorrect module path."
    )


def test_older_ansible_wording_and_no_place_at_all(tmp_path: Path) -> None:
    tree = LintTree(tmp_path, {}, tmp_path)
    older = "ERROR! conflicting action statements\n\nThe error appears to be in '/x/ansible/a.yml': line 4, column 7"
    finding = ansible.syntax_error(tree, "ansible/a.yml", older)
    assert (finding.path, finding.line, finding.col, finding.message) == (
        "/x/ansible/a.yml", 4, 7, "conflicting action statements"
    )  # fmt: skip
    nowhere = ansible.syntax_error(tree, "ansible/a.yml", "[ERROR]: the role 'x' was not found\n")
    assert (nowhere.path, nowhere.line, nowhere.col, nowhere.message) == (
        "ansible/a.yml", 1, 1, "the role 'x' was not found"
    )  # fmt: skip


def test_the_reference_playbooks_pass_the_syntax_check() -> None:
    need("ansible-playbook")
    with materialise(PipelineSource(PIPELINE)) as tree:
        assert ansible.lint(tree) == []


def test_a_yaml_broken_playbook_is_found_at_its_line(broken: Broken) -> None:
    need("ansible-playbook")
    with materialise(PipelineSource(broken.root)) as tree:
        [finding] = ansible.lint(tree)
    assert finding.render().startswith(f"{broken.playbook}:{broken.playbook_line}:")
    assert finding.tool == "ansible-playbook" and "YAML" in finding.message


def test_each_broken_playbook_is_reported(broken: Broken) -> None:
    need("ansible-playbook")
    plant(broken.root / "ansible/deploy.yml", "  hosts: web\n", "  hosts: web\n  not_a_play_keyword: 1\n")
    with materialise(PipelineSource(broken.root)) as tree:
        found = [(Path(f.path).name, f.message) for f in ansible.lint(tree)]
    assert [name for name, _ in found] == ["deploy.yml", "rollback.yml"]
    assert "'not_a_play_keyword' is not a valid attribute for a Play" in found[0][1]

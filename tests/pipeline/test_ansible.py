"""The Ansible deploy (pipeline/ansible/): its structure against the contract (docs/production.md),
and `ansible-playbook --syntax-check` of every playbook, the variants' too, in the runner image
(ansible-core as the runners have it; needs `deploy-chaos setup`)."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.core.pipeline_source import PipelineSource

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "pipeline"
ANSIBLE = PIPELINE / "ansible"
PLAYBOOKS = ("deploy.yml", "rollback.yml")
VARIANTS_WITH_PLAYBOOKS = sorted(p.parent.name for p in PIPELINE.glob("variants/*/ansible"))


def play(name: str = "deploy.yml", root: Path = ANSIBLE) -> dict[str, Any]:
    plays = yaml.safe_load((root / name).read_text())
    assert isinstance(plays, list) and len(plays) == 1
    return dict(plays[0])


def deploy_block() -> dict[str, Any]:
    tasks = play()["tasks"]
    assert len(tasks) == 1 and "block" in tasks[0], "one block: the transaction, with its rescue and always"
    return dict(tasks[0])


def all_tasks(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for task in tasks:
        out.append(task)
        for key in ("block", "rescue", "always"):
            out += all_tasks(task.get(key) or [])
    return out


def test_steps_yml_lists_the_steps_the_playbook_runs_in_order() -> None:
    declared = PipelineSource(PIPELINE).deploy_steps()
    assert declared == ["lock", "snapshot", "fetch", "migrate", "backend", "frontend", "health", "commit"]
    markers = [t for t in deploy_block()["block"] if str(t.get("name", "")).startswith("DCH-STEP ")]
    assert [t["name"].removeprefix("DCH-STEP ") for t in markers] == declared
    for task in markers:  # printed once, when the step starts, whatever the callback shows
        assert task["ansible.builtin.debug"]["msg"].startswith(task["name"] + " ")
        assert task.get("run_once") is True
    # every task of the block belongs to the step whose marker precedes it
    step = None
    for task in deploy_block()["block"]:
        name = str(task.get("name", ""))
        if name.startswith("DCH-STEP "):
            step = name.removeprefix("DCH-STEP ")
        else:
            assert step and name.startswith(f"{step} | "), f"task {name!r} is outside its step ({step})"


def test_a_failure_on_any_host_rolls_every_host_back_and_the_lock_is_always_released() -> None:
    deploy = play()
    assert deploy["hosts"] == "web" and deploy["gather_facts"] is False
    assert deploy["any_errors_fatal"] is True, "one host failing sends every host to the rescue"
    block = deploy_block()
    rescue = " ".join(json.dumps(t) for t in block["rescue"])
    assert "'rollback'" in rescue and "groups['web']" in rescue, "the rescue rolls back every inventory host"
    assert block["rescue"][-1].get("ansible.builtin.fail"), "a rolled-back deploy fails"
    always = " ".join(json.dumps(t) for t in block["always"])
    assert "'release'" in always


def test_the_backend_restarts_only_when_it_moved_and_health_is_one_step() -> None:
    tasks = {t.get("name", ""): t for t in all_tasks(deploy_block()["block"])}
    backend = next(t for n, t in tasks.items() if n.startswith("backend | "))
    assert "'activate', 'backend'" in backend["vars"]["argv"]
    release = (PIPELINE / "production" / "app-release").read_text()
    assert "if moved or running != version:" in release
    health = next(t for n, t in tasks.items() if n.startswith("health | "))
    assert health["delegate_to"] == "localhost" and health["run_once"] is True
    assert "ignore_errors" not in health and "failed_when" not in health


def test_every_remote_step_runs_a_host_tool_the_pipeline_provides() -> None:
    tools = {p.name for p in (PIPELINE / "production").iterdir() if p.is_file()}
    for name in ("deploy.yml", "rollback.yml"):
        text = (ANSIBLE / name).read_text()
        used = set(re.findall(r"/(app-[a-z]+)\b", text))
        assert used and used <= tools, f"{name} uses {used - tools} that pipeline/production/ lacks"


def test_no_task_reads_stdin_or_dumps_variables() -> None:
    for name in PLAYBOOKS:
        doc = play(name)
        assert "vars_prompt" not in doc
        for task in all_tasks(doc["tasks"]):
            assert "ansible.builtin.pause" not in task and "pause" not in task, task
            debug = task.get("ansible.builtin.debug") or {}
            assert "var" not in debug, f"{task.get('name')}: a debug of a variable could print a secret"
    script = (PIPELINE / "scripts" / "deploy.sh").read_text()
    invocation = next(line for line in script.splitlines() if "ansible-playbook -i" in line)
    assert " -v" not in invocation and "</dev/null" in invocation


def test_ansible_cfg_keeps_one_connection_per_host_and_retries_it() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ANSIBLE / "ansible.cfg")
    ssh = cfg["ssh_connection"]
    assert ssh.getboolean("pipelining") is True
    assert "ControlMaster=auto" in ssh["ssh_args"] and "ControlPersist=" in ssh["ssh_args"]
    assert int(ssh["retries"]) >= 1
    assert cfg["defaults"]["gathering"] == "explicit" and cfg["defaults"].getboolean("host_key_checking")
    assert cfg["defaults"]["interpreter_python"] == "/usr/bin/python3"


def test_the_workflow_hands_the_deploy_its_hosts_load_balancer_and_artifact_store() -> None:
    workflow = yaml.safe_load((PIPELINE / ".github" / "workflows" / "deploy.yml").read_text())
    steps = workflow["jobs"]["deploy"]["steps"]
    deploy = next(s for s in steps if "scripts/deploy.sh" in s.get("run", ""))
    env = deploy["env"]
    for name in ("PROD_HOSTS", "PROD_LB_URL", "ARTIFACTS_URL"):
        assert env[name] == "${{ vars." + name + " }}"
    assert env["DEPLOY_ATTEMPTS"] == 3
    assert workflow["jobs"]["deploy"]["concurrency"] == {"group": "production-deploy", "cancel-in-progress": False}
    assert any(s.get("if") == "failure()" and "diagnose.sh" in s.get("run", "") for s in steps)
    assert not (PIPELINE / "scripts" / "remote-activate.sh").exists(), "replaced by the Ansible deploy"


# ---- in the runner image ------------------------------------------------------------------------


def syntax_check(pipeline: Path) -> tuple[int, str]:
    """`ansible-playbook --syntax-check` of every playbook of `pipeline`, in the runner image."""
    import docker

    from harness.bootstrap.images import image_tags
    from harness.topology.backend import LABEL_MANAGED

    inventory = '{"web": {"hosts": {"prod-web-1": {}, "prod-web-2": {}}}}'
    script = f"cd /p/ansible && printf '%s' '{inventory}' > /tmp/inventory.json && " + " && ".join(
        f"ANSIBLE_CONFIG=/p/ansible/ansible.cfg ansible-playbook --syntax-check -i /tmp/inventory.json {name}"
        for name in PLAYBOOKS
    )
    client = docker.from_env()
    container = client.containers.run(
        image_tags(ROOT)["runner"],
        ["bash", "-c", script],
        detach=True,
        volumes={str(pipeline): {"bind": "/p", "mode": "ro"}},
        labels={LABEL_MANAGED: "true"},
    )
    try:
        code = container.wait(timeout=120)["StatusCode"]
        return code, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
        client.close()


@pytest.mark.docker
def test_reference_playbooks_pass_the_syntax_check() -> None:
    code, output = syntax_check(PIPELINE)
    assert code == 0, output
    assert output.count("playbook: ") == len(PLAYBOOKS), output


@pytest.mark.docker
@pytest.mark.parametrize("variant", VARIANTS_WITH_PLAYBOOKS)
def test_variant_playbooks_pass_the_syntax_check(variant: str, tmp_path: Path) -> None:
    """A negative control must fail for its planted defect, never for a broken playbook."""
    for rel, path in PipelineSource(PIPELINE, variant).files().items():
        if rel.startswith(("ansible/", "production/")):
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_bytes(path.read_bytes())
    code, output = syntax_check(tmp_path)
    assert code == 0, output

"""pipeline/scripts/deploy.sh, the driver of the Ansible deploy: retry policy, outcomes, notifications,
secrets handling, and what it hands to ansible-playbook. No Docker: fake `ansible-playbook`, `ssh` and
`curl` on PATH play each attempt from a plan (the real playbook runs in test_deploy_e2e.py).

Plan entries, one per attempt: `ok` (exit 0), `unreachable` (exit 4, as ansible-playbook when a host
is unreachable), `hang` (never ends: the attempt times out), `rolled_back` / `lock_held` / `failed`
(the playbook's rescue writes that outcome, then exit 2).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "pipeline" / "scripts" / "deploy.sh"

FAKE_ANSIBLE = r"""#!/usr/bin/env python3
import json, os, stat, sys, time
from pathlib import Path
log = Path(os.environ["FAKE_LOG"])
n = len(list(log.parent.glob("attempt-*.json"))) + 1
args = sys.argv[1:]
extra = json.loads(Path(args[args.index("-e") + 1].lstrip("@")).read_text())
inventory = json.loads(Path(args[args.index("-i") + 1]).read_text())
key = Path(inventory["web"]["vars"]["ansible_ssh_private_key_file"])
record = {"argv": args, "extra": extra, "inventory": inventory, "key_mode": oct(stat.S_IMODE(key.stat().st_mode)),
          "key": str(key), "stdin_is_devnull": os.path.samefile("/dev/stdin", "/dev/null"),
          "env": {k: os.environ.get(k) for k in ("ANSIBLE_CONFIG", "ANSIBLE_SSH_CONTROL_PATH_DIR")}}
(log.parent / f"attempt-{n}.json").write_text(json.dumps(record))
plan = os.environ["FAKE_PLAN"].split(",")
step = plan[min(n, len(plan)) - 1]
print(f"fake ansible-playbook attempt {n}: {step}", flush=True)
if step == "ok":
    sys.exit(0)
if step == "unreachable":
    print("fatal: [prod-web-2]: UNREACHABLE! => ssh: connect to host prod-web-2 port 22: Connection refused")
    sys.exit(4)
if step == "hang":
    time.sleep(3600)
Path(extra["outcome_file"]).write_text(json.dumps({"outcome": step, "steps": ["health | every component"]}))
sys.exit(2)
"""

FAKE_SSH = """#!/bin/sh
echo "ssh $*" >> "$FAKE_SSH_LOG"
case "$*" in
  *heartbeat*) echo '{"changed": false, "renewed": null, "every_s": 0.2}' ;;
  *rollback-plan*) echo "$FAKE_ROLLBACK_PLAN"; exit "${FAKE_ROLLBACK_RC:-0}" ;;
esac
exit 0
"""

FAKE_CURL = """#!/bin/sh
# notify: curl -fsS --max-time 5 -H ... -d <json> <url>; final check: curl -fsS --max-time 5 <lb>/api/version
data=""
while [ $# -gt 1 ]; do [ "$1" = "-d" ] && data=$2; shift; done
case "$1" in
  */api/version) echo "{\\"version\\": \\"$FAKE_SERVED\\"}" ;;
  *) printf '%s\\n' "$(printf '%s' "$data" | tr -d '\\n')" >> "$FAKE_NOTIFY_LOG" ;;
esac
"""


@dataclass
class Run:
    code: int
    output: str
    attempts: list[dict[str, object]]
    notifications: list[dict[str, str]]
    ssh_calls: list[str]


def deploy(tmp_path: Path, plan: str, served: str = "2.0.0", **env: str) -> Run:
    bin_dir, logs = tmp_path / "bin", tmp_path / "logs"
    bin_dir.mkdir(exist_ok=True)
    logs.mkdir(exist_ok=True)
    for name, text in (("ansible-playbook", FAKE_ANSIBLE), ("ssh", FAKE_SSH), ("curl", FAKE_CURL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    environment = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "VERSION": "2.0.0",
        "PROD_HOSTS": "prod-web-1 prod-web-2",
        "PROD_LB_URL": "http://prod-lb",
        "ARTIFACTS_URL": "http://artifacts:8000",
        "SSH_KNOWN_HOSTS": "@cert-authority * ssh-ed25519 AAAA",
        "DEPLOY_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-line\n-----END OPENSSH PRIVATE KEY-----",
        "DEPLOY_SSH_CERT": "ssh-ed25519-cert-v01@openssh.com AAAA",
        "RUNNER_NAME": "runner primary",  # a space: the transaction's runner name must survive it
        "GITHUB_RUN_ID": "42",
        "TEAM_WEBHOOK_URL": "http://sink/team",
        "RETRY_WAIT_S": "0",
        # 2 s where an attempt hangs on purpose; room to spare elsewhere (a loaded CI machine)
        "ATTEMPT_TIMEOUT_S": "2" if "hang" in plan else "30",
        "FAKE_LOG": str(logs / "fake.log"),
        "FAKE_SSH_LOG": str(logs / "ssh.log"),
        "FAKE_NOTIFY_LOG": str(logs / "notify.log"),
        "FAKE_PLAN": plan,
        "FAKE_SERVED": served,
        "FAKE_ROLLBACK_PLAN": '{"changed": false, "from": "2.0.0", "to": "1.0.0"}',
        **env,
    }
    proc = subprocess.run(
        ["bash", str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    attempts = [json.loads(p.read_text()) for p in sorted(logs.glob("attempt-*.json"))]
    notify = logs / "notify.log"
    notes = [json.loads(line) for line in notify.read_text().splitlines()] if notify.exists() else []
    ssh = logs / "ssh.log"
    ssh_calls = ssh.read_text().splitlines() if ssh.exists() else []
    return Run(proc.returncode, proc.stdout + proc.stderr, attempts, notes, ssh_calls)


pytestmark = pytest.mark.skipif(shutil.which("jq") is None, reason="deploy.sh needs jq (apt-get install jq)")


def test_a_successful_deploy_runs_once_verifies_end_to_end_and_tells_the_team(tmp_path: Path) -> None:
    run = deploy(tmp_path, "ok")
    assert run.code == 0, run.output
    assert len(run.attempts) == 1
    assert "production serves 2.0.0" in run.output
    assert [n["event"] for n in run.notifications] == ["success"]
    assert run.notifications[0]["version"] == "2.0.0" and run.notifications[0]["runner"] == "runner primary"


def test_what_the_playbook_is_given(tmp_path: Path) -> None:
    run = deploy(tmp_path, "unreachable,ok")
    first, second = run.attempts
    extra = first["extra"]
    assert isinstance(extra, dict)
    assert extra["version"] == "2.0.0"
    assert extra["txn_runner"] == "runner_primary/run-42/attempt-1"
    assert second["extra"]["txn_runner"] == "runner_primary/run-42/attempt-2"  # type: ignore[index]
    assert extra["txn_takeover"] == "runner_primary/run-42/attempt-"
    assert extra["artifacts_url"] == "http://artifacts:8000" and extra["lb_url"] == "http://prod-lb"
    assert extra["deploy_runner"] == "runner primary" and extra["deployed_by"] == "github-actions"
    argv = first["argv"]
    assert isinstance(argv, list) and argv[-3].endswith("/ansible/deploy.yml") and "-v" not in argv
    inventory = first["inventory"]
    assert isinstance(inventory, dict)
    web = inventory["web"]
    assert sorted(web["hosts"]) == ["prod-web-1", "prod-web-2"]
    assert web["vars"]["ansible_user"] == "deploy"
    assert web["vars"]["ansible_python_interpreter"] == "/usr/bin/python3"
    common = web["vars"]["ansible_ssh_common_args"]
    for option in ("CertificateFile=", "UserKnownHostsFile=", "StrictHostKeyChecking=yes", "BatchMode=yes",
                   "IdentitiesOnly=yes"):  # fmt: skip
        assert f"-o {option}" in common
    assert first["key_mode"] == "0o600", "the key is written with umask 077"
    assert first["stdin_is_devnull"] is True, "no step reads stdin"
    env = first["env"]
    assert isinstance(env, dict) and str(env["ANSIBLE_CONFIG"]).endswith("/ansible/ansible.cfg")


def test_secrets_and_temporary_files_are_gone_after_the_deploy(tmp_path: Path) -> None:
    run = deploy(tmp_path, "rolled_back")
    key = Path(str(run.attempts[0]["key"]))
    assert not key.exists() and not key.parent.exists()
    assert "secret-line" not in run.output
    assert [p.name for p in tmp_path.iterdir() if p.name not in ("bin", "logs")] == []


def test_a_host_unreachable_is_retried_and_the_retry_deploys(tmp_path: Path) -> None:
    run = deploy(tmp_path, "unreachable,ok")
    assert run.code == 0, run.output
    assert len(run.attempts) == 2
    assert "deploy attempt 1/3: SSH connection failed; retrying in 0s" in run.output
    assert [n["event"] for n in run.notifications] == ["success"]


def test_a_timed_out_attempt_is_retried(tmp_path: Path) -> None:
    run = deploy(tmp_path, "hang,ok")
    assert run.code == 0, run.output
    assert "deploy attempt 1/3: timed out after 2s; retrying in 0s" in run.output
    assert len(run.attempts) == 2


def test_three_failed_connections_give_up_with_the_ssh_failure(tmp_path: Path) -> None:
    run = deploy(tmp_path, "unreachable,unreachable,unreachable,ok")
    assert run.code == 255
    assert len(run.attempts) == 3
    assert "deploy attempt 3/3: SSH connection failed; giving up" in run.output
    assert "Connection refused" in run.output, "diagnose.sh classifies the output: network_connectivity"
    assert run.notifications == []
    assert any("app-txn abandon --runner runner_primary/run-42/attempt-3" in c for c in run.ssh_calls)


def test_when_every_attempt_timed_out_the_last_ones_transaction_is_handed_back(tmp_path: Path) -> None:
    run = deploy(tmp_path, "hang,hang,hang")
    assert run.code == 124
    assert "deploy attempt 3/3: timed out after 2s; giving up" in run.output
    assert any("app-txn abandon --runner runner_primary/run-42/attempt-3" in c for c in run.ssh_calls)


def test_a_rolled_back_release_is_never_retried_and_the_team_is_told(tmp_path: Path) -> None:
    run = deploy(tmp_path, "rolled_back,ok")
    assert not any("abandon" in c for c in run.ssh_calls), "the rescue closed the transaction already"
    assert run.code == 1
    assert len(run.attempts) == 1
    assert "release 2.0.0 failed and was rolled back on every production host" in run.output
    assert [(n["event"], n["version"]) for n in run.notifications] == [("rollback", "2.0.0")]


def test_a_held_lock_fails_the_deploy_without_retry_or_notification(tmp_path: Path) -> None:
    run = deploy(tmp_path, "lock_held,ok")
    assert run.code == 4
    assert len(run.attempts) == 1
    assert "the production deploy lock is held by another deploy" in run.output
    assert run.notifications == []


def test_a_held_lock_is_waited_for_at_most_half_an_attempt_so_the_holder_gets_named(tmp_path: Path) -> None:
    run = deploy(tmp_path, "ok", ATTEMPT_TIMEOUT_S="60", LOCK_WAIT_S="300")
    assert run.code == 0, run.output
    assert run.attempts[0]["extra"]["lock_wait_s"] == "30"
    assert "waiting for a held deploy lock at most 30s (half the 60s attempt timeout)" in run.output
    (tmp_path / "within").mkdir()
    within = deploy(tmp_path / "within", "ok", ATTEMPT_TIMEOUT_S="600", LOCK_WAIT_S="60")
    assert within.attempts[0]["extra"]["lock_wait_s"] == "60"
    assert "waiting for a held deploy lock" not in within.output


def test_any_other_failure_is_not_retried(tmp_path: Path) -> None:
    run = deploy(tmp_path, "failed,ok")
    assert run.code == 2
    assert len(run.attempts) == 1
    assert run.notifications == []


def test_production_not_serving_the_release_after_a_success_fails_the_deploy(tmp_path: Path) -> None:
    run = deploy(tmp_path, "ok", served="1.0.0")
    assert run.code == 1
    assert "production serves 1.0.0 after deploying 2.0.0" in run.output
    assert run.notifications == []


def test_the_heartbeat_is_renewed_from_the_runner_and_connections_are_closed(tmp_path: Path) -> None:
    run = deploy(tmp_path, "hang,ok")
    beats = [c for c in run.ssh_calls if "app-txn heartbeat --runner runner_primary/run-42/attempt-1" in c]
    assert beats, run.ssh_calls
    assert all("-n " in c and "ControlPath=" in c and "BatchMode=yes" in c for c in beats)


@pytest.mark.parametrize("missing", ["VERSION", "PROD_HOSTS", "PROD_LB_URL", "ARTIFACTS_URL", "DEPLOY_SSH_KEY"])
def test_a_missing_variable_or_secret_is_named(tmp_path: Path, missing: str) -> None:
    run = deploy(tmp_path, "ok", **{missing: ""})
    assert run.code != 0 and missing in run.output
    assert run.attempts == []


def test_a_bad_host_name_is_refused_before_anything_runs(tmp_path: Path) -> None:
    run = deploy(tmp_path, "ok", PROD_HOSTS="prod-web-1 $(reboot)")
    assert run.code == 2 and "is not a host name" in run.output and run.attempts == []


def test_the_script_is_executable_by_bash_only_as_the_workflow_runs_it() -> None:
    assert SCRIPT.read_text().startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in SCRIPT.read_text()
    assert not SCRIPT.stat().st_mode & stat.S_IWOTH


def test_a_deploy_stopped_mid_attempt_hands_its_transaction_back_at_once(tmp_path: Path) -> None:
    """A cancelled job (or one GitHub lost) is SIGTERMed: no waiting for the lease."""
    import signal
    import time

    bin_dir, logs = tmp_path / "bin", tmp_path / "logs"
    deploy(tmp_path, "ok")  # lays down the fakes; this test then drives the script by hand, to signal it
    for f in logs.iterdir():
        f.unlink()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "TMPDIR": str(tmp_path),
        "VERSION": "2.0.0",
        "PROD_HOSTS": "prod-web-1 prod-web-2",
        "PROD_LB_URL": "http://prod-lb",
        "ARTIFACTS_URL": "http://artifacts:8000",
        "SSH_KNOWN_HOSTS": "x",
        "DEPLOY_SSH_KEY": "k",
        "DEPLOY_SSH_CERT": "c",
        "RUNNER_NAME": "runner-primary",
        "GITHUB_RUN_ID": "43",
        "ATTEMPT_TIMEOUT_S": "60",
        "FAKE_LOG": str(logs / "fake.log"),
        "FAKE_SSH_LOG": str(logs / "ssh.log"),
        "FAKE_NOTIFY_LOG": str(logs / "notify.log"),
        "FAKE_PLAN": "hang",
    }
    proc = subprocess.Popen(["bash", str(SCRIPT)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not list(logs.glob("attempt-*.json")):
        assert time.monotonic() < deadline and proc.poll() is None, "the attempt never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert proc.returncode == 143
    calls = (logs / "ssh.log").read_text()
    assert "app-txn abandon --runner runner-primary/run-43/attempt-1" in calls
    assert [p.name for p in tmp_path.iterdir() if p.name not in ("bin", "logs")] == []
    out = subprocess.run(["pgrep", "-f", f"{bin_dir}/ansible-playbook"], capture_output=True, text=True)
    assert out.stdout == "", "the hung playbook was left running"


# ---- DEPLOY_KIND=rollback (workflows/rollback.yml) ------------------------------------------------


def rollback(tmp_path: Path, plan: str, served: str = "1.0.0", **env: str) -> Run:
    return deploy(tmp_path, plan, served, **{"DEPLOY_KIND": "rollback", "VERSION": "", **env})


def test_a_rollback_asks_a_host_where_to_go_and_runs_the_deploy_with_the_schema_going_down(tmp_path: Path) -> None:
    run = rollback(tmp_path, "ok")
    assert run.code == 0, run.output
    plans = [c for c in run.ssh_calls if "app-txn rollback-plan" in c]
    assert len(plans) == 1 and plans[0].endswith("deploy@prod-web-1 /opt/app/bin/app-txn rollback-plan"), plans
    assert "rolling production back from 2.0.0 to 1.0.0" in run.output
    (attempt,) = run.attempts
    extra = attempt["extra"]
    assert isinstance(extra, dict) and (extra["version"], extra["direction"]) == ("1.0.0", "down")
    assert "production serves 1.0.0" in run.output
    assert [(n["event"], n["version"], n["to"], n["kind"]) for n in run.notifications] == [
        ("rollback", "2.0.0", "1.0.0", "rollback")
    ]
    assert "Production rolled back from 2.0.0 to 1.0.0" in run.notifications[0]["text"]


def test_a_deploy_goes_up_and_its_notification_names_its_release(tmp_path: Path) -> None:
    run = deploy(tmp_path, "ok")
    assert run.attempts[0]["extra"]["direction"] == "up"  # type: ignore[index]
    assert not any("rollback-plan" in c for c in run.ssh_calls)
    assert [(n["event"], n["version"], n["kind"]) for n in run.notifications] == [("success", "2.0.0", "deploy")]


def test_a_rollback_to_a_named_release_has_it_checked_by_the_host(tmp_path: Path) -> None:
    run = rollback(tmp_path, "ok", VERSION="1.0.0")
    assert any(c.endswith("app-txn rollback-plan --to 1.0.0") for c in run.ssh_calls), run.ssh_calls
    assert run.code == 0


def test_a_rollback_the_host_refuses_changes_nothing(tmp_path: Path) -> None:
    run = rollback(tmp_path, "ok", VERSION="0.5.0", FAKE_ROLLBACK_PLAN="", FAKE_ROLLBACK_RC="2")
    assert run.code == 2 and run.attempts == [] and run.notifications == []
    assert "not rolled back: 0.5.0 is not the release the live one was deployed over" in run.output


def test_a_rollback_with_no_host_answering_fails_as_unreachable(tmp_path: Path) -> None:
    run = rollback(tmp_path, "ok", FAKE_ROLLBACK_PLAN="", FAKE_ROLLBACK_RC="255")
    assert run.code == 255 and run.attempts == []
    assert sum("rollback-plan" in c for c in run.ssh_calls) == 2, "every host is asked"
    assert "no production host answered" in run.output


def test_a_rollback_that_fails_is_undone_and_the_team_is_told_production_stays(tmp_path: Path) -> None:
    run = rollback(tmp_path, "rolled_back,ok")
    assert run.code == 1 and len(run.attempts) == 1
    assert "the rollback from 2.0.0 to 1.0.0 failed and was undone: production stays at 2.0.0" in run.output
    assert [(n["event"], n["version"]) for n in run.notifications] == [("rollback-failed", "2.0.0")]


def test_an_unknown_deploy_kind_is_refused(tmp_path: Path) -> None:
    run = deploy(tmp_path, "ok", DEPLOY_KIND="rollforward")
    assert run.code == 2 and "DEPLOY_KIND 'rollforward'" in run.output and run.attempts == []

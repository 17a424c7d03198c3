"""pipeline/scripts/check-credentials.sh: the deploy preflight stops on a missing, invalid or expired certificate.

Real certificates: a CA and a deploy key made with ssh-keygen in a temporary folder, the certificate signed
with the validity each case needs. The script runs with bash as a subprocess, the key and certificate in
DEPLOY_SSH_KEY / DEPLOY_SSH_CERT as GitHub hands them over from secrets. No case may print the private key.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
SCRIPT = PIPELINE / "scripts" / "check-credentials.sh"
DIAGNOSE = PIPELINE / "scripts" / "diagnose.sh"
ROTATION_RUNBOOK = "runbooks/secrets-expired-rotation.md"


def keygen(*args: str) -> None:
    subprocess.run(["ssh-keygen", "-q", *args], check=True, capture_output=True, stdin=subprocess.DEVNULL)


@dataclass
class Keys:
    folder: Path
    private_key: str
    public_key: str

    def cert(self, validity: str | None, name: str) -> str:
        """A deploy certificate for the key, signed by the CA; validity None: valid forever."""
        pub = self.folder / f"{name}.pub"
        pub.write_text(self.public_key)
        keygen(
            "-s",
            str(self.folder / "ca"),
            "-I",
            f"id-{name}",
            "-n",
            "deploy",
            *(["-V", validity] if validity is not None else []),
            str(pub),
        )
        return (self.folder / f"{name}-cert.pub").read_text().strip()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("creds")
    keygen("-t", "ed25519", "-N", "", "-f", str(folder / "ca"))
    keygen("-t", "ed25519", "-N", "", "-f", str(folder / "key"))
    return Keys(folder, (folder / "key").read_text(), (folder / "key.pub").read_text())


def check(keys: Keys, key: str | None, cert: str | None, tz: str = "UTC", **extra: str) -> subprocess.CompletedProcess:
    """Run the preflight; every run is checked for the private key in its output."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": tz, "HOME": str(keys.folder), **extra}
    if key is not None:
        env["DEPLOY_SSH_KEY"] = key
    if cert is not None:
        env["DEPLOY_SSH_CERT"] = cert
    proc = subprocess.run(
        ["bash", str(SCRIPT)], stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=30
    )
    assert_no_private_key(keys, proc.stdout + proc.stderr)
    return proc


def assert_no_private_key(keys: Keys, text: str) -> None:
    lines = [line.strip() for line in keys.private_key.splitlines() if line.strip()]
    assert len(lines) >= 3
    leaked = [line for line in lines if line in text]
    assert leaked == [], f"{len(leaked)} line(s) of the private key appear in the preflight's output"


def test_certificate_valid_for_30_days_passes_without_warning(keys: Keys) -> None:
    proc = check(keys, keys.private_key, keys.cert("+30d", "ok30"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid until" in proc.stdout
    assert "::warning::" not in proc.stdout
    assert "expired" not in proc.stdout


def test_certificate_expiring_in_2_days_passes_with_a_warning_naming_the_days(keys: Keys) -> None:
    proc = check(keys, keys.private_key, keys.cert("+2d", "soon"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    warnings = [line for line in proc.stdout.splitlines() if line.startswith("::warning::")]
    assert len(warnings) == 1, proc.stdout
    assert re.search(r"\b[12] day", warnings[0]), warnings[0]
    assert "valid until" in proc.stdout


def test_warning_window_follows_expiry_warn_days(keys: Keys) -> None:
    cert = keys.cert("+30d", "ok30-warn")
    proc = check(keys, keys.private_key, cert, EXPIRY_WARN_DAYS="40")
    assert proc.returncode == 0
    assert re.search(r"^::warning::.*\b(29|30) day", proc.stdout, re.MULTILINE), proc.stdout


def test_expired_certificate_fails_naming_authentication_failure_and_the_rotation_runbook(keys: Keys) -> None:
    proc = check(keys, keys.private_key, keys.cert("-2d:-1d", "expired"))
    assert proc.returncode == 1
    assert "expired" in proc.stdout
    assert "authentication failure" in proc.stdout
    assert ROTATION_RUNBOOK in proc.stdout
    assert (PIPELINE / ROTATION_RUNBOOK).is_file()
    assert "valid until" not in proc.stdout


@pytest.mark.parametrize("which", ["key", "cert", "both", "empty"])
def test_missing_secret_fails_with_credential_missing(keys: Keys, which: str) -> None:
    cert = keys.cert("+30d", "ok30-missing")
    key_value, cert_value = {
        "key": (None, cert),
        "cert": (keys.private_key, None),
        "both": (None, None),
        "empty": ("", ""),
    }[which]
    proc = check(keys, key_value, cert_value)
    assert proc.returncode == 1
    assert "credential missing" in proc.stdout


@pytest.mark.parametrize(
    "cert", ["garbage", "ssh-ed25519-cert-v01@openssh.com AAAAnotbase64!! x"], ids=["garbage", "bad-blob"]
)
def test_garbage_certificate_fails_as_not_a_valid_ssh_certificate(keys: Keys, cert: str) -> None:
    proc = check(keys, keys.private_key, cert)
    assert proc.returncode == 1
    assert "not a valid SSH certificate" in proc.stdout


def test_plain_public_key_instead_of_a_certificate_fails(keys: Keys) -> None:
    proc = check(keys, keys.private_key, keys.public_key)
    assert proc.returncode == 1
    assert "not a valid SSH certificate" in proc.stdout


def test_private_key_pasted_as_certificate_fails_without_echoing_it(keys: Keys) -> None:
    proc = check(keys, keys.private_key, keys.private_key)
    assert proc.returncode == 1


def test_certificate_valid_forever_is_refused(keys: Keys) -> None:
    proc = check(keys, keys.private_key, keys.cert(None, "forever"))
    assert proc.returncode == 1
    assert "valid until" not in proc.stdout
    assert "no expiry" in proc.stdout


def diagnose_output(tmp_path: Path, text: str) -> tuple[list[str], str]:
    """diagnose.sh on `text`: its GITHUB_OUTPUT lines and job summary."""
    log = tmp_path / "output.log"
    log.write_text(text)
    summary, outputs = tmp_path / "summary.md", tmp_path / "out.txt"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "RUNNER_NAME": "runner-x",
        "GITHUB_WORKSPACE": str(tmp_path),
    }
    subprocess.run(
        ["bash", str(DIAGNOSE), str(log)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        check=True,
        timeout=30,
    )
    return outputs.read_text().splitlines(), summary.read_text()


@pytest.mark.parametrize("case", ["expired", "garbage", "missing"])
def test_failure_output_is_diagnosed_as_authentication(keys: Keys, tmp_path: Path, case: str) -> None:
    """The preflight's own failure messages land in the authentication class of diagnose.sh."""
    cert = {"expired": lambda: keys.cert("-2d:-1d", "expired-d"), "garbage": lambda: "garbage", "missing": lambda: ""}[
        case
    ]()
    proc = check(keys, keys.private_key, cert)
    assert proc.returncode == 1
    outputs, summary = diagnose_output(tmp_path, proc.stdout + proc.stderr)
    assert "class=authentication" in outputs
    assert f"| runbook | {ROTATION_RUNBOOK} |" in summary


# Findings beyond the happy paths.


def test_expired_certificate_fails_when_the_runner_clock_is_not_utc(keys: Keys) -> None:
    """ssh-keygen -L prints validity in the local time zone; the script reads it as UTC.

    With TZ 14 hours east of UTC, a certificate that expired an hour ago reads as valid for 13 more hours.
    """
    proc = check(keys, keys.private_key, keys.cert("-2d:-1h", "expired-1h"), tz="UTC-14")
    assert proc.returncode == 1, f"expired certificate accepted under TZ=UTC-14:\n{proc.stdout}"
    assert "expired" in proc.stdout


def test_preflight_step_fails_under_githubs_default_shell(keys: Keys, tmp_path: Path) -> None:
    """The workflow pipes the preflight into tee with no `shell:`; GitHub runs such a step as `bash -e {0}`
    (no pipefail), so the step's status is tee's unless the workflow asks for pipefail."""
    workflow = yaml.safe_load((PIPELINE / ".github" / "workflows" / "deploy.yml").read_text())
    preflight = workflow["jobs"]["preflight"]
    step = next(s for s in preflight["steps"] if "check-credentials.sh" in (s.get("run") or ""))
    shell = (
        step.get("shell")
        or preflight.get("defaults", {}).get("run", {}).get("shell")
        or workflow.get("defaults", {}).get("run", {}).get("shell")
    )
    argv = {None: ["bash", "-e"], "bash": ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail"]}[shell]
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts" / "check-credentials.sh")
    (tmp_path / "step.sh").write_text(step["run"] + "\n")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TZ": "UTC",
        "DEPLOY_SSH_KEY": keys.private_key,
        "DEPLOY_SSH_CERT": keys.cert("-2d:-1d", "expired-step"),
    }
    proc = subprocess.run(
        [*argv, str(tmp_path / "step.sh")],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert "expired" in (tmp_path / "output.log").read_text()
    assert proc.returncode != 0, "the preflight step succeeds on GitHub although the certificate has expired"


def test_certificate_without_expiry_is_diagnosed_as_authentication(keys: Keys, tmp_path: Path) -> None:
    """A never-expiring certificate stops the deploy as a credential problem (spec US2: invalid credentials are
    `authentication`), so the responder is sent to the rotation runbook, not to the generic one."""
    proc = check(keys, keys.private_key, keys.cert(None, "forever-diag"))
    assert proc.returncode == 1
    outputs, summary = diagnose_output(tmp_path, proc.stdout + proc.stderr)
    assert "class=authentication" in outputs, f"preflight said {proc.stdout.strip()!r}; diagnosed {outputs}"
    assert f"| runbook | {ROTATION_RUNBOOK} |" in summary

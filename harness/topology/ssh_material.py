"""SSH certificate authority for a test run: CA-signed deploy user cert and host cert.

Real certificates, so a later fault can hand the pipeline an expired or revoked one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import TopologyError

DEPLOY_USER = "deploy"


@dataclass(frozen=True)
class SshMaterial:
    """Files and strings of one run's SSH trust setup."""

    folder: Path
    user_ca_pub: str
    deploy_key: str  # private key: a secret
    deploy_cert: str
    host_key_path: Path
    host_cert_path: Path
    known_hosts: str  # "@cert-authority * <host CA>" line

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in a log, artifact or report."""
        return [self.deploy_key]


def _keygen(*args: str) -> None:
    if shutil.which("ssh-keygen") is None:
        raise TopologyError(
            "ssh-keygen is not installed; it makes the run's SSH CA. Fix: `apt-get install "
            "openssh-client` (deploy-chaos setup does this on Debian as root)."
        )
    proc = subprocess.run(["ssh-keygen", "-q", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise TopologyError(f"ssh-keygen {' '.join(args[:2])} failed: {proc.stderr.strip()}")


def issue_user_cert(material: SshMaterial, validity: str, identity: str) -> str:
    """A new deploy user certificate for the same key, signed by the run's CA with `validity`
    (ssh-keygen -V syntax, e.g. "-2d:-1d" for one that has already expired)."""
    work = material.folder / f"reissue-{identity}"
    work.mkdir(exist_ok=True)
    (work / "deploy.pub").write_bytes((material.folder / "deploy.pub").read_bytes())
    _keygen(
        "-s",
        str(material.folder / "user_ca"),
        "-I",
        identity,
        "-n",
        DEPLOY_USER,
        "-V",
        validity,
        str(work / "deploy.pub"),
    )
    return (work / "deploy-cert.pub").read_text().strip()


def cert_valid_before(cert: str) -> str:
    """The end of a certificate's validity (UTC, ISO format), as ssh-keygen -L prints it."""
    proc = subprocess.run(
        ["ssh-keygen", "-L", "-f", "-"], input=cert, capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}
    )
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("Valid:"):
            for marker in (" to ", "before "):
                if marker in line:
                    end = line.split(marker, 1)[1].strip()
                    if end != "forever":
                        return end
            raise TopologyError(f"certificate has no expiry ({line})")
    raise TopologyError(f"not a certificate: {proc.stderr.strip()}")


def make_ssh_material(folder: Path, hostnames: list[str], run_id: str, validity: str = "-5m:+12h") -> SshMaterial:
    """Create a user CA, a host CA, a deploy key with a user cert and a host key with a host cert."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("user_ca", "host_ca", "deploy", "host_ed25519"):
        _keygen("-t", "ed25519", "-N", "", "-C", f"dch-{name}-{run_id}", "-f", str(folder / name))
    _keygen(
        "-s",
        str(folder / "user_ca"),
        "-I",
        f"deploy-{run_id}",
        "-n",
        DEPLOY_USER,
        "-V",
        validity,
        str(folder / "deploy.pub"),
    )
    _keygen(
        "-s",
        str(folder / "host_ca"),
        "-h",
        "-I",
        f"prodhost-{run_id}",
        "-n",
        ",".join(hostnames),
        "-V",
        validity,
        str(folder / "host_ed25519.pub"),
    )
    return SshMaterial(
        folder=folder,
        user_ca_pub=(folder / "user_ca.pub").read_text().strip(),
        deploy_key=(folder / "deploy").read_text(),
        deploy_cert=(folder / "deploy-cert.pub").read_text().strip(),
        host_key_path=folder / "host_ed25519",
        host_cert_path=folder / "host_ed25519-cert.pub",
        known_hosts="@cert-authority * " + (folder / "host_ca.pub").read_text().strip(),
    )

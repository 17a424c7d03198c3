"""harness.topology.ssh_material: a run's SSH CA, deploy user cert and host cert, checked with ssh-keygen -L."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from harness.core.errors import TopologyError
from harness.topology.ssh_material import SshMaterial, cert_valid_before, issue_user_cert, make_ssh_material

HOSTS = ["prod-web-1", "prod-web-2"]


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> SshMaterial:
    return make_ssh_material(tmp_path_factory.mktemp("ssh") / "ca", HOSTS, "t1")


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """ssh-keygen prints validity in local time: pin it to UTC so times compare with UTC now."""
    monkeypatch.setenv("TZ", "UTC")


def inspect(cert: str | Path) -> str:
    """ssh-keygen -L of a certificate given as text or file."""
    if isinstance(cert, Path):
        proc = subprocess.run(["ssh-keygen", "-L", "-f", str(cert)], capture_output=True, text=True, check=True)
    else:
        proc = subprocess.run(["ssh-keygen", "-L", "-f", "-"], input=cert, capture_output=True, text=True, check=True)
    return proc.stdout


def principals(listing: str) -> list[str]:
    lines = listing.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "Principals:")
    names = []
    for line in lines[start + 1 :]:
        if not line.startswith(" " * 16):
            break
        names.append(line.strip())
    return names


def field(listing: str, name: str) -> str:
    match = re.search(rf"^\s*{re.escape(name)}: (.*)$", listing, re.MULTILINE)
    assert match, f"no {name!r} in:\n{listing}"
    return match.group(1).strip()


def fingerprint(path: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(path)], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def parse(valid_before: str) -> dt.datetime:
    return dt.datetime.fromisoformat(valid_before).replace(tzinfo=dt.UTC)


def test_all_files_exist(material: SshMaterial) -> None:
    folder = material.folder
    for name in (
        "user_ca",
        "user_ca.pub",
        "host_ca",
        "host_ca.pub",
        "deploy",
        "deploy.pub",
        "deploy-cert.pub",
        "host_ed25519",
        "host_ed25519.pub",
        "host_ed25519-cert.pub",
    ):
        assert (folder / name).is_file(), name
    assert material.host_key_path.is_file()
    assert material.host_cert_path.is_file()
    assert material.host_key_path.parent == folder


def test_deploy_cert_is_a_user_cert_for_principal_deploy_signed_by_the_user_ca(material: SshMaterial) -> None:
    assert material.deploy_cert == (material.folder / "deploy-cert.pub").read_text().strip()
    listing = inspect(material.deploy_cert)
    assert "user certificate" in field(listing, "Type")
    assert principals(listing) == ["deploy"]
    assert field(listing, "Key ID") == '"deploy-t1"'
    assert fingerprint(material.folder / "user_ca.pub") in field(listing, "Signing CA")
    assert fingerprint(material.folder / "deploy.pub") in field(listing, "Public key")
    assert material.user_ca_pub == (material.folder / "user_ca.pub").read_text().strip()


def test_deploy_cert_is_valid_now_for_about_twelve_hours(material: SshMaterial) -> None:
    end = parse(cert_valid_before(material.deploy_cert))
    left = end - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=11) < left <= dt.timedelta(hours=12)


def test_host_cert_is_a_host_cert_for_the_given_names(material: SshMaterial) -> None:
    listing = inspect(material.host_cert_path)
    assert "host certificate" in field(listing, "Type")
    assert principals(listing) == HOSTS
    assert fingerprint(material.folder / "host_ca.pub") in field(listing, "Signing CA")
    assert fingerprint(material.folder / "host_ed25519.pub") in field(listing, "Public key")


def test_known_hosts_trusts_the_host_ca_for_every_host(material: SshMaterial) -> None:
    assert material.known_hosts.startswith("@cert-authority * ")
    assert material.known_hosts == "@cert-authority * " + (material.folder / "host_ca.pub").read_text().strip()
    assert "\n" not in material.known_hosts


def test_secrets_list_the_private_key(material: SshMaterial) -> None:
    assert material.secrets == [material.deploy_key]
    assert material.deploy_key == (material.folder / "deploy").read_text()
    assert material.deploy_key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert material.user_ca_pub not in material.secrets


def test_reissued_expired_cert_ended_in_the_past(material: SshMaterial) -> None:
    cert = issue_user_cert(material, "-2d:-1d", "expired-id")
    end = parse(cert_valid_before(cert))
    now = dt.datetime.now(dt.UTC)
    assert end < now
    assert now - end < dt.timedelta(days=1, minutes=5)


def test_reissued_cert_is_for_the_same_key_principal_and_ca(material: SshMaterial) -> None:
    cert = issue_user_cert(material, "-1d:+1d", "reissue-id")
    listing = inspect(cert)
    assert "user certificate" in field(listing, "Type")
    assert principals(listing) == ["deploy"]
    assert field(listing, "Key ID") == '"reissue-id"'
    assert fingerprint(material.folder / "deploy.pub") in field(listing, "Public key")
    assert fingerprint(material.folder / "user_ca.pub") in field(listing, "Signing CA")
    assert parse(cert_valid_before(cert)) > dt.datetime.now(dt.UTC)
    assert cert != material.deploy_cert
    assert (material.folder / "deploy-cert.pub").read_text().strip() == material.deploy_cert


def test_make_ssh_material_honours_validity(tmp_path: Path) -> None:
    material = make_ssh_material(tmp_path / "ca", ["prod-web-1"], "t2", validity="-2d:-1d")
    assert parse(cert_valid_before(material.deploy_cert)) < dt.datetime.now(dt.UTC)
    assert principals(inspect(material.host_cert_path)) == ["prod-web-1"]


def test_cert_valid_before_of_a_non_certificate_raises_topology_error(material: SshMaterial) -> None:
    with pytest.raises(TopologyError):
        cert_valid_before((material.folder / "deploy.pub").read_text())
    with pytest.raises(TopologyError):
        cert_valid_before("garbage")


# Finding beyond the happy paths.


def test_cert_valid_before_of_a_cert_without_expiry_raises_topology_error(material: SshMaterial) -> None:
    """A certificate valid forever ("Valid: forever") has no end: the harness's own error, not an IndexError."""
    forever = issue_user_cert(material, "always:forever", "forever-id")
    assert "forever" in field(inspect(forever), "Valid")
    with pytest.raises(TopologyError):
        cert_valid_before(forever)

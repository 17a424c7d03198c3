"""ExpiredCertificate with real certificates (harness.topology.ssh_material) and a fake secret store."""

from __future__ import annotations

import pytest

from harness.core.errors import Inconclusive
from harness.core.journal import Journal
from harness.faults.credentials import ExpiredCertificate
from harness.topology.ssh_material import SshMaterial, cert_valid_before, issue_user_cert, make_ssh_material

SECRET = "DEPLOY_SSH_CERT"


class FakeSecrets:
    """A secret store that records every set_secret call."""

    def __init__(self, initial: dict[str, str] | None = None, fail_on: str | None = None) -> None:
        self.values = dict(initial or {})
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def set_secret(self, name: str, value: str) -> None:
        self.calls.append((name, value))
        if self.fail_on is not None and value == self.fail_on:
            raise RuntimeError("secret store refused the update")
        self.values[name] = value


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> SshMaterial:
    return make_ssh_material(tmp_path_factory.mktemp("ssh") / "ca", ["prod-web-1"], "t1")


@pytest.fixture(scope="module")
def expired(material: SshMaterial) -> str:
    return issue_user_cert(material, "-2d:-1d", "id")


def make(material: SshMaterial, planted: str, **kwargs: object) -> tuple[FakeSecrets, Journal, ExpiredCertificate]:
    secrets = FakeSecrets({SECRET: material.deploy_cert}, **kwargs)  # type: ignore[arg-type]
    journal = Journal("t1")
    fault = ExpiredCertificate(journal, secrets.set_secret, SECRET, material.deploy_cert, planted, cert_valid_before)
    return secrets, journal, fault


def test_entering_plants_the_expired_cert_and_exiting_restores_the_valid_one(
    material: SshMaterial, expired: str
) -> None:
    secrets, journal, fault = make(material, expired)
    with fault:
        assert secrets.values[SECRET] == expired
        assert fault.took_effect()
        assert fault.leftovers() != []
    assert secrets.calls == [(SECRET, expired), (SECRET, material.deploy_cert)]
    assert secrets.values[SECRET] == material.deploy_cert
    assert fault.leftovers() == []
    assert not fault.took_effect()
    assert journal.last("fault.inject", "ok") is not None
    assert journal.last("fault.revert", "ok") is not None


def test_valid_cert_is_restored_when_the_scenario_body_fails(material: SshMaterial, expired: str) -> None:
    secrets, _, fault = make(material, expired)
    with pytest.raises(RuntimeError, match="scenario step failed"), fault:
        raise RuntimeError("scenario step failed")
    assert secrets.calls[-1] == (SECRET, material.deploy_cert)
    assert secrets.values[SECRET] == material.deploy_cert


def test_planted_cert_that_is_still_valid_is_inconclusive_and_reverted(material: SshMaterial) -> None:
    not_expired = issue_user_cert(material, "-1d:+1d", "still-valid")
    secrets, journal, fault = make(material, not_expired)
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        pytest.fail("the body must not run when the fault did not take effect")
    assert secrets.calls == [(SECRET, not_expired), (SECRET, material.deploy_cert)]
    assert secrets.values[SECRET] == material.deploy_cert
    assert journal.last("fault.inject", "fail") is not None


def test_secret_store_failure_on_inject_is_inconclusive_and_reverted(material: SshMaterial, expired: str) -> None:
    secrets, _, fault = make(material, expired, fail_on=expired)
    with pytest.raises(Inconclusive, match="could not be injected"), fault:
        pytest.fail("the body must not run when the fault could not be injected")
    assert secrets.calls[-1] == (SECRET, material.deploy_cert)
    assert secrets.values[SECRET] == material.deploy_cert


def test_describe_and_journal_carry_no_certificate_or_key_material(material: SshMaterial, expired: str) -> None:
    _, journal, fault = make(material, expired)
    described = fault.describe()
    assert described["secret"] == SECRET
    assert described["planted_valid_before"] == cert_valid_before(expired)
    with fault:
        pass
    texts = [repr(described), repr(journal.entries())]
    blobs = [expired.split()[1], material.deploy_cert.split()[1], material.user_ca_pub.split()[1]]
    key_lines = [line for line in material.deploy_key.splitlines() if line.strip()]
    for text in texts:
        for blob in blobs:
            assert blob not in text
            assert blob[:40] not in text
        for line in key_lines:
            assert line not in text


def test_took_effect_is_false_while_the_valid_cert_is_in_place(material: SshMaterial, expired: str) -> None:
    _, _, fault = make(material, expired)
    assert not fault.took_effect()
    assert fault.leftovers() == []


# Finding beyond the happy paths.


def test_still_valid_cert_is_inconclusive_when_the_harness_clock_is_not_utc(
    material: SshMaterial, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cert_valid_before returns ssh-keygen's local time; took_effect reads it as UTC.

    With TZ 14 hours west of UTC (POSIX "UTC+14"), a certificate valid for two more hours reads as having
    ended twelve hours ago, so a planted certificate that would not fail the deploy passes as "expired".
    """
    not_expired = issue_user_cert(material, "-1d:+2h", "still-valid-tz")
    monkeypatch.setenv("TZ", "UTC+14")
    secrets, _, fault = make(material, not_expired)
    with pytest.raises(Inconclusive), fault:
        pass
    assert secrets.values[SECRET] == material.deploy_cert

"""harness.core.claims: the spec's alert claims, their lookup and label matching."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from harness.core.claims import ALERT_CLAIMS, LOCK_STALE_S, AlertClaim, alert_claim
from harness.core.errors import ConfigError
from harness.core.promdur import parse_duration

SPEC = Path("/work/shared/spec/pipeline-spec.md")


def test_primary_runner_offline() -> None:
    claim = alert_claim("RunnerOffline", "primary")
    assert claim == AlertClaim("RunnerOffline", (("runner", "primary"),), 300, "critical")


def test_secondary_runner_offline() -> None:
    claim = alert_claim("RunnerOffline", "secondary")
    assert claim == AlertClaim("RunnerOffline", (("runner", "secondary"),), 600, "warning")


def test_both_runners_offline() -> None:
    claim = alert_claim("BothRunnersOffline")
    assert claim == AlertClaim("BothRunnersOffline", (), 60, "critical")


def test_unknown_alert_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as err:
        alert_claim("RunnerOnFire", "primary")
    text = str(err.value)
    assert "RunnerOnFire" in text
    assert "BothRunnersOffline" in text and "RunnerOffline" in text


def test_unknown_runner_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="tertiary"):
        alert_claim("RunnerOffline", "tertiary")


def test_claims_are_immutable() -> None:
    claim = alert_claim("RunnerOffline", "primary")
    with pytest.raises(dataclasses.FrozenInstanceError):
        claim.for_s = 1  # type: ignore[misc]


def test_claims_are_unique() -> None:
    keys = [(c.alertname, c.labels) for c in ALERT_CLAIMS]
    assert len(keys) == len(set(keys))


# ---- matches ----------------------------------------------------------------------------------------------------
def test_matches_alertname_and_every_claim_label() -> None:
    claim = alert_claim("RunnerOffline", "primary")
    assert claim.matches({"alertname": "RunnerOffline", "runner": "primary"})
    assert claim.matches({"alertname": "RunnerOffline", "runner": "primary", "severity": "warning", "job": "x"})
    assert not claim.matches({"alertname": "RunnerOffline", "runner": "secondary"})
    assert not claim.matches({"alertname": "RunnerOffline"})
    assert not claim.matches({"alertname": "BothRunnersOffline", "runner": "primary"})
    assert not claim.matches({"runner": "primary"})
    assert not claim.matches({})


def test_claim_without_labels_matches_on_alertname_only() -> None:
    claim = alert_claim("BothRunnersOffline")
    assert claim.matches({"alertname": "BothRunnersOffline"})
    assert claim.matches({"alertname": "BothRunnersOffline", "runner": "primary", "severity": "critical"})
    assert not claim.matches({"alertname": "RunnerOffline"})


# ---- agreement with the spec ------------------------------------------------------------------------------------
ROW = re.compile(
    r"^\s*\|\s*(?P<alert>[A-Za-z]+)(?:\s*\((?P<runner>\w+)\))?\s*\|[^|]*\|\s*(?P<for>[^|]+?)\s*\|"
    r"\s*(?P<severity>\w+)\s*\|\s*$"
)


def spec_alerts() -> dict[tuple[str, str | None], tuple[float, str]]:
    """(alertname, runner) -> (for in seconds, severity) from the spec's canonical alert table."""
    rows = {}
    for line in SPEC.read_text().splitlines():
        m = ROW.match(line)
        if m and m["alert"] != "alert":
            for_s = 0.0 if m["for"] == "0" else parse_duration(m["for"])  # the spec writes no delay as a bare 0
            rows[(m["alert"], m["runner"])] = (for_s, m["severity"])
    return rows


def test_spec_table_is_readable() -> None:
    rows = spec_alerts()
    assert ("RunnerOffline", "primary") in rows
    assert ("BothRunnersOffline", None) in rows


@pytest.mark.parametrize(
    ("alertname", "runner", "for_s", "severity"),
    [
        ("RunnerOffline", "primary", 300, "critical"),
        ("RunnerOffline", "secondary", 600, "warning"),
        ("BothRunnersOffline", None, 60, "critical"),
    ],
)
def test_claims_agree_with_the_spec(alertname: str, runner: str | None, for_s: float, severity: str) -> None:
    assert spec_alerts()[(alertname, runner)] == (for_s, severity)
    claim = alert_claim(alertname, runner)
    assert (claim.for_s, claim.severity) == (for_s, severity)
    assert claim.labels == ((("runner", runner),) if runner else ())


# alerts the spec names outside its table: alertname -> the named parameter that is their `for`
OUTSIDE_THE_TABLE = {"DeployLockStale": "lock_stale_s"}


def test_every_claim_is_in_the_spec_table() -> None:
    rows = spec_alerts()
    for claim in ALERT_CLAIMS:
        if claim.alertname in OUTSIDE_THE_TABLE:
            continue
        runner = dict(claim.labels).get("runner")
        assert rows[(claim.alertname, runner)] == (claim.for_s, claim.severity), claim


def test_deploy_lock_stale_is_the_specs_lock_stale_s() -> None:
    found = re.search(r"`lock_stale_s = (\d+)`", SPEC.read_text())
    assert found, "the spec no longer names lock_stale_s"
    claim = alert_claim("DeployLockStale")
    assert claim.for_s == float(found[1]) == LOCK_STALE_S == 900
    assert claim.labels == ()  # one alert per open transaction, whoever holds it
    assert claim.severity == "critical"  # the spec names none: every production deploy is blocked
    assert set(OUTSIDE_THE_TABLE) == {c.alertname for c in ALERT_CLAIMS} - {a for a, _ in spec_alerts()}

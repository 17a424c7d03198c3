"""steps/parsers.py: typed parameters, so a typo in a feature matches no step instead of failing later."""

from __future__ import annotations

import pytest

from harness.core.claims import ALERT_CLAIMS
from harness.core.types import Role
from steps.parsers import step

OFFLINE = "the {role:Role} runner goes offline"
DEPLOY = 'a production deploy of version "{version:Version}" is triggered'
ALERT = 'the on-call receives "{alertname:Alert}" for the {role:Role} runner within its alert budget'


@pytest.mark.parametrize("role", list(Role))
def test_a_role_parses_to_the_role_enum(role: Role) -> None:
    parser = step(OFFLINE)
    arguments = parser.parse_arguments(f"the {role.value} runner goes offline")
    assert arguments == {"role": role}
    assert isinstance(arguments["role"], Role)


@pytest.mark.parametrize("text", ["the primry runner goes offline", "the Primary runner goes offline"])
def test_a_misspelt_role_matches_no_step(text: str) -> None:
    assert not step(OFFLINE).is_matching(text)


@pytest.mark.parametrize(
    ("version", "matches"), [("1.1.0", True), ("1.1", True), ("10.2.3.4", True), ("v1.1.0", False), ("1", False)]
)
def test_versions_are_dotted_numbers(version: str, matches: bool) -> None:
    assert step(DEPLOY).is_matching(f'a production deploy of version "{version}" is triggered') is matches


def test_only_alert_names_the_claims_know_match() -> None:
    known = ALERT_CLAIMS[0].alertname
    parser = step(ALERT)
    text = 'the on-call receives "{}" for the primary runner within its alert budget'
    assert parser.parse_arguments(text.format(known)) == {"alertname": known, "role": Role.PRIMARY}
    assert not parser.is_matching(text.format(known + "Typo"))

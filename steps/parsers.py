"""Typed step parameters: a typo in a feature (a role, an alert, a version) matches no step,
so pytest-bdd names the step that has no definition instead of failing later with a KeyError."""

from __future__ import annotations

import enum
from typing import Any

import parse
from pytest_bdd import parsers

from harness.core.claims import ALERT_CLAIMS
from harness.core.types import Role

ALERT_NAMES = sorted({claim.alertname for claim in ALERT_CLAIMS})


class Disruption(enum.StrEnum):
    """How a deploy is cut off half-way (US3 interruption matrix)."""

    RUNNER_KILLED = "runner killed"  # SIGKILL: no rescue, trap or always step runs
    RUNNER_FROZEN = "runner frozen"  # until GitHub's lease on the job expires
    NETWORK_CUT = "network cut"  # the runner loses every production host until the attempt fails
    ATTEMPT_TIMEOUT = "attempt timeout"  # a production host hangs until the attempt times out


@parse.with_pattern("|".join(r.value for r in Role))
def _role(text: str) -> Role:
    return Role(text)


@parse.with_pattern("|".join(ALERT_NAMES))
def _alert(text: str) -> str:
    return text


@parse.with_pattern("|".join(d.value for d in Disruption))
def _disruption(text: str) -> Disruption:
    return Disruption(text)


@parse.with_pattern(r"\d+(?:\.\d+){1,3}")
def _version(text: str) -> str:
    return text


@parse.with_pattern(r"[a-z_]+")
def _word(text: str) -> str:
    return text


TYPES: dict[str, Any] = {
    "Role": _role,
    "Alert": _alert,
    "Version": _version,
    "Word": _word,
    "Disruption": _disruption,
}


def step(pattern: str) -> parsers.parse:
    """A step parser knowing the project's types: {role:Role}, {alertname:Alert}, {version:Version}."""
    return parsers.parse(pattern, extra_types=TYPES)

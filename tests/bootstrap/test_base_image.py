"""harness.bootstrap.base_image: the base tag is a stable content hash, overridable by DCH_BASE_IMAGE."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from harness.bootstrap.base_image import REPOSITORY, base_tag
from harness.bootstrap.manifest import BaseSpec

SPEC = BaseSpec("bookworm", "minbase", "http://deb.debian.org/debian", ("python3", "curl", "jq"))


@pytest.fixture(autouse=True)
def _no_configured_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DCH_BASE_IMAGE", raising=False)


def test_tag_format_and_stability() -> None:
    tag = base_tag(SPEC)
    assert re.fullmatch(rf"{re.escape(REPOSITORY)}:[0-9a-f]{{12}}", tag), tag
    assert base_tag(SPEC) == tag
    assert base_tag(BaseSpec(SPEC.suite, SPEC.variant, SPEC.mirror, tuple(SPEC.include))) == tag


@pytest.mark.parametrize(
    "include",
    [
        ("python3", "curl"),
        ("python3", "curl", "jq", "procps"),
        ("python3", "curl", "yq"),
        (),
    ],
)
def test_include_list_change_changes_tag(include: tuple[str, ...]) -> None:
    assert base_tag(replace(SPEC, include=include)) != base_tag(SPEC)


def test_include_order_does_not_change_tag() -> None:
    assert base_tag(replace(SPEC, include=("jq", "curl", "python3"))) == base_tag(SPEC)


@pytest.mark.parametrize(
    "change",
    [
        {"suite": "trixie"},
        {"variant": "buildd"},
        {"mirror": "http://mirror.example/debian"},
    ],
)
def test_suite_variant_mirror_change_changes_tag(change: dict[str, str]) -> None:
    assert base_tag(replace(SPEC, **change)) != base_tag(SPEC)


def test_dch_base_image_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCH_BASE_IMAGE", "registry.example/debian:bookworm")
    assert base_tag(SPEC) == "registry.example/debian:bookworm"
    assert base_tag(replace(SPEC, include=())) == "registry.example/debian:bookworm"


def test_empty_dch_base_image_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = base_tag(SPEC)
    monkeypatch.setenv("DCH_BASE_IMAGE", "")
    assert base_tag(SPEC) == hashed

"""harness.bootstrap.images: content-hash image tags change exactly when an image's inputs change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.bootstrap.images import REPOSITORY_PREFIX, image_tag, image_tags
from harness.bootstrap.manifest import ImageSpec, load_manifest

REPO = Path(__file__).resolve().parents[2]
BASE = "dch/base:0123456789ab"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A checkout with one image context and sources that the image copies in."""
    (tmp_path / "docker" / "web").mkdir(parents=True)
    (tmp_path / "docker" / "web" / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /app\n")
    (tmp_path / "docker" / "web" / "entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "lib" / "core.py").write_text("VALUE = 1\n")
    (tmp_path / "src" / "init.py").write_text("")
    (tmp_path / "unrelated.txt").write_text("not part of any image\n")
    return tmp_path


def spec_of(root: Path, wheels: tuple[str, ...] = ("PyYAML==6.0.3",)) -> ImageSpec:
    return ImageSpec("web", root / "docker" / "web", {"src/lib": "app/lib", "src/init.py": "app/__init__.py"}, wheels)


def test_tag_format(root: Path) -> None:
    tag = image_tag(spec_of(root), BASE, root)
    assert re.fullmatch(r"dch/web:[0-9a-f]{12}", tag), tag


def test_unchanged_inputs_give_the_same_tag(root: Path) -> None:
    assert image_tag(spec_of(root), BASE, root) == image_tag(spec_of(root), BASE, root)


def test_unrelated_file_and_bytecode_do_not_change_the_tag(root: Path) -> None:
    before = image_tag(spec_of(root), BASE, root)
    (root / "unrelated.txt").write_text("changed\n")
    (root / "src" / "other.py").write_text("not copied\n")
    (root / "src" / "lib" / "__pycache__").mkdir()
    (root / "src" / "lib" / "__pycache__" / "core.cpython-311.pyc").write_bytes(b"\x00")
    assert image_tag(spec_of(root), BASE, root) == before


def test_dockerfile_byte_change_changes_the_tag(root: Path) -> None:
    before = image_tag(spec_of(root), BASE, root)
    dockerfile = root / "docker" / "web" / "Dockerfile"
    dockerfile.write_bytes(dockerfile.read_bytes() + b" ")
    assert image_tag(spec_of(root), BASE, root) != before


def test_context_file_change_changes_the_tag(root: Path) -> None:
    before = image_tag(spec_of(root), BASE, root)
    (root / "docker" / "web" / "entrypoint.sh").chmod(0o755)
    assert image_tag(spec_of(root), BASE, root) != before


def test_copied_directory_source_change_changes_the_tag(root: Path) -> None:
    before = image_tag(spec_of(root), BASE, root)
    (root / "src" / "lib" / "core.py").write_text("VALUE = 2\n")
    assert image_tag(spec_of(root), BASE, root) != before


def test_copied_file_source_change_changes_the_tag(root: Path) -> None:
    before = image_tag(spec_of(root), BASE, root)
    (root / "src" / "init.py").write_text("# now not empty\n")
    assert image_tag(spec_of(root), BASE, root) != before


def test_copy_destination_change_changes_the_tag(root: Path) -> None:
    before = image_tag(spec_of(root), BASE, root)
    moved = ImageSpec(
        "web", root / "docker" / "web", {"src/lib": "app/library", "src/init.py": "app/__init__.py"}, ("PyYAML==6.0.3",)
    )
    assert image_tag(moved, BASE, root) != before


def test_base_tag_change_changes_the_tag(root: Path) -> None:
    assert image_tag(spec_of(root), BASE, root) != image_tag(spec_of(root), "dch/base:ba9876543210", root)


def test_wheel_pin_change_changes_the_tag(root: Path) -> None:
    before = image_tag(spec_of(root, ("PyYAML==6.0.3",)), BASE, root)
    assert image_tag(spec_of(root, ("PyYAML==6.0.2",)), BASE, root) != before
    assert image_tag(spec_of(root, ("PyYAML==6.0.3", "httpx==0.28.1")), BASE, root) != before
    assert image_tag(spec_of(root, ()), BASE, root) != before


def test_wheel_order_does_not_change_the_tag(root: Path) -> None:
    one = image_tag(spec_of(root, ("PyYAML==6.0.3", "httpx==0.28.1")), BASE, root)
    assert image_tag(spec_of(root, ("httpx==0.28.1", "PyYAML==6.0.3")), BASE, root) == one


def test_image_tags_of_the_real_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DCH_BASE_IMAGE", raising=False)
    tags = image_tags(REPO)
    names = [spec.name for spec in load_manifest(REPO).images]
    assert sorted(tags) == sorted(names)
    for name, tag in tags.items():
        assert tag.startswith(REPOSITORY_PREFIX)
        assert re.fullmatch(rf"dch/{re.escape(name)}:[0-9a-f]{{12}}", tag), tag
    assert len(set(tags.values())) == len(tags)
    assert image_tags(REPO) == tags


def test_image_tags_follow_the_configured_base_image(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DCH_BASE_IMAGE", raising=False)
    built_base = image_tags(REPO)
    monkeypatch.setenv("DCH_BASE_IMAGE", "debian:bookworm")
    pulled_base = image_tags(REPO)
    assert sorted(pulled_base) == sorted(built_base)
    assert all(pulled_base[name] != built_base[name] for name in built_base)

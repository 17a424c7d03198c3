"""Variants are current: each is the reference with exactly its planted defect, and each has a control."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ROOT / "pipeline" / "variants"


def regenerate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regenerate", VARIANTS / "regenerate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(regenerate().VARIANTS))
def test_variant_is_regenerated_from_the_current_reference(name: str) -> None:
    files = regenerate().render(name)
    assert files, f"variant {name} changes no file"
    for path, text in files:
        assert path.read_text() == text, f"{path} is stale: run `python3 pipeline/variants/regenerate.py`"
        reference = ROOT / "pipeline" / path.relative_to(VARIANTS / name)
        assert text != reference.read_text()
        assert "DEFECT (negative control)" in text
        # a host tool or script of a variant runs as the reference's does
        assert path.stat().st_mode & 0o111 == reference.stat().st_mode & 0o111, f"{path}: mode differs"


def test_every_variant_folder_is_generated_and_holds_only_its_files() -> None:
    module = regenerate()
    folders = sorted(p.name for p in VARIANTS.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(module.VARIANTS)
    for name in folders:
        files = sorted(f for f in (VARIANTS / name).rglob("*") if f.is_file())
        assert files == sorted(path for path, _ in module.render(name)), (
            f"variant {name} holds files regenerate.py does not make"
        )


def test_every_variant_has_a_control() -> None:
    controls = (ROOT / "tests" / "controls" / "test_negative_controls.py").read_text()
    for name in regenerate().VARIANTS:
        assert f'"{name}"' in controls, f"variant {name} has no negative control test"

"""Workflow variants are current: each is the reference workflow with exactly its planted defect."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ROOT / "pipeline" / "variants"


def regenerate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regenerate", VARIANTS / "regenerate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(regenerate().VARIANTS))
def test_variant_workflow_is_regenerated_from_the_current_reference(name: str) -> None:
    path = VARIANTS / name / ".github" / "workflows" / "deploy.yml"
    assert path.read_text() == regenerate().render(name), \
        f"{path} is stale: run `python3 pipeline/variants/regenerate.py`"
    yaml.safe_load(path.read_text())


def test_every_variant_plants_a_marked_defect() -> None:
    for folder in sorted(p for p in VARIANTS.iterdir() if p.is_dir()):
        files = [f for f in folder.rglob("*") if f.is_file()]
        assert files, f"variant {folder.name} changes nothing"
        assert any("DEFECT" in f.read_text() or "NEGATIVE CONTROL" in f.read_text() for f in files), folder.name


def test_every_variant_has_a_control() -> None:
    controls = (ROOT / "tests" / "controls" / "test_negative_controls.py").read_text()
    for folder in sorted(p for p in VARIANTS.iterdir() if p.is_dir()):
        assert f'"{folder.name}"' in controls, f"variant {folder.name} has no negative control test"

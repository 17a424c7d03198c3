"""Fixtures of the pipeline lint tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.support import Broken, make_broken


@pytest.fixture
def broken(tmp_path: Path) -> Broken:
    """The reference pipeline copied to tmp_path with one planted defect per tool (see make_broken)."""
    return make_broken(tmp_path)

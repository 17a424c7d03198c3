"""harness.lint.tree: a pipeline source copied to one folder; findings name the file a person edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.pipeline_source import PipelineSource
from harness.lint.tree import display_path, materialise


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "pipeline"
    (root / ".github/workflows").mkdir(parents=True)
    (root / ".github/workflows/deploy.yml").write_text("name: reference\n")
    (root / "scripts").mkdir()
    (root / "scripts/run.sh").write_text("echo reference\n")
    (root / "variants/broken/scripts").mkdir(parents=True)
    (root / "variants/broken/scripts/run.sh").write_text("echo broken\n")
    return root


def test_a_variant_is_laid_over_the_reference_in_the_copy(repo: Path) -> None:
    with materialise(PipelineSource(repo, "broken")) as tree:
        assert (tree.root / "scripts/run.sh").read_text() == "echo broken\n"
        assert (tree.root / ".github/workflows/deploy.yml").read_text() == "name: reference\n"
        assert not (tree.root / "variants").exists()
        assert tree.matching("scripts/*.sh", "*.yml") == ["scripts/run.sh"]
        finding = tree.finding("shellcheck", f"{tree.root}/scripts/run.sh", 3, 0, f"see {tree.root}/scripts/run.sh")
        copy = tree.root
    assert not copy.exists(), "the copy is removed after the block"
    assert finding.path == str(repo / "variants/broken/scripts/run.sh"), "the variant's own file"
    assert (finding.line, finding.col) == (3, 1), "line and column are at least 1"
    assert finding.message == "see scripts/run.sh", "no temporary folder in a message"


def test_a_file_of_the_reference_is_named_as_itself(repo: Path) -> None:
    with materialise(PipelineSource(repo, "broken")) as tree:
        assert tree.shown("./.github/workflows/deploy.yml") == str(repo / ".github/workflows/deploy.yml")
        assert tree.shown("not/copied.txt") == "not/copied.txt"


def test_paths_inside_the_current_folder_are_shown_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "pipeline/scripts/run.sh") == "pipeline/scripts/run.sh"
    assert display_path(Path("/elsewhere/x.sh")) == "/elsewhere/x.sh"

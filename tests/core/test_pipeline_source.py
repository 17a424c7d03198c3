"""harness.core.pipeline_source: the reference pipeline, variant overlays, and the repository tarball."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
import yaml

from harness.core.errors import ConfigError
from harness.core.pipeline_source import PipelineSource

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
DEPLOY = ".github/workflows/deploy.yml"


def members(tarball: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def tar_infos(tarball: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        return tar.getmembers()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small pipeline repository with two variants."""
    root = tmp_path / "pipeline"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "deploy.yml").write_text("name: reference\n")
    (root / "scripts").mkdir()
    (root / "scripts" / "run.sh").write_text("echo reference\n")
    (root / "scripts" / "keep.sh").write_text("echo keep\n")
    (root / "scripts" / "__pycache__").mkdir()
    (root / "scripts" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\x00")
    (root / "scripts" / "stray.pyc").write_bytes(b"\x00")
    overlay = root / "variants" / "broken"
    (overlay / ".github" / "workflows").mkdir(parents=True)
    (overlay / ".github" / "workflows" / "deploy.yml").write_text("name: broken\n")
    (overlay / "scripts").mkdir()
    (overlay / "scripts" / "extra.sh").write_text("echo extra\n")
    (root / "variants" / "other").mkdir()
    (root / "variants" / "other" / "README.md").write_text("other\n")
    (root / "variants" / "README.md").write_text("variants index\n")
    return root


def test_reference_files(repo: Path) -> None:
    files = PipelineSource(repo).files()
    assert files == {
        ".github/workflows/deploy.yml": repo / ".github" / "workflows" / "deploy.yml",
        "scripts/keep.sh": repo / "scripts" / "keep.sh",
        "scripts/run.sh": repo / "scripts" / "run.sh",
    }


def test_variant_overlays_and_adds_files(repo: Path) -> None:
    files = PipelineSource(repo, "broken").files()
    overlay = repo / "variants" / "broken"
    assert files[".github/workflows/deploy.yml"] == overlay / ".github" / "workflows" / "deploy.yml"
    assert files["scripts/extra.sh"] == overlay / "scripts" / "extra.sh"
    assert files["scripts/run.sh"] == repo / "scripts" / "run.sh"
    assert not any(k.startswith("variants/") or "/variants/" in k for k in files)
    assert "README.md" not in files  # the other variant's file does not leak in


def test_labels(repo: Path) -> None:
    assert PipelineSource(repo).label == "reference"
    assert PipelineSource(repo, "broken").label == "variant broken"


def test_tarball_has_single_top_level_repo_folder(repo: Path) -> None:
    names = [info.name for info in tar_infos(PipelineSource(repo, "broken").tarball())]
    assert names
    assert {name.split("/")[0] for name in names} == {"repo"}
    assert not any("variants" in name.split("/") for name in names)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_tarball_content_is_the_overlaid_content(repo: Path) -> None:
    content = members(PipelineSource(repo, "broken").tarball())
    assert content == {
        "repo/.github/workflows/deploy.yml": b"name: broken\n",
        "repo/scripts/extra.sh": b"echo extra\n",
        "repo/scripts/keep.sh": b"echo keep\n",
        "repo/scripts/run.sh": b"echo reference\n",
    }


def test_tarball_entries_are_owned_by_root_and_keep_exec_bit(repo: Path) -> None:
    (repo / "scripts" / "run.sh").chmod(0o755)
    (repo / "scripts" / "keep.sh").chmod(0o644)
    infos = {i.name: i for i in tar_infos(PipelineSource(repo).tarball())}
    assert all(i.uid == 0 and i.gid == 0 and i.uname == "root" and i.gname == "root" for i in infos.values())
    assert infos["repo/scripts/run.sh"].mode & 0o111
    assert not infos["repo/scripts/keep.sh"].mode & 0o111


def test_unknown_variant_lists_known_variants(repo: Path) -> None:
    with pytest.raises(ConfigError) as err:
        PipelineSource(repo, "missing")
    message = str(err.value)
    assert "'missing'" in message
    assert "Known variants: broken, other." in message
    assert str(repo / "variants" / "missing") in message


def test_unknown_variant_without_variants_folder(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    with pytest.raises(ConfigError) as err:
        PipelineSource(tmp_path, "any")
    assert "Known variants: none." in str(err.value)


def test_folder_without_workflows_is_rejected(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / "deploy.yml").write_text("name: x\n")
    with pytest.raises(ConfigError) as err:
        PipelineSource(tmp_path)
    assert str(tmp_path) in str(err.value)
    assert ".github/workflows" in str(err.value)


def test_nested_folder_named_variants_is_part_of_the_repository(repo: Path) -> None:
    # Only the top-level variants/ folder holds overlays; a pipeline's own config/variants/ is content.
    (repo / "config" / "variants").mkdir(parents=True)
    (repo / "config" / "variants" / "eu.yml").write_text("region: eu\n")
    assert "config/variants/eu.yml" in PipelineSource(repo).files()


def test_variant_bytecode_is_excluded_like_the_reference(repo: Path) -> None:
    cache = repo / "variants" / "broken" / "scripts" / "__pycache__"
    cache.mkdir()
    (cache / "y.cpython-311.pyc").write_bytes(b"\x00")
    files = PipelineSource(repo, "broken").files()
    assert not any("__pycache__" in k or k.endswith(".pyc") for k in files)


# --- the real pipeline -------------------------------------------------------------------------


def deploy_job(source: PipelineSource) -> dict:
    workflow = yaml.safe_load(source.files()[DEPLOY].read_text())
    return workflow["jobs"]["deploy"]


def test_real_reference_pipeline() -> None:
    source = PipelineSource(PIPELINE)
    files = source.files()
    assert DEPLOY in files
    assert "scripts/select-runner.sh" in files
    assert not any(k.startswith("variants/") for k in files)
    assert deploy_job(source)["runs-on"] == "${{ fromJSON(needs.select-runner.outputs.labels) }}"


def test_real_no_failover_variant_changes_deploy_runs_on() -> None:
    reference = PipelineSource(PIPELINE)
    variant = PipelineSource(PIPELINE, "no-failover")
    assert variant.files()[DEPLOY] == PIPELINE / "variants" / "no-failover" / DEPLOY
    assert deploy_job(variant)["runs-on"] == ["self-hosted", "production", "primary"]
    assert deploy_job(variant)["runs-on"] != deploy_job(reference)["runs-on"]
    # everything else is the reference's
    assert {k: v for k, v in variant.files().items() if k != DEPLOY} == {
        k: v for k, v in reference.files().items() if k != DEPLOY
    }


def test_real_no_failover_tarball() -> None:
    content = members(PipelineSource(PIPELINE, "no-failover").tarball())
    assert {name.split("/")[0] for name in content} == {"repo"}
    assert not any(name.startswith("repo/variants/") for name in content)
    assert content[f"repo/{DEPLOY}"] == (PIPELINE / "variants" / "no-failover" / DEPLOY).read_bytes()
    assert content["repo/scripts/select-runner.sh"] == (PIPELINE / "scripts" / "select-runner.sh").read_bytes()


def test_real_unknown_variant_lists_no_failover() -> None:
    with pytest.raises(ConfigError) as err:
        PipelineSource(PIPELINE, "no-such-variant")
    assert "no-failover" in str(err.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("- lock\n- snapshot\n- commit\n", ["lock", "snapshot", "commit"]),
        ("steps:\n  - name: lock\n  - name: commit\n", ["lock", "commit"]),
    ],
)
def test_deploy_steps_come_from_the_pipeline(tmp_path: Path, content: str, expected: list[str]) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "ansible").mkdir()
    (tmp_path / "ansible" / "steps.yml").write_text(content)
    assert PipelineSource(tmp_path).deploy_steps() == expected


@pytest.mark.parametrize("content", ["", "- lock\n- lock\n", "{a: 1}", "- {}\n", "[unclosed"])
def test_bad_deploy_steps_are_one_line_config_errors(tmp_path: Path, content: str) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "ansible").mkdir()
    (tmp_path / "ansible" / "steps.yml").write_text(content)
    with pytest.raises(ConfigError, match=r"steps\.yml"):
        PipelineSource(tmp_path).deploy_steps()


def test_a_pipeline_without_deploy_steps_says_how_to_fix_it(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"declares no deploy steps: no ansible/steps\.yml\. Fix:"):
        PipelineSource(tmp_path).deploy_steps()

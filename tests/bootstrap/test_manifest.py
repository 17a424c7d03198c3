"""harness.bootstrap.manifest: docker/images.yaml loads, and bad manifests fail with errors naming what and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bootstrap.manifest import BaseSpec, ImageSpec, load_manifest
from harness.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

BASE = """\
base:
  suite: bookworm
  variant: minbase
  mirror: http://deb.example/debian
  include: [curl, jq]
"""


def write_repo(root: Path, manifest: str, images: tuple[str, ...] = ("web",)) -> Path:
    """A checkout with docker/images.yaml and a Dockerfile per image name."""
    for name in images:
        (root / "docker" / name).mkdir(parents=True, exist_ok=True)
        (root / "docker" / name / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    (root / "docker").mkdir(parents=True, exist_ok=True)
    (root / "docker" / "images.yaml").write_text(manifest)
    return root


def test_valid_manifest_loads(tmp_path: Path) -> None:
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "lib" / "x.py").write_text("")
    (tmp_path / "src" / "one.txt").write_text("1")
    manifest = (
        BASE
        + """\
images:
  web:
    copy:
      src/lib: app/lib
      src/one.txt: app/one.txt
    wheels: [PyYAML==6.0.3, httpx==0.28.1]
  db:
"""
    )
    root = write_repo(tmp_path, manifest, images=("web", "db"))
    loaded = load_manifest(root)
    assert loaded.base == BaseSpec("bookworm", "minbase", "http://deb.example/debian", ("curl", "jq"))
    assert [i.name for i in loaded.images] == ["web", "db"]
    web = loaded.image("web")
    assert web == ImageSpec(
        "web",
        root / "docker" / "web",
        {"src/lib": "app/lib", "src/one.txt": "app/one.txt"},
        ("PyYAML==6.0.3", "httpx==0.28.1"),
    )
    db = loaded.image("db")
    assert db.copy == {}
    assert db.wheels == ()
    assert db.context == root / "docker" / "db"


def test_unknown_image_name_lists_known_images(tmp_path: Path) -> None:
    root = write_repo(tmp_path, BASE + "images:\n  web: {}\n")
    with pytest.raises(ConfigError) as err:
        load_manifest(root).image("nope")
    assert "'nope'" in str(err.value)
    assert "web" in str(err.value)


def test_missing_dockerfile_names_file_image_and_dockerfile(tmp_path: Path) -> None:
    root = write_repo(tmp_path, BASE + "images:\n  web: {}\n  api: {}\n", images=("web",))
    with pytest.raises(ConfigError) as err:
        load_manifest(root)
    message = str(err.value)
    assert str(root / "docker" / "images.yaml") in message
    assert "'api'" in message
    assert str(root / "docker" / "api" / "Dockerfile") in message
    assert "no Dockerfile" in message


def test_unknown_keys_are_named_with_the_allowed_ones(tmp_path: Path) -> None:
    root = write_repo(tmp_path, BASE + "images:\n  web:\n    wheels: []\n    volumes: [x]\n    ports: [80]\n")
    with pytest.raises(ConfigError) as err:
        load_manifest(root)
    message = str(err.value)
    assert str(root / "docker" / "images.yaml") in message
    assert "'web'" in message
    assert "ports" in message
    assert "volumes" in message
    assert "allowed: copy, wheels" in message


def test_missing_copy_source_is_named(tmp_path: Path) -> None:
    root = write_repo(tmp_path, BASE + "images:\n  web:\n    copy:\n      src/missing.py: app/missing.py\n")
    with pytest.raises(ConfigError) as err:
        load_manifest(root)
    message = str(err.value)
    assert str(root / "docker" / "images.yaml") in message
    assert "'web'" in message
    assert "'src/missing.py'" in message
    assert "does not exist" in message


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    root = write_repo(tmp_path, BASE + "images:\n  web: {copy: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_manifest(root)
    message = str(err.value)
    assert str(root / "docker" / "images.yaml") in message
    assert "cannot read image manifest" in message


def test_missing_manifest_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_manifest(tmp_path)
    assert str(tmp_path / "docker" / "images.yaml") in str(err.value)


@pytest.mark.parametrize("text", ["images: {}\n", BASE, "just a string\n", "- a\n- b\n"])
def test_missing_top_level_keys(tmp_path: Path, text: str) -> None:
    root = write_repo(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_manifest(root)
    assert str(root / "docker" / "images.yaml") in str(err.value)
    assert "'base' and 'images'" in str(err.value)


@pytest.mark.parametrize("missing", ["suite", "variant", "mirror"])
def test_base_missing_a_field(tmp_path: Path, missing: str) -> None:
    fields = {"suite": "bookworm", "variant": "minbase", "mirror": "http://m"}
    del fields[missing]
    base = "base:\n" + "".join(f"  {k}: {v}\n" for k, v in fields.items())
    root = write_repo(tmp_path, base + "images:\n  web: {}\n")
    with pytest.raises(ConfigError) as err:
        load_manifest(root)
    message = str(err.value)
    assert str(root / "docker" / "images.yaml") in message
    assert "base needs suite, variant and mirror" in message
    assert missing in message


# Shapes YAML accepts but the manifest does not: each must be a ConfigError naming the manifest
# (not an AttributeError, and not a silently mangled spec such as a string split into characters).
MALFORMED = {
    "image entry is a list": BASE + "images:\n  web: [copy]\n",
    "images is a list": BASE + "images:\n  - web\n",
    "copy is a list": BASE + "images:\n  web:\n    copy: [docker/web/Dockerfile]\n",
    "wheels is a string": BASE + "images:\n  web:\n    wheels: PyYAML==6.0.3\n",
    "base.include is a string": "base: {suite: bookworm, variant: minbase, mirror: http://m, include: curl}\n"
    "images:\n  web: {}\n",
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_shapes_are_config_errors(tmp_path: Path, text: str) -> None:
    root = write_repo(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_manifest(root)
    assert str(root / "docker" / "images.yaml") in str(err.value)


def test_real_manifest_loads() -> None:
    manifest = load_manifest(REPO)
    names = [i.name for i in manifest.images]
    assert set(names) == {
        "github",
        "runner",
        "prometheus",
        "alertmanager",
        "prodhost",
        "proddb",
        "prodcache",
        "prodlb",
        "artifacts",
    }
    assert manifest.base.suite == "bookworm"
    assert "python3" in manifest.base.include
    for spec in manifest.images:
        assert (spec.context / "Dockerfile").is_file()
        for src in spec.copy:
            assert (REPO / src).exists(), src
    # the exporter is the pipeline's (system under test): it is copied in at start, never baked in
    assert not any(src.startswith("pipeline/") for spec in manifest.images for src in spec.copy)
    assert manifest.image("github").wheels == ("PyYAML==6.0.3",)

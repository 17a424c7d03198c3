"""docker/artifacts/bundles.py: a release bundle has exactly the contract's files and SQL."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

from harness.faults.migration_fails import FAULT_MARKER, up_sql_of


def unpacked(bundles: ModuleType, version: str, tmp_path: Path, **kwargs: bool) -> Path:
    data = bundles.make_bundle(version, **kwargs)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / version


def test_a_bundle_unpacks_to_the_version_folder_with_every_file(bundles: ModuleType, tmp_path: Path) -> None:
    release = unpacked(bundles, "1.1.0", tmp_path)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        "1.1.0/backend/VERSION",
        "1.1.0/frontend/index.html",
        "1.1.0/frontend/version.json",
        "1.1.0/manifest.json",
        "1.1.0/migrations/down.sql",
        "1.1.0/migrations/up.sql",
    ]
    assert json.loads((release / "manifest.json").read_text()) == {
        "version": "1.1.0",
        "components": ["backend", "frontend", "schema"],
    }
    assert (release / "backend" / "VERSION").read_text() == "1.1.0\n"
    assert '<meta name="app-version" content="1.1.0">' in (release / "frontend" / "index.html").read_text()
    assert json.loads((release / "frontend" / "version.json").read_text()) == {"version": "1.1.0"}


def test_members_are_world_readable_and_folders_traversable(bundles: ModuleType) -> None:
    """nginx (www-data) serves the frontend the deploy user unpacked."""
    with tarfile.open(fileobj=io.BytesIO(bundles.make_bundle("2.0.0")), mode="r:gz") as tar:
        modes = {m.name: (m.isdir(), m.mode) for m in tar.getmembers()}
    assert modes["2.0.0"] == (True, 0o755) and modes["2.0.0/frontend"] == (True, 0o755)
    assert all(mode == 0o644 for is_dir, mode in modes.values() if not is_dir)


def test_the_migrations_create_and_drop_the_release_table_and_move_schema_state(bundles: ModuleType) -> None:
    up = bundles.up_sql("2.0.0-rc.1")
    statements = [line for line in up.splitlines() if not line.startswith("--")]
    assert statements == [
        "CREATE TABLE IF NOT EXISTS release_2_0_0_rc_1 "
        "(id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());",
        "UPDATE schema_state SET release = '2.0.0-rc.1';",
    ]
    down = [line for line in bundles.down_sql("2.0.0-rc.1").splitlines() if not line.startswith("--")]
    assert down == ["DROP TABLE IF EXISTS release_2_0_0_rc_1;", "UPDATE schema_state SET release = :'previous';"]
    assert "BEGIN" not in up.upper().replace("BEGIN RAISE", "")  # psql -1 makes the transaction, not the file


def test_a_failing_migration_raises_after_its_first_statement(bundles: ModuleType) -> None:
    statements = [s for s in bundles.up_sql("2.0.0", migration_fails=True).splitlines() if not s.startswith("--")]
    assert statements[0].startswith("CREATE TABLE IF NOT EXISTS release_2_0_0 ")
    assert statements[1].startswith("DO $$ BEGIN RAISE EXCEPTION ") and FAULT_MARKER in statements[1]
    assert statements[2] == "UPDATE schema_state SET release = '2.0.0';"
    # the harness proves the fault from a downloaded bundle with its own copy of the marker
    assert bundles.FAULT_MARKER == FAULT_MARKER
    assert FAULT_MARKER in up_sql_of(bundles.make_bundle("2.0.0", migration_fails=True))
    assert FAULT_MARKER not in up_sql_of(bundles.make_bundle("2.0.0"))


def test_bundles_are_reproducible(bundles: ModuleType) -> None:
    assert bundles.make_bundle("3.1.4") == bundles.make_bundle("3.1.4")
    assert bundles.make_bundle("3.1.4") != bundles.make_bundle("3.1.4", migration_fails=True)


@pytest.mark.parametrize("version", ["", "../etc", "1.0/2", "1.0.0'; DROP TABLE x; --", "-1", "a..b", "x" * 56, "é"])
def test_versions_that_cannot_name_a_release_are_refused(bundles: ModuleType, version: str) -> None:
    with pytest.raises(bundles.BadVersion, match="bad release version"):
        bundles.make_bundle(version)


def test_unpack_installs_a_release_folder(bundles: ModuleType, tmp_path: Path) -> None:
    """What the prodhost image runs at build time to install 1.0.0."""
    assert bundles.unpack(bundles.make_bundle("1.0.0"), tmp_path) == tmp_path / "1.0.0"
    assert (tmp_path / "1.0.0" / "backend" / "VERSION").read_text() == "1.0.0\n"


def test_the_command_line_prints_a_migration(bundles: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert bundles._main(["sql", "up", "1.0.0"]) == 0
    assert capsys.readouterr().out == bundles.up_sql("1.0.0")

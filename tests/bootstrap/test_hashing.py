"""harness.bootstrap.hashing: content hashes of image inputs are deterministic and sensitive to what matters."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.bootstrap.hashing import hash_strings, hash_tree, iter_files


def make_tree(root: Path) -> Path:
    """A small source tree: two files in a folder, one of them executable."""
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("print('a')\n")
    (root / "pkg" / "run.sh").write_text("#!/bin/sh\necho run\n")
    (root / "pkg" / "run.sh").chmod(0o755)
    (root / "pkg" / "a.py").chmod(0o644)
    (root / "single.txt").write_text("single file\n")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "src")


def entries_of(tree: Path) -> list[tuple[str, Path]]:
    return [("app", tree / "pkg"), ("etc/single.txt", tree / "single.txt")]


def test_same_inputs_give_the_same_hash(tree: Path) -> None:
    first = hash_tree(entries_of(tree), extra=["base=x"])
    second = hash_tree(entries_of(tree), extra=["base=x"])
    assert first == second
    assert len(first) == 64
    assert all(c in "0123456789abcdef" for c in first)


def test_hash_does_not_depend_on_where_the_tree_lives(tree: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "src"
    shutil.copytree(tree, copy)
    assert hash_tree(entries_of(copy)) == hash_tree(entries_of(tree))


def test_content_change_changes_hash(tree: Path) -> None:
    before = hash_tree(entries_of(tree))
    (tree / "pkg" / "a.py").write_text("print('b')\n")
    assert hash_tree(entries_of(tree)) != before


def test_single_byte_change_in_a_file_entry_changes_hash(tree: Path) -> None:
    before = hash_tree(entries_of(tree))
    (tree / "single.txt").write_text("single file!\n")
    assert hash_tree(entries_of(tree)) != before


def test_rename_of_a_file_changes_hash(tree: Path) -> None:
    before = hash_tree(entries_of(tree))
    (tree / "pkg" / "a.py").rename(tree / "pkg" / "b.py")
    assert hash_tree(entries_of(tree)) != before


def test_renaming_the_destination_changes_hash(tree: Path) -> None:
    before = hash_tree(entries_of(tree))
    renamed = [("application", tree / "pkg"), ("etc/single.txt", tree / "single.txt")]
    assert hash_tree(renamed) != before


def test_exec_bit_change_changes_hash(tree: Path) -> None:
    before = hash_tree(entries_of(tree))
    (tree / "pkg" / "a.py").chmod(0o755)
    after = hash_tree(entries_of(tree))
    assert after != before
    (tree / "pkg" / "a.py").chmod(0o644)
    assert hash_tree(entries_of(tree)) == before


def test_non_exec_mode_change_does_not_change_hash(tree: Path) -> None:
    before = hash_tree(entries_of(tree))
    (tree / "pkg" / "a.py").chmod(0o600)
    assert hash_tree(entries_of(tree)) == before


def test_extra_string_change_changes_hash(tree: Path) -> None:
    base = hash_tree(entries_of(tree), extra=["base=dch/base:1"])
    assert hash_tree(entries_of(tree), extra=["base=dch/base:2"]) != base
    assert hash_tree(entries_of(tree), extra=[]) != base
    assert hash_tree(entries_of(tree), extra=["base=dch/base:1", "wheel=x"]) != base


def test_pycache_and_bytecode_are_ignored(tree: Path) -> None:
    before = hash_tree(entries_of(tree))
    cache = tree / "pkg" / "__pycache__"
    cache.mkdir()
    (cache / "a.cpython-311.pyc").write_bytes(b"\x00bytecode")
    (tree / "pkg" / "stray.pyc").write_bytes(b"\x00more bytecode")
    (tree / "pkg" / "stray.pyo").write_bytes(b"\x00optimised")
    (tree / "pkg" / ".pytest_cache").mkdir()
    (tree / "pkg" / ".pytest_cache" / "v").write_text("cache")
    (tree / "pkg" / ".ruff_cache").mkdir()
    (tree / "pkg" / ".ruff_cache" / "x").write_text("cache")
    assert hash_tree(entries_of(tree)) == before


def test_a_real_new_file_is_not_ignored(tree: Path) -> None:
    before = hash_tree(entries_of(tree))
    (tree / "pkg" / "new.py").write_text("")
    assert hash_tree(entries_of(tree)) != before


def test_entry_order_does_not_matter(tree: Path) -> None:
    forward = entries_of(tree)
    assert hash_tree(list(reversed(forward))) == hash_tree(forward)


def test_iter_files_is_sorted_and_skips_caches(tree: Path) -> None:
    (tree / "pkg" / "__pycache__").mkdir()
    (tree / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"x")
    (tree / "pkg" / "sub").mkdir()
    (tree / "pkg" / "sub" / "z.txt").write_text("z")
    (tree / "pkg" / "m.pyc").write_bytes(b"x")
    files = [p.relative_to(tree / "pkg").as_posix() for p in iter_files(tree / "pkg")]
    assert files == ["a.py", "run.sh", "sub/z.txt"]


def test_iter_files_of_a_file_yields_the_file(tree: Path) -> None:
    assert list(iter_files(tree / "single.txt")) == [tree / "single.txt"]


def test_hash_strings_is_deterministic_and_order_sensitive() -> None:
    assert hash_strings("a", "b") == hash_strings("a", "b")
    assert hash_strings("a", "b") != hash_strings("b", "a")
    # item boundaries matter: ("ab",) is not ("a", "b")
    assert hash_strings("ab") != hash_strings("a", "b")

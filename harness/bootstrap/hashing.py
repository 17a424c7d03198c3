"""Content hashes of image inputs: the same inputs always give the same tag."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}


def iter_files(path: Path) -> Iterator[Path]:
    """Files under `path` (or `path` itself), sorted, skipping caches and bytecode."""
    if path.is_file():
        yield path
        return
    for item in sorted(path.rglob("*")):
        if item.is_file() and not (set(item.relative_to(path).parts) & IGNORED_PARTS):
            if item.suffix not in IGNORED_SUFFIXES:
                yield item


def hash_tree(entries: Iterable[tuple[str, Path]], extra: Iterable[str] = ()) -> str:
    """Hash (destination name, source path) pairs by name, exec bit and content, plus `extra` strings."""
    digest = hashlib.sha256()
    for dest, src in sorted(entries, key=lambda e: e[0]):
        for file in iter_files(src):
            rel = dest if src.is_file() else f"{dest}/{file.relative_to(src).as_posix()}"
            executable = "x" if file.stat().st_mode & 0o111 else "-"
            digest.update(f"{rel}\0{executable}\0".encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    for item in extra:
        digest.update(f"extra\0{item}\0".encode())
    return digest.hexdigest()


def hash_strings(*items: str) -> str:
    """Hash a sequence of strings (order matters)."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.encode() + b"\0")
    return digest.hexdigest()

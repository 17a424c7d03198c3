"""A pipeline source (reference, or a variant laid over it) copied to one folder the tools can read.

A variant's files live in two folders (the reference and the overlay); the tools need one repository.
Findings are reported against the file a person edits: the variant's own file when it has one.
"""

from __future__ import annotations

import fnmatch
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.core.pipeline_source import PipelineSource
from harness.lint.findings import Finding


def display_path(path: Path) -> str:
    """`path` relative to the current folder when it is inside it, else absolute."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass(frozen=True)
class LintTree:
    """The copy at `root` of a pipeline; `origin` maps each repository-relative path to its source file.

    `scratch` is a private folder beside the copy for the tools' own files (removed with it).
    """

    root: Path
    origin: dict[str, Path]
    scratch: Path

    def matching(self, *patterns: str) -> list[str]:
        """Repository-relative paths matching any of the glob `patterns` (`*` stays within a folder)."""
        return sorted(rel for rel in self.origin if any(_match(rel, p) for p in patterns))

    def shown(self, rel: str) -> str:
        """How a finding names repository file `rel`: the file it came from, or `rel` if unknown."""
        rel = rel.removeprefix("./")
        origin = self.origin.get(rel)
        return display_path(origin) if origin else rel

    def relative(self, path: str) -> str:
        """A path a tool printed (absolute in the copy, or relative to it) as a repository-relative path."""
        prefix = f"{self.root.as_posix()}/"
        return path.removeprefix(prefix).removeprefix("./")

    def scrub(self, text: str) -> str:
        """A tool's message with the copy's folder taken out of the paths it names."""
        return text.replace(f"{self.root.as_posix()}/", "")

    def finding(self, tool: str, path: str, line: int, col: int, message: str) -> Finding:
        """A finding of `tool` in the file a tool printed as `path` (line/column at least 1)."""
        return Finding(self.shown(self.relative(path)), max(line, 1), max(col, 1), tool, self.scrub(message))


def _match(rel: str, pattern: str) -> bool:
    parts, wanted = rel.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True))


@contextmanager
def materialise(source: PipelineSource) -> Iterator[LintTree]:
    """Copy `source`'s files into a private temporary folder for the time of the block."""
    with tempfile.TemporaryDirectory(prefix="dch-lint-") as folder:
        root, scratch = Path(folder).resolve() / "repo", Path(folder).resolve() / "scratch"
        root.mkdir()
        scratch.mkdir()
        origin = source.files()
        for rel, path in origin.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        yield LintTree(root, origin, scratch)

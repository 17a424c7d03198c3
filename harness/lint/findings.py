"""One lint finding, normalised whatever tool made it: `path:line:col: tool: message`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines included) made one space."""
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True, order=True)
class Finding:
    """A problem a tool found in a file of the pipeline, at a 1-based line and column."""

    path: str
    line: int
    col: int
    tool: str
    message: str

    def render(self) -> str:
        """The finding as one line, as compilers and editors print them."""
        return f"{self.path}:{self.line}:{self.col}: {self.tool}: {one_line(self.message)}"

"""The pipeline under test: the reference pipeline, optionally overlaid by a broken variant."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.core.errors import ConfigError

VARIANTS_DIR = "variants"
DEPLOY_STEPS = "ansible/steps.yml"
EXCLUDED_PARTS = {"__pycache__"}


def _included(rel: Path) -> bool:
    return not (set(rel.parts) & EXCLUDED_PARTS) and rel.suffix not in (".pyc", ".pyo")


@dataclass(frozen=True)
class PipelineSource:
    """Files of the pipeline repository: `root` with variant `variant` laid over it."""

    root: Path
    variant: str | None = None

    def __post_init__(self) -> None:
        if not (self.root / ".github" / "workflows").is_dir():
            raise ConfigError(f"{self.root} is not a pipeline repository: it has no .github/workflows folder")
        if self.variant and not self.variant_dir.is_dir():
            known = (
                sorted(p.name for p in (self.root / VARIANTS_DIR).iterdir() if p.is_dir())
                if (self.root / VARIANTS_DIR).is_dir()
                else []
            )
            raise ConfigError(
                f"unknown pipeline variant {self.variant!r}: no folder {self.variant_dir}. "
                f"Known variants: {', '.join(known) or 'none'}."
            )

    @property
    def variant_dir(self) -> Path:
        """Folder of the overlay files of the variant."""
        return self.root / VARIANTS_DIR / (self.variant or "")

    @property
    def label(self) -> str:
        """Human name: 'reference' or 'variant <name>'."""
        return f"variant {self.variant}" if self.variant else "reference"

    def files(self) -> dict[str, Path]:
        """Repository-relative path -> file on disk, the variant's files winning."""
        result: dict[str, Path] = {}
        for path in sorted(self.root.rglob("*")):
            rel = path.relative_to(self.root)
            if path.is_file() and rel.parts[0] != VARIANTS_DIR and _included(rel):
                result[rel.as_posix()] = path
        if self.variant:
            for path in sorted(self.variant_dir.rglob("*")):
                rel = path.relative_to(self.variant_dir)
                if path.is_file() and _included(rel):
                    result[rel.as_posix()] = path
        return result

    def tarball(self) -> bytes:
        """The repository as a tar.gz, as GitHub serves it (one top-level folder)."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for rel, path in self.files().items():
                info = tar.gettarinfo(str(path), arcname=f"repo/{rel}")
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
        return buffer.getvalue()

    def deploy_steps(self, path: str = DEPLOY_STEPS) -> list[str]:
        """The pipeline's deploy steps in order, as it declares them (a YAML list of names, or of {name: ...}).

        Scenarios that interrupt a deploy at each step take the list from here, never hard-coded.
        """
        file = self.files().get(path)
        if file is None:
            raise ConfigError(
                f"the pipeline under test ({self.root}, {self.label}) declares no deploy steps: no {path}. "
                "Fix: list the deploy's steps there in order, one name each, as the deploy logs them (DCH-STEP <name>)."
            )
        try:
            data = yaml.safe_load(file.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
        if isinstance(data, dict):
            data = data.get("steps")
        names = [item.get("name") if isinstance(item, dict) else item for item in data or []]
        if not names or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
            raise ConfigError(f"{file}: expected a list of distinct step names (or {{name: ...}}), got {data!r}")
        return names

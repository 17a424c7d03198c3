"""One place to read settings: environment variable first, then default."""

from __future__ import annotations

import os
from pathlib import Path

PREFIX = "DCH_"


def setting(name: str, default: str | None = None) -> str | None:
    """Return setting `name` from the environment (``DCH_<NAME>``) or `default`."""
    return os.environ.get(PREFIX + name.upper(), default)


def project_root() -> Path:
    """The checkout this harness runs from (holds docker/, pipeline/, features/)."""
    configured = setting("project_root")
    if configured:
        return Path(configured).resolve()
    return Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """Where downloaded and built artefacts are cached between runs."""
    path = Path(setting("cache_dir") or Path.home() / ".cache" / "deploy-chaos")
    path.mkdir(parents=True, exist_ok=True)
    return path


def reports_dir() -> Path:
    """Output folder for Allure results, HTML reports and journals."""
    path = Path(setting("reports_dir") or project_root() / "reports")
    path.mkdir(parents=True, exist_ok=True)
    return path

"""Host-side wheelhouse: Python packages enter images as wheels, never via pip in a build."""

from __future__ import annotations

import fcntl
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from harness.bootstrap.hashing import hash_strings
from harness.core.errors import ImageBuildFailed

IMAGE_PYTHON = "3.11"  # Debian bookworm's python3


def wheel_platforms() -> list[str]:
    """pip --platform tags matching this machine's architecture."""
    arch = platform.machine()
    return [f"manylinux2014_{arch}", f"manylinux_2_28_{arch}", f"manylinux_2_17_{arch}", "any"]


def fetch_wheels(requirements: tuple[str, ...], cache: Path) -> Path:
    """Download binary wheels for `requirements` once into a cache folder and return it."""
    folder = cache / "wheelhouse" / hash_strings(IMAGE_PYTHON, platform.machine(), *sorted(requirements))[:16]
    marker = folder / ".complete"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # images sharing requirements download them once
        if marker.exists():
            return folder
        _download(requirements, folder)
    return folder


def _download(requirements: tuple[str, ...], folder: Path) -> None:
    tmp = folder.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--only-binary=:all:",
        "--dest",
        str(tmp),
        "--python-version",
        IMAGE_PYTHON,
        "--implementation",
        "cp",
    ]
    for tag in wheel_platforms():
        cmd += ["--platform", tag]
    proc = subprocess.run([*cmd, *requirements], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ImageBuildFailed(
            f"Downloading wheels {list(requirements)} for the images failed: {proc.stderr.strip()[-500:]}. "
            "Images get Python packages only from this host-side wheelhouse (pip cannot reach PyPI inside a "
            "build). Fix: make PyPI reachable from this host (or set PIP_INDEX_URL to a mirror), then re-run "
            "`deploy-chaos setup`."
        )
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    (folder / ".complete").touch()

"""The Debian base image: debootstrap + `docker import`, or a registry image when configured."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound

from harness.bootstrap.hashing import hash_strings
from harness.bootstrap.manifest import BaseSpec
from harness.bootstrap.progress import Progress
from harness.core.errors import ImageBuildFailed
from harness.core.settings import setting

REPOSITORY = "dch/base"
IMPORT_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
]


def base_tag(spec: BaseSpec) -> str:
    """The content-hash tag of the base image `spec` describes."""
    configured = setting("base_image")
    if configured:
        return configured
    key = hash_strings(spec.suite, spec.variant, spec.mirror, *sorted(spec.include), *IMPORT_CHANGES)
    return f"{REPOSITORY}:{key[:12]}"


def _image_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except ImageNotFound:
        return False


def _ensure_debootstrap(progress: Progress) -> None:
    if shutil.which("debootstrap"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ImageBuildFailed(
            "Building the base image needs debootstrap, which is not installed, and only root on Debian can "
            "install it here. Fix: `apt-get install debootstrap`, or set DCH_BASE_IMAGE to a Debian bookworm "
            "image from a registry you can pull from."
        )
    with progress.step("install debootstrap") as rec:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        proc = subprocess.run(
            ["apt-get", "install", "-y", "-q", "debootstrap"], capture_output=True, text=True, env=env
        )
        if proc.returncode != 0:  # stale package lists: refresh once and retry
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, text=True, env=env)
            proc = subprocess.run(
                ["apt-get", "install", "-y", "-q", "debootstrap"], capture_output=True, text=True, env=env
            )
        if proc.returncode != 0:
            raise ImageBuildFailed(f"`apt-get install debootstrap` failed: {proc.stderr.strip()[-400:]}")
        rec.detail = "installed"


def ensure_base_image(client: docker.DockerClient, spec: BaseSpec, progress: Progress, rebuild: bool = False) -> str:
    """Return the base image tag, building (or pulling) it only if it is missing."""
    tag = base_tag(spec)
    with progress.step("base image") as rec:
        if _image_exists(client, tag) and not rebuild:
            rec.detail = f"{tag} cached"
            return tag
        if setting("base_image"):
            try:
                client.images.pull(tag)
            except DockerException as exc:
                raise ImageBuildFailed(
                    f"Pulling the configured base image DCH_BASE_IMAGE={tag!r} failed: {exc}. Fix: check the "
                    "registry is reachable and the name is right, or unset DCH_BASE_IMAGE to build one with "
                    "debootstrap."
                ) from exc
            rec.detail = f"pulled {tag}"
            return tag
        _ensure_debootstrap(progress)
        progress.info(f"building {tag} with debootstrap {spec.suite} from {spec.mirror} (about a minute)")
        with tempfile.TemporaryDirectory(prefix="dch-base-") as tmp:
            root = Path(tmp) / "root"
            cmd = ["debootstrap", f"--variant={spec.variant}"]
            if spec.include:
                cmd.append("--include=" + ",".join(spec.include))
            cmd += [spec.suite, str(root), spec.mirror]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise ImageBuildFailed(
                    f"debootstrap of the base image failed (exit {proc.returncode}): "
                    f"{(proc.stdout + proc.stderr).strip()[-600:]}. Fix: check that {spec.mirror} is reachable "
                    "and the package names under base.include in docker/images.yaml exist in "
                    f"{spec.suite}; or set DCH_BASE_IMAGE to a registry image."
                )
            (root / "var/lib/apt/lists").mkdir(parents=True, exist_ok=True)
            tarball = Path(tmp) / "rootfs.tar"
            subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True)
            repo, _, version = tag.partition(":")
            try:
                client.api.import_image(src=str(tarball), repository=repo, tag=version, changes=IMPORT_CHANGES)
            except DockerException as exc:
                raise ImageBuildFailed(f"`docker import` of the debootstrapped base image failed: {exc}") from exc
        rec.detail = f"built {tag} with debootstrap {spec.suite}/{spec.variant}"
        return tag

"""Build the harness's images FROM the base image, tagged by content hash."""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import APIError, BuildError, DockerException, ImageNotFound

from harness.bootstrap.base_image import ensure_base_image
from harness.bootstrap.hashing import hash_tree
from harness.bootstrap.manifest import ImageSpec, Manifest, load_manifest
from harness.bootstrap.progress import Progress
from harness.bootstrap.wheelhouse import IMAGE_PYTHON, fetch_wheels
from harness.core.errors import ImageBuildFailed
from harness.core.settings import cache_dir, project_root

REPOSITORY_PREFIX = "dch/"
LABEL_IMAGE = "dch.image"
LABEL_HASH = "dch.content-hash"


@dataclass(frozen=True)
class BuiltImage:
    """An image ready to run and whether it was built now or found cached."""

    name: str
    tag: str
    built: bool


def image_tag(spec: ImageSpec, base: str, root: Path) -> str:
    """The content-hash tag of `spec`: its context, copied sources, wheel pins and base."""
    entries = [(".", spec.context)] + [(dest, root / src) for src, dest in spec.copy.items()]
    extra = [f"base={base}", f"python={IMAGE_PYTHON}", *(f"wheel={w}" for w in sorted(spec.wheels))]
    return f"{REPOSITORY_PREFIX}{spec.name}:{hash_tree(entries, extra)[:12]}"


def image_tags(root: Path | None = None) -> dict[str, str]:
    """Tags of every image for the current checkout (no Docker needed)."""
    from harness.bootstrap.base_image import base_tag

    root = root or project_root()
    manifest = load_manifest(root)
    base = base_tag(manifest.base)
    return {spec.name: image_tag(spec, base, root) for spec in manifest.images}


def _stage_context(spec: ImageSpec, root: Path, into: Path) -> None:
    shutil.copytree(spec.context, into, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for src, dest in spec.copy.items():
        source, target = root / src, into / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)
    wheels = into / "wheels"
    wheels.mkdir(exist_ok=True)
    if spec.wheels:
        for wheel in fetch_wheels(spec.wheels, cache_dir()).glob("*.whl"):
            shutil.copy2(wheel, wheels)
        (wheels / "requirements.txt").write_text("\n".join(spec.wheels) + "\n")


def _build_one(client: docker.DockerClient, spec: ImageSpec, base: str, root: Path, rebuild: bool) -> BuiltImage:
    tag = image_tag(spec, base, root)
    if not rebuild:
        try:
            client.images.get(tag)
            return BuiltImage(spec.name, tag, built=False)
        except ImageNotFound:
            pass
    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix=f"dch-ctx-{spec.name}-") as tmp:
        _stage_context(spec, root, Path(tmp))
        try:
            for chunk in client.api.build(
                path=tmp,
                tag=tag,
                buildargs={"BASE_IMAGE": base},
                rm=True,
                forcerm=True,
                decode=True,
                labels={LABEL_IMAGE: spec.name, LABEL_HASH: tag.split(":")[1]},
            ):
                if "stream" in chunk:
                    log.append(chunk["stream"])
                if "error" in chunk:
                    raise BuildError(chunk["error"], log)
        except (BuildError, APIError, DockerException) as exc:
            tail = "".join(log)[-1200:]
            raise ImageBuildFailed(
                f"Building image {spec.name!r} from {spec.context / 'Dockerfile'} failed: {exc}. "
                f"Last build output: {tail!r}. Fix: correct that Dockerfile (only the legacy builder "
                "works here: no RUN --mount, no heredocs; packages come from apt or the wheelhouse), "
                "then re-run `deploy-chaos setup`."
            ) from exc
    return BuiltImage(spec.name, tag, built=True)


def build_images(
    client: docker.DockerClient,
    progress: Progress,
    rebuild: bool = False,
    root: Path | None = None,
    manifest: Manifest | None = None,
) -> dict[str, BuiltImage]:
    """Ensure the base image and every image in the manifest exist; build missing ones in parallel."""
    root = root or project_root()
    manifest = manifest or load_manifest(root)
    base = ensure_base_image(client, manifest.base, progress, rebuild=False)
    results: dict[str, BuiltImage] = {}
    with progress.step("images") as rec:
        progress.info(f"checking {len(manifest.images)} images by content hash; missing ones are built in parallel")
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {
                spec.name: pool.submit(_build_one, client, spec, base, root, rebuild) for spec in manifest.images
            }
            errors = []
            for name, future in futures.items():
                try:
                    results[name] = future.result()
                except ImageBuildFailed as exc:
                    errors.append(exc)
            if errors:
                raise errors[0]
        built = [r.name for r in results.values() if r.built]
        cached = [r.name for r in results.values() if not r.built]
        rec.detail = f"built {built or 'none'}, cached {cached or 'none'}"
    return results

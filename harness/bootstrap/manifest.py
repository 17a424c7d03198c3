"""Read and validate docker/images.yaml: what images exist and what goes into each."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.core.errors import ConfigError


@dataclass(frozen=True)
class BaseSpec:
    """How to make the Debian base image with debootstrap."""

    suite: str
    variant: str
    mirror: str
    include: tuple[str, ...]


@dataclass(frozen=True)
class ImageSpec:
    """One image: its build context folder, extra files copied in, and wheels it needs."""

    name: str
    context: Path
    copy: dict[str, str] = field(default_factory=dict)
    wheels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    """The whole image manifest."""

    base: BaseSpec
    images: tuple[ImageSpec, ...]

    def image(self, name: str) -> ImageSpec:
        """Return the spec of image `name`."""
        for spec in self.images:
            if spec.name == name:
                return spec
        raise ConfigError(f"no image named {name!r} in the image manifest; known: {[i.name for i in self.images]}")


def load_manifest(root: Path) -> Manifest:
    """Load docker/images.yaml under `root`, with errors that say what and where."""
    path = root / "docker" / "images.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read image manifest {path}: {exc}") from exc
    if not isinstance(data, dict) or "base" not in data or "images" not in data:
        raise ConfigError(f"{path}: expected top-level keys 'base' and 'images'")
    b = data["base"]
    if not isinstance(b, dict):
        raise ConfigError(f"{path}: 'base' must be a mapping with suite, variant, mirror, include")
    try:
        base = BaseSpec(
            str(b["suite"]),
            str(b["variant"]),
            str(b["mirror"]),
            _string_list(b.get("include", []), f"{path}: base.include"),
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: base needs suite, variant and mirror ({exc})") from exc
    if not isinstance(data["images"] or {}, dict):
        raise ConfigError(f"{path}: 'images' must be a mapping of image name to its settings")
    images = []
    for name, spec in (data["images"] or {}).items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}: image {name!r} must be a mapping (keys: copy, wheels), got {spec!r}")
        unknown = set(spec) - {"copy", "wheels"}
        if unknown:
            raise ConfigError(f"{path}: image {name!r} has unknown keys {sorted(unknown)}; allowed: copy, wheels")
        context = root / "docker" / name
        if not (context / "Dockerfile").is_file():
            raise ConfigError(f"{path}: image {name!r} has no Dockerfile at {context / 'Dockerfile'}")
        if not isinstance(spec.get("copy") or {}, dict):
            raise ConfigError(f"{path}: image {name!r}: 'copy' must map source paths to destinations")
        copy = {str(k): str(v) for k, v in (spec.get("copy") or {}).items()}
        for src in copy:
            if not (root / src).exists():
                raise ConfigError(f"{path}: image {name!r} copies {src!r}, which does not exist under {root}")
        wheels = _string_list(spec.get("wheels") or [], f"{path}: image {name!r} wheels")
        images.append(ImageSpec(name, context, copy, wheels))
    return Manifest(base, tuple(images))


def _string_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    return tuple(value)

"""Image build failures give one paragraph naming the image, the Dockerfile, the cause and the fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docker.errors import ImageNotFound

from harness.bootstrap.images import _build_one
from harness.bootstrap.manifest import ImageSpec
from harness.core.errors import ImageBuildFailed


class FakeImages:
    """images.get: nothing exists, so every image must be built."""

    def get(self, tag: str) -> None:
        raise ImageNotFound(tag)


class FakeApi:
    """api.build streams the given chunks and records the call."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        self.chunks = chunks
        self.calls: list[dict[str, Any]] = []

    def build(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(kwargs)
        yield from self.chunks


class FakeClient:
    """The parts of docker.DockerClient the builder uses."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        self.images = FakeImages()
        self.api = FakeApi(chunks)


def make_spec(tmp_path: Path) -> ImageSpec:
    context = tmp_path / "docker" / "web"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN apt-get install -y no-such-package\n")
    return ImageSpec("web", context)


def test_build_error_is_one_paragraph_with_cause_and_fix(tmp_path: Path) -> None:
    client = FakeClient(
        [
            {"stream": "Step 1/3 : ARG BASE_IMAGE\n"},
            {"stream": "E: Unable to locate package no-such-package\n"},
            {"error": "The command '/bin/sh -c apt-get install -y no-such-package' returned 100"},
        ]
    )
    with pytest.raises(ImageBuildFailed) as caught:
        _build_one(client, make_spec(tmp_path), "dch/base:abc", tmp_path, rebuild=False)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    assert "'web'" in message
    assert str(tmp_path / "docker" / "web" / "Dockerfile") in message
    assert "returned 100" in message
    assert "Unable to locate package" in message  # the build output tail is part of the evidence
    assert "Fix:" in message


def test_successful_build_passes_base_and_labels(tmp_path: Path) -> None:
    client = FakeClient([{"stream": "Successfully built 123\n"}])
    built = _build_one(client, make_spec(tmp_path), "dch/base:abc", tmp_path, rebuild=False)  # type: ignore[arg-type]
    assert built.built is True
    call = client.api.calls[0]
    assert call["buildargs"] == {"BASE_IMAGE": "dch/base:abc"}
    assert call["tag"] == built.tag
    assert call["labels"]["dch.image"] == "web"
    assert call["forcerm"] is True

"""Repository tarballs: normalise uploads to GitHub's layout, find workflows, extract safely."""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import tarfile
from dataclasses import dataclass

_WORKFLOW_RE = re.compile(r"^\.github/workflows/[^/]+\.ya?ml$")


@dataclass(frozen=True)
class RepoArchive:
    """A stored repository: GitHub-style tarball (one top directory), its sha, its workflows."""

    tarball: bytes
    sha: str
    workflows: dict[str, str]  # path -> text


def _clean(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/")


def _open(data: bytes) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    except tarfile.TarError as exc:
        raise ValueError(f"not a tar(.gz) archive: {exc}") from exc


def _common_top(names: list[str]) -> str | None:
    """The single top-level directory every member lives under, unless it is the repo root."""
    tops = {name.split("/", 1)[0] for name in names if name}
    if len(tops) != 1:
        return None
    top = tops.pop()
    if top == ".github" or not any("/" in name for name in names):
        return None
    return top


def normalize_upload(owner: str, repo: str, data: bytes) -> RepoArchive:
    """Re-pack an uploaded tar(.gz) under `{owner}-{repo}-{sha7}/` like GitHub's tarball API.

    Accepts archives with or without a single top-level directory.
    Raises ValueError for unreadable archives.
    """
    sha = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    with _open(data) as source:
        members = [m for m in source.getmembers() if _clean(m.name)]
        names = [_clean(m.name) for m in members]
        strip = _common_top(names)
        prefix = f"{owner}-{repo}-{sha[:7]}"
        out = io.BytesIO()
        workflows: dict[str, str] = {}
        with tarfile.open(fileobj=out, mode="w:gz") as target:
            for member, name in zip(members, names, strict=True):
                rel = name.split("/", 1)[1] if strip and "/" in name else ("" if strip else name)
                if not rel or not (member.isfile() or member.isdir() or member.issym()):
                    continue
                clone = tarfile.TarInfo(f"{prefix}/{rel}")
                clone.mode, clone.mtime, clone.type = member.mode, member.mtime, member.type
                clone.linkname = member.linkname
                payload = None
                if member.isfile():
                    extracted = source.extractfile(member)
                    payload = extracted.read() if extracted else b""
                    clone.size = len(payload)
                    if _WORKFLOW_RE.match(rel):
                        workflows[rel] = payload.decode("utf-8", errors="replace")
                target.addfile(clone, io.BytesIO(payload) if payload is not None else None)
    return RepoArchive(tarball=out.getvalue(), sha=sha, workflows=workflows)


def _safe_relpath(name: str, strip_components: int) -> str | None:
    parts = [p for p in _clean(name).split("/") if p not in ("", ".")]
    parts = parts[strip_components:]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def safe_extract(data: bytes, dest: str, strip_components: int = 1) -> int:
    """Extract a tar(.gz) into `dest`, refusing paths or links that escape it. Returns file count."""
    root = os.path.realpath(dest)
    os.makedirs(root, exist_ok=True)
    count = 0
    with _open(data) as archive:
        for member in archive.getmembers():
            rel = _safe_relpath(member.name, strip_components)
            if rel is None:
                continue
            target = os.path.join(root, rel)
            parent = os.path.realpath(os.path.dirname(target))
            if os.path.commonpath([parent, root]) != root:
                raise ValueError(f"archive member escapes the destination: {member.name}")
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            elif member.issym():
                link = posixpath.normpath(posixpath.join(posixpath.dirname(rel), member.linkname))
                if member.linkname.startswith("/") or link.startswith(".."):
                    raise ValueError(f"archive symlink escapes the destination: {member.name}")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                if os.path.lexists(target):
                    os.remove(target)
                os.symlink(member.linkname, target)
            elif member.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                extracted = archive.extractfile(member)
                with open(target, "wb") as handle:
                    handle.write(extracted.read() if extracted else b"")
                os.chmod(target, member.mode & 0o777 or 0o644)
                count += 1
    return count


def make_tarball(files: dict[str, str | bytes], top: str | None = None) -> bytes:
    """Build a tar.gz from {path: content} (tests and harness helpers)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for path, content in sorted(files.items()):
            payload = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{top}/{path}" if top else path)
            info.size = len(payload)
            info.mode = 0o755 if path.endswith(".sh") else 0o644
            archive.addfile(info, io.BytesIO(payload))
    return out.getvalue()

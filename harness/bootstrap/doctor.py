"""`deploy-chaos doctor`: what this machine lacks for the harness, found without changing anything.

Every probe only reads: the engine is pinged and its image list and data root are read, files
under /proc and /sys are read, PATH is searched. Nothing is installed, started, built or
written (`deploy-chaos setup` is what fixes things). The checks are pure functions of a `Host`
(the probes), so tests pass a fake one.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

from docker.errors import DockerException
from requests import RequestException

from harness.bootstrap import engine

OK, WARN, FAIL = "ok", "warn", "fail"
GIB = 1024**3
DISK_WANT_BYTES = 10 * GIB  # below: a warning (images, journals and reports grow)
DISK_FAIL_BYTES = 2 * GIB  # below: an image build or a run is likely to run out
ENGINE_TIMEOUT_S = 15
DEFAULT_DOCKER_ROOT = "/var/lib/docker"
CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_V1 = ("cpu", "memory", "blkio", "pids")
CGROUP_V2 = ("cpu", "memory", "io", "pids")
SHAPING = (("NET_SCH_INGRESS", "ingress"), ("IFB", "ifb"), ("NET_CLS_U32", "u32"), ("NET_ACT_MIRRED", "mirred"))


@dataclass(frozen=True)
class Check:
    """One finding of doctor: a name, ok/warn/fail, what was seen and how to fix it."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        """`[ok  ] name: detail`, with `. Fix: ...` when something is missing."""
        fix = f". Fix: {self.fix}" if self.fix and self.status != OK else ""
        return f"[{self.status:<4}] {self.name}: {self.detail}{fix}"


@dataclass(frozen=True)
class EngineView:
    """What a read-only look at the engine showed: its version, data root and image tags."""

    version: str
    root_dir: str | None
    tags: frozenset[str]


class Host(Protocol):
    """The read-only probes the checks use."""

    @property
    def endpoint(self) -> str:
        """The engine endpoint the harness would use (DOCKER_HOST, else the default socket)."""

    @property
    def engine(self) -> EngineView | None:
        """The engine at `endpoint`, or None when none answers."""

    def socket_problem(self) -> str | None:
        """`detail. Fix: ...` when the default socket exists but this user may not use it."""

    def which(self, tool: str) -> str | None:
        """Path of `tool` (a name on PATH, or an absolute path) if it is executable."""

    def read_text(self, path: str) -> str | None:
        """Content of `path` (gunzipped for .gz), or None when it cannot be read."""

    def exists(self, path: str) -> bool:
        """Whether `path` exists."""

    def free_bytes(self, path: str) -> int | None:
        """Free bytes on the filesystem holding `path` (or its nearest existing parent)."""

    def euid(self) -> int:
        """This process's effective user id."""

    def kernel_release(self) -> str:
        """`uname -r`."""

    def expected_images(self) -> dict[str, str]:
        """Name -> content-hash tag of every image of this checkout, the base image included."""

    def project_root(self) -> str:
        """The checkout the harness runs from."""


class LocalHost:
    """The probes of this machine: read-only calls only."""

    @cached_property
    def endpoint(self) -> str:
        """DOCKER_HOST, else the default socket."""
        return os.environ.get("DOCKER_HOST") or f"unix://{engine.DEFAULT_SOCKET}"

    @cached_property
    def engine(self) -> EngineView | None:
        """Version, data root and image tags, read once (ping, info, image list)."""
        import docker

        try:
            client = docker.DockerClient(base_url=self.endpoint, timeout=ENGINE_TIMEOUT_S)
            try:
                version = str(client.version().get("Version", "?"))
                root = client.info().get("DockerRootDir")
                tags = frozenset(tag for image in client.images.list() for tag in image.tags)
            finally:
                client.close()
        except (DockerException, RequestException, OSError):
            return None
        return EngineView(version, str(root) if root else None, tags)

    def socket_problem(self) -> str | None:
        """The permission error of the default socket, when DOCKER_HOST does not replace it."""
        if os.environ.get("DOCKER_HOST") or not engine._socket_permission_problem(engine.DEFAULT_SOCKET):
            return None
        return str(engine.permission_error(engine.DEFAULT_SOCKET))

    def which(self, tool: str) -> str | None:
        """shutil.which, which also accepts an absolute path."""
        return shutil.which(tool)

    def read_text(self, path: str) -> str | None:
        """The file's text, or None."""
        try:
            if path.endswith(".gz"):
                with gzip.open(path, "rt", errors="replace") as f:
                    return f.read()
            return Path(path).read_text(errors="replace")
        except (OSError, EOFError):
            return None

    def exists(self, path: str) -> bool:
        """Path.exists."""
        return Path(path).exists()

    def free_bytes(self, path: str) -> int | None:
        """shutil.disk_usage of the nearest existing folder."""
        for folder in (Path(path), *Path(path).parents):
            if folder.exists():
                try:
                    return shutil.disk_usage(folder).free
                except OSError:
                    return None
        return None

    def euid(self) -> int:
        """os.geteuid."""
        return os.geteuid()

    def kernel_release(self) -> str:
        """os.uname().release."""
        return os.uname().release

    def expected_images(self) -> dict[str, str]:
        """The base tag and image_tags() of this checkout (hashes files, no Docker)."""
        from harness.bootstrap.base_image import base_tag
        from harness.bootstrap.images import image_tags
        from harness.bootstrap.manifest import load_manifest
        from harness.core.settings import project_root

        return {"base": base_tag(load_manifest(project_root()).base), **image_tags()}

    def project_root(self) -> str:
        """harness.core.settings.project_root."""
        from harness.core.settings import project_root

        return str(project_root())


def check_engine(host: Host) -> Check:
    """Required: an engine answers (pinged, never started or installed)."""
    name = "Docker engine"
    problem = host.socket_problem()
    if problem:
        detail, _, fix = problem.partition(" Fix: ")
        return Check(name, FAIL, detail.rstrip("."), fix)
    view = host.engine
    if view is not None:
        return Check(name, OK, f"engine {view.version} answers at {host.endpoint}")
    if not host.endpoint.startswith(f"unix://{engine.DEFAULT_SOCKET}"):
        return Check(
            name, FAIL, f"nothing answers at DOCKER_HOST={host.endpoint}", "start that engine, or unset DOCKER_HOST"
        )
    installed = "dockerd is installed but not running" if host.which("dockerd") else "no dockerd is installed"
    return Check(
        name,
        FAIL,
        f"nothing answers at {host.endpoint} ({installed})",
        "run `deploy-chaos setup` (starts dockerd, or installs docker.io on Debian as root), "
        "or set DOCKER_HOST to a running engine",
    )


def check_images(host: Host) -> Check:
    """The base image and every harness image, by the content-hash tag of this checkout."""
    name = "images"
    expected = host.expected_images()
    view = host.engine
    if view is None:
        return Check(name, WARN, f"not checked ({len(expected)} expected): no engine answers", "start an engine first")
    missing = [f"{image} ({tag})" for image, tag in expected.items() if tag not in view.tags]
    if not missing:
        return Check(name, OK, f"all {len(expected)} present by content hash (base {expected.get('base', '?')})")
    return Check(
        name,
        WARN,
        f"{len(missing)} of {len(expected)} missing or out of date: {', '.join(missing)}",
        "run `deploy-chaos setup` (builds only what is missing; `run` and `test` do it too)",
    )


@dataclass(frozen=True)
class Tool:
    """A host tool: its executables, Debian package, what needs it and whether a run fails without it."""

    name: str
    executables: tuple[str, ...]
    package: str
    needed_by: str
    required: bool


TOOLS: tuple[Tool, ...] = (
    Tool("ssh-keygen", ("ssh-keygen",), "openssh-client", "each run's SSH certificate authority", True),
    Tool("iptables", ("iptables",), "iptables", "the network-cut and SSH-reset faults, dockerd's networks", True),
    Tool("nsenter", ("nsenter",), "util-linux", "faults that run iptables/tc in a container's netns", True),
    Tool("debootstrap", ("debootstrap",), "debootstrap", "building the base image (setup installs it as root)", False),
    Tool("curl", ("curl",), "curl", "tests/pipeline (the pipeline's scripts run on the host)", False),
    Tool("jq", ("jq",), "jq", "tests/pipeline (the pipeline's scripts run on the host)", False),
    Tool("shellcheck", ("shellcheck",), "shellcheck", "tests/pipeline/test_shellcheck.py (fails in CI)", False),
    Tool(
        "PostgreSQL 15 initdb",
        ("/usr/lib/postgresql/15/bin/initdb",),
        "postgresql-15",
        "the production host tools' tests (fail in CI)",
        False,
    ),
)


def tool_check(tool: Tool) -> Callable[[Host], Check]:
    """The check that `tool`'s executables are on this host."""

    def check(host: Host) -> Check:
        found = {exe: host.which(exe) for exe in tool.executables}
        missing = [exe for exe, path in found.items() if path is None]
        if not missing:
            return Check(tool.name, OK, ", ".join(str(path) for path in found.values()))
        status = FAIL if tool.required else WARN
        detail = f"{', '.join(missing)} not found (needed by {tool.needed_by})"
        return Check(tool.name, status, detail, f"apt-get install {tool.package}")

    check.__name__ = tool.name
    return check


def check_node(host: Host) -> Check:
    """Required by `run`: node runs Allure Report 3; npm installs it once (node_modules)."""
    name = "node/npm"
    node, npm = host.which("node"), host.which("npm")
    allure = host.exists(str(Path(host.project_root()) / "node_modules" / ".bin" / "allure"))
    if node and (npm or allure):
        note = "Allure CLI installed" if allure else "Allure CLI not installed yet (the first report runs `npm ci`)"
        return Check(name, OK, f"{node}, {npm or 'no npm'}; {note}")
    missing = " and ".join(exe for exe, path in (("node", node), ("npm", npm)) if path is None)
    return Check(
        name, FAIL, f"{missing} not found (`run` writes its HTML report with them)", "apt-get install nodejs npm"
    )


def _disk(name: str, path: str, where: str, host: Host) -> Check:
    free = host.free_bytes(path)
    if free is None:
        return Check(name, WARN, f"cannot read the free space of {path}", f"check `df -h {path}` by hand")
    detail = f"{free / GIB:.1f} GiB free on {where} {path}"
    if free < DISK_FAIL_BYTES:
        return Check(name, FAIL, f"{detail}, under {DISK_FAIL_BYTES // GIB} GiB", "free disk space there")
    if free < DISK_WANT_BYTES:
        return Check(name, WARN, f"{detail}, under {DISK_WANT_BYTES // GIB} GiB", "free disk space there")
    return Check(name, OK, f"{detail} (want ≥ {DISK_WANT_BYTES // GIB} GiB)")


def check_disk_docker(host: Host) -> Check:
    """Free space where the engine keeps images and containers."""
    name = "disk (Docker data root)"
    if not host.endpoint.startswith("unix://"):
        return Check(name, WARN, f"not checked: the engine is remote ({host.endpoint})", "look on the engine's host")
    view = host.engine
    root = view.root_dir if view and view.root_dir else DEFAULT_DOCKER_ROOT
    return _disk(name, root, "the Docker data root" if view and view.root_dir else "the default data root", host)


def check_disk_project(host: Host) -> Check:
    """Free space of the checkout (reports, journals, node_modules, .venv)."""
    return _disk("disk (project)", host.project_root(), "the project", host)


def check_root(host: Host) -> Check:
    """The network and disk faults nsenter a container's namespaces from the host: that needs root."""
    if host.euid() == 0:
        return Check("privileges", OK, "root")
    return Check(
        "privileges",
        WARN,
        f"not root (uid {host.euid()}): faults that nsenter a container's namespaces will fail",
        "run the Docker-backed scenarios as root (CI does)",
    )


def check_shaping(host: Host) -> Check:
    """tbf, which the bandwidth-cap fault needs, from the kernel config or its modules (nothing is loaded)."""
    name = "tbf qdisc"
    tc = host.which("tc")
    kernel = _tbf_support(host)
    if kernel is None:
        return Check(
            name,
            WARN,
            "cannot tell without loading it: no kernel config, and sch_tbf neither loaded nor under "
            f"/lib/modules/{host.kernel_release()} (it may be built in)" + ("" if tc else "; tc not found"),
            "none needed unless the bandwidth-cap fault fails to inject (it proves itself then)"
            + ("" if tc else "; apt-get install iproute2"),
        )
    supported, how = kernel
    if not supported:
        return Check(name, WARN, how, "a kernel with CONFIG_NET_SCH_TBF (only the bandwidth-cap fault needs it)")
    if not tc:
        return Check(name, WARN, f"{how}, but tc not found", "apt-get install iproute2")
    return Check(name, OK, f"{how}; tc at {tc}")


def _tbf_support(host: Host) -> tuple[bool, str] | None:
    """(supported, how we know), or None when it cannot be told without loading the module."""
    for path in ("/proc/config.gz", f"/boot/config-{host.kernel_release()}"):
        text = host.read_text(path)
        if not text:
            continue
        value = _config_value(text, "NET_SCH_TBF")
        if value is None:
            return False, f"not in this kernel (CONFIG_NET_SCH_TBF unset in {path})"
        others = [label for option, label in SHAPING if _config_value(text, option) is None]
        lack = f" ({', '.join(others)} unset: the fault's ingress direction cannot run)" if others else ""
        return True, f"{'built in' if value == 'y' else 'a module'} (CONFIG_NET_SCH_TBF={value} in {path}){lack}"
    if host.exists("/sys/module/sch_tbf") or "sch_tbf " in (host.read_text("/proc/modules") or ""):
        return True, "sch_tbf module loaded"
    release = host.kernel_release()
    if any(host.exists(f"/lib/modules/{release}/kernel/net/sched/sch_tbf.ko{ext}") for ext in ("", ".xz", ".zst")):
        return True, f"sch_tbf module available for {release} (tc loads it on use)"
    return None


def _config_value(text: str, option: str) -> str | None:
    match = re.search(rf"^CONFIG_{option}=(\w+)$", text, re.MULTILINE)
    return match.group(1) if match else None


def check_cgroups(host: Host) -> Check:
    """Controllers the resource faults use; the cpu/memory faults read cgroup v1 files."""
    name = "cgroup controllers"
    unified = host.read_text(f"{CGROUP_ROOT}/cgroup.controllers")
    if unified is not None:
        missing = [c for c in CGROUP_V2 if c not in unified.split()]
        have = "missing " + ", ".join(missing) if missing else ", ".join(CGROUP_V2) + " enabled"
        return Check(
            name,
            WARN,
            f"cgroup v2 only, {have}: the CPU-starvation and memory-pressure faults read cgroup v1 files and "
            "would be inconclusive here (no scenario uses them yet)",
            "boot with cgroup v1 or hybrid (systemd.unified_cgroup_hierarchy=0) to use those faults",
        )
    if not host.exists(CGROUP_ROOT):
        return Check(name, WARN, f"no cgroup filesystem at {CGROUP_ROOT}", "mount cgroups (Docker needs them)")
    missing = [c for c in CGROUP_V1 if not host.exists(f"{CGROUP_ROOT}/{c}")]
    if missing:
        detail = f"cgroup v1 without {', '.join(missing)} under {CGROUP_ROOT}"
        return Check(name, WARN, detail, "enable those controllers (the resource faults read them)")
    return Check(name, OK, f"cgroup v1: {', '.join(CGROUP_V1)} under {CGROUP_ROOT}")


DEFAULT_CHECKS: tuple[Callable[[Host], Check], ...] = (
    check_engine,
    check_images,
    *(tool_check(tool) for tool in TOOLS if tool.required),
    check_node,
    *(tool_check(tool) for tool in TOOLS if not tool.required),
    check_disk_docker,
    check_disk_project,
    check_root,
    check_shaping,
    check_cgroups,
)


def diagnose(host: Host, checks: Sequence[Callable[[Host], Check]] = DEFAULT_CHECKS) -> list[Check]:
    """Every check's result, in order; a probe that raises is a warning naming the error, never a traceback."""
    results = []
    for check in checks:
        try:
            results.append(check(host))
        except Exception as exc:
            name = getattr(check, "__name__", "check").removeprefix("check_")
            detail = f"could not check ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
            results.append(Check(name, WARN, detail, "report it: this is a doctor bug"))
    return results


def exit_code(results: Sequence[Check]) -> int:
    """2 when a required check failed, else 0 (warnings do not fail doctor)."""
    return 2 if any(r.status == FAIL for r in results) else 0

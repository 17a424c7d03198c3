"""harness.bootstrap.doctor: one line per check, a Fix for what is missing, and nothing changed.

The checks run against a fake Host (the read-only probes); anything that could install, start,
build or write is a tripwire, also for the one test that diagnoses this real machine.
"""

from __future__ import annotations

import gzip
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from harness.bootstrap import base_image, doctor, engine, images
from harness.bootstrap.doctor import FAIL, GIB, OK, WARN, Check, EngineView, LocalHost, diagnose, exit_code
from harness.cli import commands
from harness.cli.commands import main
from harness.core import settings

LINE = re.compile(r"^\[(ok  |warn|fail)\] [^:\n]+: [^\n]+$")
IMAGES = {"base": "dch/base:aaa", "github": "dch/github:bbb", "runner": "dch/runner:ccc"}
TOOLS = ("ssh-keygen", "iptables", "nsenter", "node", "npm", "tc", "debootstrap", "curl", "jq", "shellcheck")


def _tripwire(what: str) -> Callable[..., None]:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise AssertionError(f"doctor reached {what}: it must change nothing")

    return fail


@pytest.fixture(autouse=True)
def nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Installing, starting, building, running a program or creating a cache folder fails the test."""
    for target, name in [
        (engine, "ensure_engine"),
        (engine, "start_dockerd"),
        (engine, "install_docker_engine"),
        (images, "build_images"),
        (images, "cache_dir"),
        (base_image, "ensure_base_image"),
        (settings, "cache_dir"),
        (settings, "reports_dir"),
        (commands, "_setup"),
        (commands, "_ensure_ssh_keygen"),
        (subprocess, "run"),
        (subprocess, "Popen"),
        (subprocess, "call"),
        (subprocess, "check_call"),
        (subprocess, "check_output"),
    ]:
        monkeypatch.setattr(target, name, _tripwire(f"{target.__name__}.{name}"))


@dataclass
class FakeHost:
    """A healthy machine unless a test says otherwise."""

    endpoint: str = "unix:///var/run/docker.sock"
    engine: EngineView | None = field(
        default_factory=lambda: EngineView("20.10.24", "/var/lib/docker", frozenset(IMAGES.values()))
    )
    permission: str | None = None
    tools: dict[str, str] = field(
        default_factory=lambda: (
            {t: f"/usr/bin/{t}" for t in TOOLS}
            | {"/usr/lib/postgresql/15/bin/initdb": "/usr/lib/postgresql/15/bin/initdb"}
        )
    )
    files: dict[str, str] = field(
        default_factory=lambda: {"/proc/config.gz": "CONFIG_NET_SCH_TBF=y\nCONFIG_NET_SCH_INGRESS=y\nCONFIG_IFB=y\n"}
    )
    paths: set[str] = field(
        default_factory=lambda: (
            {f"/sys/fs/cgroup/{c}" for c in ("", "cpu", "memory", "blkio", "pids")}
            | {"/sys/fs/cgroup", "/work/proj/node_modules/.bin/allure"}
        )
    )
    free: int = 50 * GIB
    uid: int = 0
    images: dict[str, str] = field(default_factory=lambda: dict(IMAGES))

    def socket_problem(self) -> str | None:
        return self.permission

    def which(self, tool: str) -> str | None:
        return self.tools.get(tool)

    def read_text(self, path: str) -> str | None:
        return self.files.get(path)

    def exists(self, path: str) -> bool:
        return path in self.paths or path in self.files

    def free_bytes(self, path: str) -> int | None:
        return self.free

    def euid(self) -> int:
        return self.uid

    def kernel_release(self) -> str:
        return "6.1.0-test"

    def expected_images(self) -> dict[str, str]:
        return self.images

    def project_root(self) -> str:
        return "/work/proj"


def by_name(results: list[Check]) -> dict[str, Check]:
    return {r.name: r for r in results}


def without(host: FakeHost, *tools: str) -> FakeHost:
    return replace(host, tools={k: v for k, v in host.tools.items() if k not in tools})


def test_a_healthy_machine_is_all_ok_and_exits_0() -> None:
    results = diagnose(FakeHost())
    assert [r.status for r in results] == [OK] * len(doctor.DEFAULT_CHECKS)
    assert exit_code(results) == 0
    checks = by_name(results)
    assert (
        checks["Docker engine"].line() == "[ok  ] Docker engine: engine 20.10.24 answers at unix:///var/run/docker.sock"
    )
    assert checks["images"].detail == "all 3 present by content hash (base dch/base:aaa)"


def test_the_cli_prints_one_line_per_check_and_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(doctor, "LocalHost", FakeHost)
    assert main(["doctor"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == len(doctor.DEFAULT_CHECKS)
    assert all(line.startswith("[ok  ] ") for line in lines)
    assert err == "doctor: 0 failed, 0 warning(s); nothing was changed\n"


def test_no_engine_is_a_fail_line_with_the_fix_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(doctor, "LocalHost", lambda: without(FakeHost(engine=None), "dockerd"))
    assert main(["doctor"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "[fail] Docker engine: nothing answers at unix:///var/run/docker.sock (no dockerd is installed). "
        "Fix: run `deploy-chaos setup` (starts dockerd, or installs docker.io on Debian as root), "
        "or set DOCKER_HOST to a running engine"
    )
    assert lines[1].startswith("[warn] images: not checked (3 expected): no engine answers. Fix: ")
    assert len(lines) == len(doctor.DEFAULT_CHECKS)


def test_an_installed_but_stopped_engine_is_named() -> None:
    host = FakeHost(engine=None)
    host.tools["dockerd"] = "/usr/sbin/dockerd"
    assert "dockerd is installed but not running" in by_name(diagnose(host))["Docker engine"].detail


def test_an_unreachable_docker_host_says_to_start_it_or_unset_it() -> None:
    check = by_name(diagnose(FakeHost(endpoint="tcp://10.0.0.9:2375", engine=None)))["Docker engine"]
    assert check.status == FAIL
    assert check.line().endswith(
        "nothing answers at DOCKER_HOST=tcp://10.0.0.9:2375. Fix: start that engine, or unset DOCKER_HOST"
    )


def test_a_socket_without_permission_is_a_fail_with_the_engine_modules_fix() -> None:
    text = str(engine.permission_error(Path("/var/run/docker.sock")))
    results = diagnose(FakeHost(permission=text))
    check = by_name(results)["Docker engine"]
    assert check.status == FAIL
    assert "may not use it (permission denied)" in check.detail
    assert check.fix.startswith("run as root, or add this user to the socket's group")
    assert exit_code(results) == 2


def test_missing_images_are_a_warning_naming_them_with_setup_as_the_fix() -> None:
    host = FakeHost(engine=EngineView("20.10.24", "/var/lib/docker", frozenset({"dch/base:aaa", "dch/github:old"})))
    results = diagnose(host)
    assert by_name(results)["images"].line() == (
        "[warn] images: 2 of 3 missing or out of date: github (dch/github:bbb), runner (dch/runner:ccc). "
        "Fix: run `deploy-chaos setup` (builds only what is missing; `run` and `test` do it too)"
    )
    assert exit_code(results) == 0


@pytest.mark.parametrize(
    ("tool", "name", "status", "package"),
    [
        ("ssh-keygen", "ssh-keygen", FAIL, "openssh-client"),
        ("iptables", "iptables", FAIL, "iptables"),
        ("nsenter", "nsenter", FAIL, "util-linux"),
        ("shellcheck", "shellcheck", WARN, "shellcheck"),
        ("jq", "jq", WARN, "jq"),
        ("/usr/lib/postgresql/15/bin/initdb", "PostgreSQL 15 initdb", WARN, "postgresql-15"),
    ],
)
def test_a_missing_tool_says_which_package_installs_it(tool: str, name: str, status: str, package: str) -> None:
    results = diagnose(without(FakeHost(), tool))
    check = by_name(results)[name]
    assert check.status == status
    assert check.line().endswith(f"Fix: apt-get install {package}")
    assert exit_code(results) == (2 if status == FAIL else 0)


def test_node_is_required_for_the_report_and_npm_only_until_allure_is_installed() -> None:
    assert by_name(diagnose(without(FakeHost(), "node")))["node/npm"].status == FAIL
    assert by_name(diagnose(without(FakeHost(), "npm")))["node/npm"].status == OK  # Allure CLI already there
    host = without(FakeHost(), "npm")
    host.paths.discard("/work/proj/node_modules/.bin/allure")
    check = by_name(diagnose(host))["node/npm"]
    assert check.status == FAIL
    assert check.line().endswith("Fix: apt-get install nodejs npm")


@pytest.mark.parametrize(("free_gib", "status"), [(50, OK), (5, WARN), (1, FAIL)])
def test_disk_space_thresholds(free_gib: float, status: str) -> None:
    checks = by_name(diagnose(FakeHost(free=int(free_gib * GIB))))
    docker_root, project = checks["disk (Docker data root)"], checks["disk (project)"]
    assert docker_root.status == project.status == status
    assert "the Docker data root /var/lib/docker" in docker_root.detail
    assert "the project /work/proj" in project.detail


def test_the_disk_of_a_remote_engine_is_not_guessed() -> None:
    check = by_name(diagnose(FakeHost(endpoint="tcp://10.0.0.9:2375")))["disk (Docker data root)"]
    assert check.status == WARN and "remote" in check.detail


def test_not_root_is_a_warning() -> None:
    assert by_name(diagnose(FakeHost(uid=1000)))["privileges"].status == WARN


@pytest.mark.parametrize(
    ("files", "paths", "tc", "status", "text"),
    [
        ({"/proc/config.gz": "CONFIG_NET_SCH_TBF=m\n"}, set(), True, OK, "a module (CONFIG_NET_SCH_TBF=m"),
        ({"/boot/config-6.1.0-test": "# CONFIG_NET_SCH_TBF is not set\n"}, set(), True, WARN, "not in this kernel"),
        ({"/proc/modules": "sch_tbf 16384 0 - Live 0x0\n"}, set(), True, OK, "sch_tbf module loaded"),
        ({}, {"/lib/modules/6.1.0-test/kernel/net/sched/sch_tbf.ko.xz"}, True, OK, "available for 6.1.0-test"),
        ({}, set(), True, WARN, "cannot tell without loading it"),
        ({"/proc/config.gz": "CONFIG_NET_SCH_TBF=y\n"}, set(), False, WARN, "but tc not found"),
    ],
)
def test_tbf_support_is_read_never_loaded(
    files: dict[str, str], paths: set[str], tc: bool, status: str, text: str
) -> None:
    host = FakeHost(files=files, paths=paths | FakeHost().paths)
    if not tc:
        host = without(host, "tc")
    check = by_name(diagnose(host))["tbf qdisc"]
    assert check.status == status
    assert text in check.detail


def test_cgroup_v1_and_v2() -> None:
    assert by_name(diagnose(FakeHost()))["cgroup controllers"].status == OK
    v1_without_pids = FakeHost(paths={"/sys/fs/cgroup", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory"})
    check = by_name(diagnose(v1_without_pids))["cgroup controllers"]
    assert check.status == WARN and "without blkio, pids" in check.detail
    v2 = FakeHost(files={"/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n"})
    check = by_name(diagnose(v2))["cgroup controllers"]
    assert check.status == WARN
    assert "cgroup v2 only, cpu, memory, io, pids enabled" in check.detail
    assert "read cgroup v1 files" in check.detail


def test_a_probe_that_raises_is_a_warning_not_a_traceback() -> None:
    def check_broken(host: object) -> Check:
        raise OSError("boom\nsecond line")

    [result] = diagnose(FakeHost(), [check_broken])
    assert (
        result.line()
        == "[warn] broken: could not check (OSError: boom second line). Fix: report it: this is a doctor bug"
    )


@pytest.mark.parametrize(
    "host",
    [
        FakeHost(),
        FakeHost(engine=None, free=GIB, uid=1000, tools={}, files={}, paths=set()),
        FakeHost(files={"/sys/fs/cgroup/cgroup.controllers": "cpu\n"}, images={**IMAGES, "x": "dch/x:1"}),
    ],
    ids=["healthy", "bare", "partial"],
)
def test_every_line_is_one_line_and_every_problem_has_a_fix(host: FakeHost) -> None:
    for result in diagnose(host):
        assert LINE.match(result.line()), result.line()
        assert (result.status == OK) != ("Fix: " in result.line()), result.line()


def test_local_probes_read_gzip_and_find_the_nearest_existing_folder(tmp_path: Path) -> None:
    config = tmp_path / "config.gz"
    with gzip.open(config, "wt") as f:
        f.write("CONFIG_NET_SCH_TBF=y\n")
    host = LocalHost()
    assert host.read_text(str(config)) == "CONFIG_NET_SCH_TBF=y\n"
    assert host.read_text(str(tmp_path / "missing")) is None
    assert (host.free_bytes(str(tmp_path / "not" / "yet" / "there")) or 0) > 0


def test_local_engine_probe_of_a_closed_port_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
    host = LocalHost()
    assert host.engine is None
    assert host.socket_problem() is None  # DOCKER_HOST replaces the default socket
    assert by_name(diagnose(host, [doctor.check_engine]))["Docker engine"].status == FAIL


def test_doctor_on_this_machine_exits_0_or_2_with_one_line_per_check(capsys: pytest.CaptureFixture[str]) -> None:
    """The real probes (a read-only ping and image list at most): whatever this machine lacks, no traceback."""
    code = main(["doctor"])
    out, err = capsys.readouterr()
    assert code in (0, 2)
    lines = out.splitlines()
    assert len(lines) == len(doctor.DEFAULT_CHECKS)
    assert all(LINE.match(line) for line in lines), out
    assert (code == 2) == any(line.startswith("[fail]") for line in lines)
    assert "Traceback" not in out + err

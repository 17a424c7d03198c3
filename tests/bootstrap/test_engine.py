"""harness.bootstrap.engine: when no engine is usable, the error is one paragraph naming cause and fix.

No Docker engine is used: DOCKER_HOST points at a closed port, the default socket is a path
under tmp_path, and anything that could install or start dockerd is replaced by a tripwire.
"""

from __future__ import annotations

import io
import os
import socket
from pathlib import Path

import docker
import pytest

from harness.bootstrap import engine
from harness.bootstrap.progress import Progress
from harness.core.errors import EnginePermissionDenied, EngineUnavailable


def _tripwire(what: str):
    def fail(*_args, **_kwargs):
        raise AssertionError(f"the test reached {what}, which must not happen here")

    return fail


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No DOCKER_HOST, a default socket that does not exist, and no way to touch a real engine."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    sock = tmp_path / "docker.sock"
    monkeypatch.setattr(engine, "DEFAULT_SOCKET", sock)
    monkeypatch.setattr(engine, "DOCKERD_LOG", tmp_path / "dockerd.log")
    monkeypatch.setattr(engine, "install_docker_engine", _tripwire("install_docker_engine"))
    monkeypatch.setattr(engine, "start_dockerd", _tripwire("start_dockerd"))
    monkeypatch.setattr(docker, "from_env", _tripwire("docker.from_env (the default engine)"))
    return sock


@pytest.fixture
def progress() -> Progress:
    return Progress(stream=io.StringIO())


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_one_paragraph(message: str) -> None:
    assert "\n" not in message
    assert message.strip() == message
    assert "Fix:" in message


@pytest.mark.parametrize("scheme", ["tcp", "unix"])
def test_unreachable_docker_host(monkeypatch: pytest.MonkeyPatch, progress: Progress, scheme: str) -> None:
    host = f"tcp://127.0.0.1:{closed_port()}" if scheme == "tcp" else "unix:///nonexistent/dch-test/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    with pytest.raises(EngineUnavailable) as err:
        engine.ensure_engine(progress)
    message = str(err.value)
    assert_one_paragraph(message)
    assert "DOCKER_HOST" in message
    assert host in message
    assert "unset DOCKER_HOST" in message
    assert progress.records[-1].name == "Docker engine"
    assert progress.records[-1].ok is False


def test_ping_of_unreachable_endpoint_is_none() -> None:
    assert engine.ping(f"tcp://127.0.0.1:{closed_port()}") is None


def test_socket_permission_problem_detection(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    assert engine._socket_permission_problem(isolated) is False  # does not exist
    isolated.write_text("")
    assert engine._socket_permission_problem(isolated) is (not os.access(isolated, os.R_OK | os.W_OK))
    monkeypatch.setattr(engine.os, "access", lambda path, mode: Path(path) != isolated)
    assert engine._socket_permission_problem(isolated) is True


def test_socket_without_permission(monkeypatch: pytest.MonkeyPatch, progress: Progress, isolated: Path) -> None:
    isolated.write_text("")
    real_access = os.access
    monkeypatch.setattr(
        engine.os, "access", lambda path, mode: False if Path(path) == isolated else real_access(path, mode)
    )
    monkeypatch.setattr(engine, "ping", _tripwire("ping of a socket we may not use"))
    with pytest.raises(EnginePermissionDenied) as err:
        engine.ensure_engine(progress)
    message = str(err.value)
    assert_one_paragraph(message)
    assert str(isolated) in message
    assert "permission denied" in message
    assert "usermod -aG" in message
    assert "DOCKER_HOST" in message


def test_socket_without_permission_via_helper(monkeypatch: pytest.MonkeyPatch, progress: Progress) -> None:
    monkeypatch.setattr(engine, "_socket_permission_problem", lambda sock: True)
    monkeypatch.setattr(engine, "ping", _tripwire("ping of a socket we may not use"))
    with pytest.raises(EnginePermissionDenied) as err:
        engine.ensure_engine(progress)
    assert_one_paragraph(str(err.value))
    assert str(engine.DEFAULT_SOCKET) in str(err.value)


def test_no_dockerd_and_not_debian_root(monkeypatch: pytest.MonkeyPatch, progress: Progress, tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))  # no dockerd, no apt-get
    monkeypatch.setattr(engine.os, "geteuid", lambda: 1000)
    assert engine._is_debian_root() is False
    with pytest.raises(EngineUnavailable) as err:
        engine.ensure_engine(progress)
    message = str(err.value)
    assert_one_paragraph(message)
    assert "none is installed" in message
    assert "https://docs.docker.com/engine/install/" in message
    assert "Debian as root" in message
    assert "DOCKER_HOST" in message


def test_no_dockerd_with_install_disabled(monkeypatch: pytest.MonkeyPatch, progress: Progress, tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.setattr(engine, "_is_debian_root", lambda: True)
    with pytest.raises(EngineUnavailable) as err:
        engine.ensure_engine(progress, install=False)
    assert_one_paragraph(str(err.value))
    assert "install Docker Engine" in str(err.value)


def test_dockerd_installed_but_not_root(monkeypatch: pytest.MonkeyPatch, progress: Progress, tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    dockerd = fake_bin / "dockerd"
    dockerd.write_text("#!/bin/sh\nexit 99\n")
    dockerd.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake_bin))
    monkeypatch.setattr(engine.os, "geteuid", lambda: 1000)
    with pytest.raises(EngineUnavailable) as err:
        engine.ensure_engine(progress)
    message = str(err.value)
    assert_one_paragraph(message)
    assert "only root can start it" in message
    assert "sudo dockerd" in message


def test_permission_error_message_is_one_paragraph(tmp_path: Path) -> None:
    sock = tmp_path / "docker.sock"
    sock.write_text("")
    error = engine.permission_error(sock)
    assert isinstance(error, EnginePermissionDenied)
    assert_one_paragraph(str(error))
    assert str(sock) in str(error)


def test_docker_client_without_an_engine_is_one_line_naming_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{closed_port()}")
    with pytest.raises(EngineUnavailable) as err:
        engine.docker_client()
    assert_one_paragraph(str(err.value))
    assert "deploy-chaos setup" in str(err.value) and "DOCKER_HOST" in str(err.value)

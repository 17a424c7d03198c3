"""A production stand-in (docs/production.md) and a runner, from the harness's images, for the
pipeline's own end-to-end tests of its deploy: no simulated GitHub, no Prometheus.

Containers (docker CLI; labelled dch.managed / dch.run, so `deploy-chaos cleanup` removes
leftovers) on a network of their own: prod-db, prod-cache, prod-web-1, prod-web-2 (the pipeline's
production/ tools in /opt/app/bin, /etc/app/db.env and /etc/app/deploy.env), prod-lb, artifacts,
and `runner` (the runner image, idle, the pipeline in /repo): `deploy()` runs scripts/deploy.sh
there with the variables and secrets the workflow passes.
"""

from __future__ import annotations

import json
import secrets
import shlex
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.topology.backend import LABEL_MANAGED, LABEL_RUN
from harness.topology.ssh_material import SshMaterial, make_ssh_material

WEB_HOSTS = ("prod-web-1", "prod-web-2")
# Stand.playbook: `bash -c PLAYBOOK_SCRIPT - <playbook> <args>` on the runner, key and inventory as deploy.sh makes them
PLAYBOOK_SCRIPT = r"""set -euo pipefail
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$DEPLOY_SSH_KEY" > "$work/key"
printf '%s\n' "$DEPLOY_SSH_CERT" > "$work/key-cert.pub"
printf '%s\n' "$SSH_KNOWN_HOSTS" > "$work/known_hosts"
common="-o CertificateFile=$work/key-cert.pub -o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=yes"
common="$common -o BatchMode=yes -o IdentitiesOnly=yes"
jq -n --arg key "$work/key" --arg common "$common" '{web: {hosts: {"prod-web-1": {}, "prod-web-2": {}},
  vars: {ansible_user: "deploy", ansible_python_interpreter: "/usr/bin/python3",
         ansible_ssh_private_key_file: $key, ansible_ssh_common_args: $common}}}' > "$work/inventory.json"
playbook=$1
shift
ANSIBLE_CONFIG=/repo/ansible/ansible.cfg ANSIBLE_SSH_CONTROL_PATH_DIR="$work/cp" \
  ansible-playbook -i "$work/inventory.json" "/repo/ansible/$playbook" "$@" </dev/null 2>&1
"""
IMAGES = ("prodhost", "proddb", "prodcache", "prodlb", "artifacts", "runner")


def docker(*args: str, check: bool = True, timeout: float = 120, input: str | None = None) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, input=input)
    if check and proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


@dataclass
class Stand:
    """One stand: `start()`, use, `stop()` (also a context manager)."""

    images: Mapping[str, str]
    pipeline: Mapping[str, Path]  # repository-relative path -> file (PipelineSource.files())
    deploy_env: Mapping[str, str] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"dch-stand-{self.run_id}-")
        self.tmp = Path(self._tmp.name)
        self.db_password = secrets.token_urlsafe(24)
        self.ssh: SshMaterial | None = None
        self.containers: list[str] = []
        self.network = f"dch-{self.run_id}-stand"

    def name(self, component: str) -> str:
        return f"dch-{self.run_id}-{component}"

    def __enter__(self) -> Stand:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- lifecycle -------------------------------------------------------------------------
    def _create(self, component: str, image: str, *cmd: str, alias: str | None = None) -> str:
        name = self.name(component)
        docker(
            "create", "--name", name, "--init", "--network", self.network, "--network-alias", alias or component,
            "--label", f"{LABEL_MANAGED}=true", "--label", f"{LABEL_RUN}={self.run_id}",
            self.images[image], *cmd,
        )  # fmt: skip
        self.containers.append(name)
        return name

    def _put(self, container: str, path: str, data: bytes, mode: int = 0o644) -> None:
        """Copy `data` to `path` in a created container (a tar stream: mode kept, owner root)."""
        import io
        import tarfile

        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
        subprocess.run(
            ["docker", "cp", "-", f"{container}:/"], input=buffer.getvalue(), check=True, capture_output=True
        )

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        docker("network", "create", "--label", f"{LABEL_MANAGED}=true", "--label", f"{LABEL_RUN}={self.run_id}",
               self.network)  # fmt: skip
        self.ssh = ssh = make_ssh_material(self.tmp / "ssh", list(WEB_HOSTS), self.run_id)
        db = self._create("prod-db", "proddb")
        self._put(db, "/etc/dch/db_password", self.db_password.encode(), 0o600)
        self._create("prod-cache", "prodcache")
        db_env = (
            f"PGHOST=prod-db\nPGPORT=5432\nPGDATABASE=app\nPGUSER=app\nPGPASSWORD={self.db_password}\n"
            "REDIS_HOST=prod-cache\n"
        ).encode()
        deploy_env = "".join(f"{k}={v}\n" for k, v in self.deploy_env.items()).encode()
        for host in WEB_HOSTS:
            web = self._create(host, "prodhost")
            self._put(web, "/etc/ssh/dch/user_ca.pub", ssh.user_ca_pub.encode() + b"\n")
            self._put(web, "/etc/ssh/dch/host_ed25519", ssh.host_key_path.read_bytes(), 0o600)
            self._put(web, "/etc/ssh/dch/host_ed25519-cert.pub", ssh.host_cert_path.read_bytes())
            self._put(web, "/etc/app/db.env", db_env, 0o640)
            if self.deploy_env:
                self._put(web, "/etc/app/deploy.env", deploy_env)
            for rel, path in self.pipeline.items():
                if rel.startswith("production/"):
                    self._put(web, f"/opt/app/bin/{rel.removeprefix('production/')}", path.read_bytes(), 0o755)
        self._create("prod-lb", "prodlb")
        self._create("artifacts", "artifacts")
        runner = self._create("runner", "runner", "sleep", "infinity")
        for rel, path in self.pipeline.items():
            self._put(runner, f"/repo/{rel}", path.read_bytes(), 0o755 if rel.endswith(".sh") else 0o644)
        for name in self.containers:
            docker("start", name)
        self.wait_ready()

    def stop(self) -> None:
        if self.containers:
            docker("rm", "-f", "-v", *self.containers, check=False)
            self.containers.clear()
        docker("network", "rm", self.network, check=False)
        self._tmp.cleanup()

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        probe = (
            "curl -fsS --max-time 2 http://prod-lb/api/health >/dev/null && "
            "curl -fsS --max-time 2 http://prod-web-1:8080/health >/dev/null && "
            "curl -fsS --max-time 2 http://prod-web-2:8080/health >/dev/null && "
            "curl -fsS --max-time 2 http://artifacts:8000/healthz >/dev/null"
        )
        while True:
            code, out = self.exec("runner", probe)
            if code == 0:
                return
            if time.monotonic() > deadline:
                logs = {c: docker("logs", "--tail", "10", c, check=False) for c in self.containers}
                raise RuntimeError(f"the stand did not become ready: {out}\n{json.dumps(logs, indent=1)}")
            time.sleep(0.3)

    # ---- using it ----------------------------------------------------------------------------
    def exec(self, component: str, script: str, user: str | None = None, timeout: float = 300) -> tuple[int, str]:
        """(exit code, stdout+stderr) of a bash `script` in a container."""
        args = ["exec", *(["-u", user] if user else []), self.name(component), "bash", "-c", script]
        proc = subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        return proc.returncode, proc.stdout + proc.stderr

    def deploy_env_vars(self, version: str, **extra: str) -> dict[str, str]:
        assert self.ssh is not None
        return {
            "VERSION": version,
            "PROD_HOSTS": " ".join(WEB_HOSTS),
            "PROD_LB_URL": "http://prod-lb",
            "ARTIFACTS_URL": "http://artifacts:8000",
            "SSH_KNOWN_HOSTS": self.ssh.known_hosts,
            "DEPLOY_SSH_KEY": self.ssh.deploy_key,
            "DEPLOY_SSH_CERT": self.ssh.deploy_cert,
            "RUNNER_NAME": "runner-test",
            "RUNNER_ROLE": "primary",
            "GITHUB_RUN_ID": str(int(time.time() * 1000) % 10**9),
            "DEPLOY_ATTEMPTS": "3",
            "RETRY_WAIT_S": "1",
            "ATTEMPT_TIMEOUT_S": "60",
            **extra,
        }

    def deploy_command(self, version: str, **extra: str) -> list[str]:
        """The docker exec command line that runs the deploy as the workflow step does."""
        env = self.deploy_env_vars(version, **extra)
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        return ["docker", "exec", self.name("runner"), "bash", "-c",
                f"cd /repo && env {exports} bash scripts/deploy.sh 2>&1"]  # fmt: skip

    def deploy(self, version: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess[str]:
        """Run scripts/deploy.sh on the runner (stdin closed, as on a runner)."""
        return subprocess.run(
            self.deploy_command(version, **extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def playbook(self, name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """ansible-playbook <name> <args> on the runner, against both web hosts, set up as deploy.sh sets it up."""
        env = {k: v for k, v in self.deploy_env_vars("-").items() if k.startswith(("DEPLOY_SSH", "SSH_KNOWN"))}
        exports = [f"{k}={v}" for k, v in env.items()]
        return subprocess.run(
            ["docker", "exec", self.name("runner"), "env", *exports, "bash", "-c", PLAYBOOK_SCRIPT, "-", name, *args],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def components(self, probe: str = "artifacts") -> dict[str, str | None]:
        """Every component's version: backend@host, frontend@host (what they serve) and the schema.
        Asked from `probe` (not the runner: a test may freeze it)."""
        script = (
            "for h in prod-web-1 prod-web-2; do "
            'echo "backend@$h $(curl -fsS --max-time 2 http://$h:8080/version | jq -r .version)"; '
            'echo "frontend@$h $(curl -fsS --max-time 2 http://$h/version.json | jq -r .version)"; done'
        )
        _, out = self.exec(probe, script)
        versions: dict[str, str | None] = {}
        for line in out.splitlines():
            key, _, value = line.partition(" ")
            versions[key] = value or None
        versions["schema"] = self.sql("SELECT release FROM schema_state").strip() or None
        return versions

    def sql(self, query: str) -> str:
        _, out = self.exec("prod-db", f"psql -X -tA -d app -c {shlex.quote(query)}", user="postgres")
        return out

    def state_file(self, host: str) -> dict[str, object]:
        _, out = self.exec(host, "cat /var/lib/app-production-state.json")
        return dict(json.loads(out))

    def backend_pid(self, host: str) -> str:
        return self.exec(host, "cat /run/app/backend.pid")[1].strip()

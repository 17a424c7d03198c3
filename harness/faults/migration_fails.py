"""A release whose schema migration fails: the artifact store serves its bundle with an `up.sql`
that raises after its first statement (docs/production.md), so the migration's transaction aborts
and the schema is left unchanged. Set and cleared through the store's fault endpoint."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import httpx

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action

FAULT = "migration-fails"
# The line a faulted up.sql fails on; must equal FAULT_MARKER in docker/artifacts/bundles.py
# (tests/docker_images checks they agree).
FAULT_MARKER = "deploy-chaos fault migration-fails"


def up_sql_of(bundle: bytes) -> str:
    """The `<version>/migrations/up.sql` of a release bundle (tar.gz)."""
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith("/migrations/up.sql"):
                extracted = tar.extractfile(member)
                if extracted is not None:
                    return extracted.read().decode()
    raise ValueError("the bundle has no migrations/up.sql")


class MigrationFails(Fault):
    """`PUT /_faults/<version>/migration-fails` on the artifact store until reverted (`DELETE`)."""

    name = "migration_fails"

    def __init__(
        self,
        journal: Journal,
        artifacts_url: str,
        version: str,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(journal)
        self.version = version
        self.artifacts_url, self._timeout, self._transport = artifacts_url.rstrip("/"), timeout, transport
        self._path = f"/_faults/{version}/{FAULT}"

    def _client(self) -> httpx.Client:
        # one client per operation: a fault window is short-lived and nothing is left open after it
        return httpx.Client(base_url=self.artifacts_url, timeout=self._timeout, transport=self._transport)

    def describe(self) -> dict[str, Any]:
        """Which release, which fault."""
        return {"version": self.version, "artifact_fault": FAULT, "service": "artifacts"}

    def undo_actions(self) -> list[Action]:
        """None: the fault lives in the run's artifact store, set over HTTP (no container is named here to
        reach it through a ContainerBackend); the dead-run sweep removes that container with it."""
        return []

    def inject(self) -> None:
        """Set the fault on the store."""
        with self._client() as http:
            http.put(self._path).raise_for_status()

    def took_effect(self) -> bool:
        """Seen as the pipeline would see it: the downloaded bundle's up.sql carries the failure."""
        with self._client() as http:
            answer = http.get(f"/releases/{self.version}.tar.gz").raise_for_status()
        return FAULT_MARKER in up_sql_of(answer.content)

    def revert(self) -> None:
        """Clear the fault on the store."""
        with self._client() as http:
            http.delete(self._path).raise_for_status()

    def leftovers(self) -> list[str]:
        """The fault still listed by the store."""
        with self._client() as http:
            faults = http.get("/_faults").raise_for_status().json().get("faults", {})
        return [f"artifacts: {FAULT} still set on {self.version}"] if FAULT in faults.get(self.version, []) else []

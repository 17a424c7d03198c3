"""docker/artifacts/server.py run in-process: bundles for any version, per-version faults; and the
harness's MigrationFails fault against it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import ModuleType

import httpx
import pytest

from harness.core.journal import Journal
from harness.faults.migration_fails import FAULT_MARKER, MigrationFails, up_sql_of


@pytest.fixture
def store(artifact_server: ModuleType) -> Iterator[str]:
    """The artifact store on a free port; yields its base URL."""
    server = artifact_server.ArtifactServer(("127.0.0.1", 0))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_any_version_is_served_as_a_bundle(store: str, bundles: ModuleType) -> None:
    with httpx.Client(base_url=store) as http:
        answer = http.get("/releases/7.8.9.tar.gz")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/gzip"
        assert answer.content == bundles.make_bundle("7.8.9")
        head = http.head("/releases/7.8.9.tar.gz")
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(answer.content)
        assert http.get("/releases/..%2Fx.tar.gz").status_code == 404
        assert http.get("/nothing").status_code == 404
        assert http.get("/healthz").json() == {"ok": True}


def test_migration_fails_is_set_listed_served_and_cleared_per_version(store: str) -> None:
    with httpx.Client(base_url=store) as http:
        assert http.get("/_faults").json() == {"faults": {}}
        assert http.put("/_faults/2.0.0/migration-fails").json() == {
            "version": "2.0.0",
            "fault": "migration-fails",
            "active": True,
        }
        assert http.get("/_faults").json() == {"faults": {"2.0.0": ["migration-fails"]}}
        assert FAULT_MARKER in up_sql_of(http.get("/releases/2.0.0.tar.gz").content)
        assert FAULT_MARKER not in up_sql_of(http.get("/releases/2.0.1.tar.gz").content)  # other versions untouched
        assert http.delete("/_faults/2.0.0/migration-fails").status_code == 200
        assert http.get("/_faults").json() == {"faults": {}}
        assert FAULT_MARKER not in up_sql_of(http.get("/releases/2.0.0.tar.gz").content)


def test_unknown_faults_and_bad_versions_are_refused(store: str) -> None:
    with httpx.Client(base_url=store) as http:
        assert http.put("/_faults/2.0.0/disk-full").status_code == 404
        assert http.put("/_faults/bad..version/migration-fails").status_code == 400
        assert http.get("/_faults").json() == {"faults": {}}


def test_the_harness_fault_takes_effect_and_reverts_against_the_real_store(store: str) -> None:
    with MigrationFails(Journal("t"), store, "2.0.0") as fault:
        assert httpx.get(f"{store}/_faults").json() == {"faults": {"2.0.0": ["migration-fails"]}}
    assert fault.leftovers() == []
    assert httpx.get(f"{store}/_faults").json() == {"faults": {}}

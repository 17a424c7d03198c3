"""MigrationFails against a fake artifact store (httpx.MockTransport) speaking the store's API."""

from __future__ import annotations

import io
import tarfile

import httpx
import pytest

from harness.core.errors import FaultRevertFailed, Inconclusive
from harness.core.journal import Journal
from harness.faults.migration_fails import FAULT_MARKER, MigrationFails, up_sql_of


def bundle(version: str, up_sql: str) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        data = up_sql.encode()
        info = tarfile.TarInfo(f"{version}/migrations/up.sql")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


class FakeStore:
    """The artifact store's fault API; `honours_faults=False` serves clean bundles whatever is set."""

    def __init__(self, honours_faults: bool = True, deletes: bool = True) -> None:
        self.faults: dict[str, set[str]] = {}
        self.honours_faults, self.deletes = honours_faults, deletes
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/_faults":
            return httpx.Response(200, json={"faults": {v: sorted(f) for v, f in self.faults.items() if f}})
        if path.startswith("/_faults/"):
            _, _, version, fault = path.split("/")
            if request.method == "PUT":
                self.faults.setdefault(version, set()).add(fault)
            elif self.deletes:
                self.faults.get(version, set()).discard(fault)
            return httpx.Response(200, json={"version": version, "fault": fault})
        version = path.removeprefix("/releases/").removesuffix(".tar.gz")
        failing = self.honours_faults and "migration-fails" in self.faults.get(version, set())
        sql = "CREATE TABLE t (id int);\n" + (f"DO $$ BEGIN RAISE EXCEPTION '{FAULT_MARKER}'; END $$;\n" * failing)
        return httpx.Response(200, content=bundle(version, sql))


def fault(store: FakeStore) -> MigrationFails:
    return MigrationFails(Journal("t"), "http://artifacts.fake", "2.0.0", transport=store.transport)


def test_sets_the_fault_proves_it_from_the_bundle_and_clears_it() -> None:
    store = FakeStore()
    with fault(store) as f:
        assert store.faults == {"2.0.0": {"migration-fails"}}
        inject = f.journal.last("fault.inject", "ok")
        assert inject is not None and inject["artifact_fault"] == "migration-fails" and inject["version"] == "2.0.0"
    assert store.faults == {"2.0.0": set()}


def test_a_store_that_serves_the_clean_bundle_anyway_is_inconclusive() -> None:
    store = FakeStore(honours_faults=False)
    with pytest.raises(Inconclusive, match="did not take effect"), fault(store):
        pass
    assert store.faults == {"2.0.0": set()}


def test_a_fault_the_store_keeps_is_a_leftover() -> None:
    keeps = fault(FakeStore(deletes=False))
    with pytest.raises(FaultRevertFailed, match=r"migration-fails still set on 2\.0\.0"), keeps:
        pass


def test_up_sql_is_read_from_the_bundle() -> None:
    assert up_sql_of(bundle("1.2.3", "SELECT 1;\n")) == "SELECT 1;\n"
    empty = io.BytesIO()
    with tarfile.open(fileobj=empty, mode="w:gz"):
        pass
    with pytest.raises(ValueError, match=r"no migrations/up\.sql"):
        up_sql_of(empty.getvalue())

"""harness.core.journal: an append-only, schema-versioned, JSON-lines run journal."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from harness.core.errors import ConfigError
from harness.core.journal import ENTRY_TYPES, SCHEMA_VERSION, Journal
from harness.core.redact import REDACTED


def test_first_entry_is_the_schema_header() -> None:
    journal = Journal("run-1", seed=7, profile="nightly")
    first = journal.entries()[0]
    assert first["seq"] == 0
    assert first["type"] == "info"
    assert first["op"] == "journal.start"
    assert first["schema"] == SCHEMA_VERSION
    assert first["run_id"] == "run-1"
    assert first["seed"] == 7
    assert first["profile"] == "nightly"
    assert isinstance(first["ts_ms"], int)
    assert isinstance(first["mono_ns"], int)


def test_seq_increments_and_types() -> None:
    journal = Journal("run-1")
    written = [
        journal.invoke("op.a", n=1),
        journal.ok("op.a", n=2),
        journal.fail("op.b", error="x"),
        journal.info("op.c", value=None),
    ]
    assert [e["seq"] for e in written] == [1, 2, 3, 4]
    assert [e["type"] for e in written] == ["invoke", "ok", "fail", "info"]
    assert [e["op"] for e in written] == ["op.a", "op.a", "op.b", "op.c"]
    assert written[2]["error"] == "x"
    assert [e["seq"] for e in journal.entries()] == [0, 1, 2, 3, 4]
    monos = [e["mono_ns"] for e in journal.entries()]
    assert monos == sorted(monos)


def test_write_accepts_each_entry_type() -> None:
    journal = Journal("run-1")
    for kind in ENTRY_TYPES:
        assert journal.write(kind, "op")["type"] == kind


@pytest.mark.parametrize("kind", ["start", "OK", "", "error"])
def test_bad_type_raises_and_writes_nothing(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal("run-1", path)
    with pytest.raises(ValueError, match="journal entry type must be one of"):
        journal.write(kind, "op")
    assert len(journal.entries()) == 1
    assert len(path.read_text().splitlines()) == 1
    assert journal.info("next")["seq"] == 1


def test_data_cannot_override_the_entry_envelope() -> None:
    # `type` must always be one of ENTRY_TYPES and `seq` must stay the position in the journal.
    journal = Journal("run-1")
    with pytest.raises(ValueError, match=r"seq.*type"):
        journal.info("github.event", type="job.started", seq=99)
    assert journal.entries("github.event") == []


def test_jsonl_file_mirrors_entries(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "journal.jsonl"
    journal = Journal("run-42", path, seed=3, profile="sre-review")
    journal.invoke("deploy.trigger", version="1.4.2")
    journal.ok("deploy.trigger", run_id=17, where=Path("/x/y"))
    lines = path.read_text().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert len(parsed) == 3
    assert parsed[0]["schema"] == SCHEMA_VERSION
    assert parsed[0]["op"] == "journal.start"
    assert parsed[0]["run_id"] == "run-42"
    assert [p["seq"] for p in parsed] == [0, 1, 2]
    assert parsed[2]["where"] == "/x/y"  # non-JSON values are written as strings
    for in_memory, on_disk in zip(journal.entries()[:2], parsed[:2], strict=True):
        assert in_memory == on_disk


def test_existing_journal_file_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"stale": true}\n')
    Journal("run-1", path)
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["op"] == "journal.start"


def test_subscribe_sees_entries_from_then_on() -> None:
    journal = Journal("run-1")
    seen: list[dict] = []
    journal.subscribe(seen.append)
    a = journal.invoke("fault.inject")
    b = journal.ok("fault.inject")
    assert seen == [a, b]
    assert all(e["op"] != "journal.start" for e in seen)


def test_entries_filter_and_last() -> None:
    journal = Journal("run-1")
    journal.invoke("a")
    journal.ok("a", n=1)
    journal.invoke("b")
    journal.ok("a", n=2)
    journal.fail("b")
    assert [e["seq"] for e in journal.entries("a")] == [1, 2, 4]
    assert [e["seq"] for e in journal.entries(kind="invoke")] == [1, 3]
    assert [e["seq"] for e in journal.entries("a", "ok")] == [2, 4]
    assert journal.entries("c") == []
    assert journal.last("a")["n"] == 2
    assert journal.last("b")["type"] == "fail"
    assert journal.last("b", "invoke")["seq"] == 3
    assert journal.last("c") is None
    assert journal.last("a", "fail") is None


def test_entries_returns_a_copy() -> None:
    journal = Journal("run-1")
    snapshot = journal.entries()
    snapshot.clear()
    assert len(journal.entries()) == 1


def test_concurrent_writes_get_unique_consecutive_seq(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal("run-1", path)

    def writer(i: int) -> None:
        for j in range(50):
            journal.info("tick", thread=i, j=j)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [e["seq"] for e in journal.entries()]
    assert seqs == list(range(1 + 8 * 50))
    on_disk = [json.loads(line)["seq"] for line in path.read_text().splitlines()]
    assert on_disk == seqs


def test_load_reads_back_what_was_written(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal("run-9", path, seed=3, profile="nightly", meta={"timers": {"scrape_interval_s": 1.0}})
    journal.info("github.event", event={"seq": 1, "samples": (1, 2)})
    loaded = Journal.load(path)
    assert loaded.run_id == "run-9"
    assert loaded.entries() == journal.entries()
    assert loaded.header["meta"] == {"timers": {"scrape_interval_s": 1.0}}
    # Stored as plain JSON data, live and loaded alike: a tuple is a list in both.
    assert journal.entries("github.event")[0]["event"]["samples"] == [1, 2]


def test_every_entry_carries_the_schema_version() -> None:
    journal = Journal("run-1")
    journal.info("x")
    assert {e["v"] for e in journal.entries()} == {SCHEMA_VERSION}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "not a deploy-chaos journal"),
        ("{not json\n", "j.jsonl:1: not a JSON journal entry"),
        ('{"seq": 0, "op": "other"}\n', "not a deploy-chaos journal"),
        ('{"seq": 0, "op": "journal.start", "schema": 1}\n', "journal schema 1 cannot be read"),
        ("[1, 2]\n", "j.jsonl:1: not a journal entry"),
    ],
)
def test_load_rejects_what_is_not_a_readable_journal_in_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        Journal.load(path)
    assert "\n" not in str(info.value)


def test_load_of_a_missing_file_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read journal .*journal-<run>\.jsonl"):
        Journal.load(tmp_path / "nope.jsonl")


def test_a_failing_handler_is_journalled_and_never_breaks_the_writer() -> None:
    journal = Journal("run-1")
    seen: list[str] = []

    def broken(entry: dict) -> None:
        raise RuntimeError("report down")

    journal.subscribe(broken)
    journal.subscribe(lambda e: seen.append(e["op"]))
    entry = journal.ok("fault.revert", fault="x")
    assert entry["op"] == "fault.revert"
    assert seen == ["fault.revert"]  # later handlers still run
    failures = journal.entries("journal.handler", "fail")
    assert len(failures) == 1 and "report down" in failures[0]["error"]


def test_secrets_are_redacted_from_every_string_of_every_entry(tmp_path: Path) -> None:
    key = "-----BEGIN KEY-----\nAAAAsecretline1\nBBBBsecretline2\n-----END KEY-----"
    path = tmp_path / "j.jsonl"
    journal = Journal("run-1", path)
    journal.redact_with(lambda: [key])
    journal.info("github.job_log", job_id=1, log='cat key\nAAAAsecretline1 "quoted" BBBBsecretline2\n')
    journal.info("nested", data={"AAAAsecretline1": ["x BBBBsecretline2 y"]})
    text = path.read_text()
    assert "secretline" not in text
    assert text.count(REDACTED) == 4  # two in the log, one key and one value in the nested entry
    log = journal.entries("github.job_log")[0]["log"]
    assert log.count(REDACTED) == 2 and "***" not in log
    assert journal.entries("nested")[0]["data"] == {REDACTED: [f"x {REDACTED} y"]}

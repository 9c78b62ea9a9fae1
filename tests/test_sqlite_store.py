"""The SQLite store by itself: what only SQLite does (its files, its errors, its
writer thread). What both backends must do is `tests/test_store_suite.py`."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import sqlite_utils

from runtime.store.protocol import StoreError, TraceRecord, UnknownCanvas
from runtime.store.sqlite import SQLiteStore, _explain
from runtime.store.sqlite_migrations import MIGRATIONS


def trace(i: int, tlid: int | None, at: float) -> TraceRecord:
    return TraceRecord(f"t{i}", "c", tlid, "GET /x", at, 0.1, "{}", "{}", "[]")


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "g.sqlite3")
    s.create_canvas("c", "hash")
    yield s
    s.close()


def test_a_commit_to_a_missing_canvas_changes_nothing(store: SQLiteStore) -> None:
    with pytest.raises(UnknownCanvas):
        store.commit_ops("nope", "me", "[]", {1: "{}"})
    assert store.ops_since("c", 0) == []


def test_a_bad_trace_is_dropped_alone_and_the_rest_of_its_batch_written(
        store: SQLiteStore, caplog: pytest.LogCaptureFixture) -> None:
    now = time.time()
    store.buffer_trace(trace(1, 5, now), keep_last=10, keep_seconds=3600)
    store.buffer_trace(trace(1, 5, now + 1), keep_last=10, keep_seconds=3600)  # same id
    store.buffer_trace(trace(3, 5, now + 2), keep_last=10, keep_seconds=3600)
    assert store.write_traces() == 2  # the bad one alone is dropped
    assert "trace t1 not stored" in caplog.text
    assert sorted(t.trace_id for t in store.traces("c", 5)) == ["t1", "t3"]
    store.add_trace(trace(2, 5, now), keep_last=10, keep_seconds=3600)
    assert sorted(t.trace_id for t in store.traces("c", 5)) == ["t1", "t2", "t3"]


def test_a_trace_write_that_fails_outright_is_logged_not_raised(
        store: SQLiteStore, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(_batch: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "_write_trace_batch", full_disk)
    store.buffer_trace(trace(1, 5, time.time()), keep_last=10, keep_seconds=3600)
    assert store.write_traces() == 0
    assert "1 traces were not stored" in caplog.text and "full" in caplog.text


def test_closing_the_store_writes_the_buffered_traces(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "g.sqlite3")
    s.create_canvas("c", "hash")
    s.buffer_trace(trace(1, 5, time.time()), keep_last=10, keep_seconds=3600)
    s.close()
    again = SQLiteStore(tmp_path / "g.sqlite3")
    assert [t.trace_id for t in again.traces("c", 5)] == ["t1"]
    again.close()


def test_store_errors_say_what_to_do() -> None:
    full = _explain(sqlite3.OperationalError("database or disk is full"))
    assert "full" in str(full) and "nothing was changed" in str(full) and "Free" in str(full)
    readonly = _explain(sqlite3.OperationalError("attempt to write a readonly database"))
    assert "permissions" in str(readonly)


def test_a_failed_write_does_not_sink_the_writer(store: SQLiteStore) -> None:
    def boom(db: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(StoreError, match="disk"):
        store.submit(boom).result()
    assert store.commit_ops("c", "me", "[]", {}) == 1


def test_due_events_are_seen_by_a_read_before_any_claim(store: SQLiteStore) -> None:
    now = time.time()
    assert not store.has_due_events(now)
    store.enqueue("c", "jobs", '{"n": 1}')
    assert store.has_due_events(now + 1)
    (claimed,) = store.claim_events(now + 1, 10)
    assert not store.has_due_events(now + 1)  # running, not ready
    store.retry_event(claimed.event_id, "failed", now + 60, dead=False)
    assert not store.has_due_events(now + 1) and store.has_due_events(now + 61)


def test_events_left_running_by_an_older_gloam_are_claimed_again(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite3"
    old = sqlite_utils.Database(path)
    MIGRATIONS.apply(old, stop_before="m002_event_leases")  # a file from before leases
    old.execute(
        "INSERT INTO events (canvas, queue, payload_json, attempts, next_at, status, "
        "created_at) VALUES ('c', 'jobs', '{}', 0, 0, 'running', 0)"
    )
    old.conn.commit()
    old.close()
    s = SQLiteStore(path)
    assert s.has_due_events(time.time())
    assert [e.payload_json for e in s.claim_events(time.time(), 10)] == ["{}"]
    s.close()


def test_the_file_is_in_wal_mode_so_reads_never_wait_for_the_writer(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "g.sqlite3")
    s.close()
    with sqlite3.connect(tmp_path / "g.sqlite3") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rows_stored_before_per_row_versions_read_as_their_storage_version(
        tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite3"
    old = sqlite_utils.Database(path)
    MIGRATIONS.apply(old, stop_before="m004_datastore_versions")  # a file from before
    old.conn.executemany(
        "INSERT INTO datastore_rows (canvas, datastore, key, value_json) VALUES (?, ?, ?, ?)",
        [("c", "Users_v0", "ann", '{"name": "Ann"}'), ("c", "Users_v0", "bob", "2"),
         ("c", "Users_v3", "ann", "3"), ("d", "My_vault_v12", "k", "12"),
         ("c", "Odd", "k", "0")])
    old.conn.commit()
    old.close()
    s = SQLiteStore(path)
    assert s.ds_items("c", "Users_v0") == [("ann", 0, '{"name": "Ann"}'), ("bob", 0, "2")]
    assert s.ds_get("c", "Users_v3", "ann") == (3, "3")
    assert s.ds_get("d", "My_vault_v12", "k") == (12, "12")
    assert s.ds_get("c", "Odd", "k") == (0, "0")
    assert s.ds_version_counts("c", "Users_v3") == {3: 1}
    assert s.ds_rows_not_at("c", "Users_v3", 4, None, 10) == [("ann", 3, "3")]
    # New rows and the converter's own records work on the brought-forward file.
    s.ds_set("c", "Users_v0", "cy", "5", 1)
    assert s.ds_version_counts("c", "Users_v0") == {0: 2, 1: 1}
    assert s.claim_migration("c", "Users_v0", "me", time.time(), 30)
    s.close()

"""The embedded SQLite backend of `Store`: one file, WAL, one writer thread.

Why a writer thread: SQLite allows one writer at a time, and a deploy must not
queue behind a lock held by some other task. Every durable write is a job on
one queue, run by one thread on one connection, in order, each in its own
transaction; callers wait on a future (sync callers block on it, async callers
await it via `asyncio.wrap_future`). Reads run on per-thread connections and
never wait for the writer, thanks to WAL.

Durability: an op batch is committed with `synchronous=FULL`, so once
`commit_ops` returns the batch survives `kill -9` and power loss. Traces are
not acks; they go to a file of their own (`NAME-traces.sqlite3`) with
`synchronous=NORMAL`, so a deploy's fsync never flushes trace pages. They wait
in a buffer and whoever calls `write_traces` (the runtime's event loop) writes
a batch in one transaction; handing each trace to the writer thread cost more
in GIL switches than the write. The writer thread only checkpoints that file.

One file is one node: processes of one node may share it (each store
instance's writes take SQLite's file lock, `BEGIN IMMEDIATE`, so queue
claims, cron claims and `base_seq` checks hold across them), but deploy
notifications between nodes are the PostgreSQL store's business.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from runtime.store.protocol import (
    CanvasInfo,
    CanvasSnapshot,
    FirstBatch,
    OpBatch,
    QueuedEvent,
    StaleCanvas,
    StoreError,
    TraceRecord,
    UnknownCanvas,
    prune_plan,
)
from runtime.store.sqlite_migrations import MIGRATIONS, TRACE_MIGRATIONS
from runtime.store.trace_buffer import TraceBuffer, Waiting

T = TypeVar("T")

_STOP = object()
_CHECKPOINT = object()  # checkpoint the traces file's WAL
log = logging.getLogger("gloam.store")

#: Traces written between two checkpoints of the traces file's WAL.
CHECKPOINT_EVERY = 2000


def _connect(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    db = sqlite_utils.Database(conn)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return db


def _explain(e: sqlite3.Error, doing: str = "save") -> StoreError:
    text = str(e)
    if "full" in text:
        return StoreError(
            f"the disk holding the Gloam data folder is full ({text}); nothing was changed. "
            "Free some space and try again."
        )
    if "readonly" in text or "unable to open" in text:
        return StoreError(
            f"the Gloam data file cannot be written ({text}); nothing was changed. "
            "Check the data folder's permissions."
        )
    return StoreError(f"the store could not {doing} this ({text}); nothing was changed.")


def _insert_traces(conn: sqlite3.Connection, batch: list[tuple[TraceRecord, int, float]]
                   ) -> None:
    conn.executemany(
        "INSERT INTO traces (trace_id, canvas, tlid, description, at, duration_ms, "
        "input_json, output_json, impure_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(t.trace_id, t.canvas, t.tlid, t.description, t.at, t.duration_ms,
          t.input_json, t.output_json, t.impure_json) for t, _, _ in batch],
    )
    for (canvas, tlid), (at, keep_last, keep_seconds) in prune_plan(batch).items():
        conn.execute("DELETE FROM traces WHERE canvas = ? AND tlid IS ? AND at < ?",
                     [canvas, tlid, at - keep_seconds])
        conn.execute(
            "DELETE FROM traces WHERE rowid IN (SELECT rowid FROM traces "
            "WHERE canvas = ? AND tlid IS ? ORDER BY at DESC LIMIT -1 OFFSET ?)",
            [canvas, tlid, keep_last],
        )


class SQLiteStore:
    """`Store` over one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._traces = TraceBuffer()
        self._trace_conn: sqlite3.Connection | None = None
        self._traces_since_checkpoint = 0
        self._closed = False
        self._available = True
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._writer = threading.Thread(
            target=self._write_loop, args=(ready,), name="gloam-store-writer", daemon=True
        )
        self._writer.start()
        ready.result()  # re-raises a migration failure here, in the caller

    # ------------------------------------------------------------ plumbing

    @property
    def traces_path(self) -> Path:
        return self.path.with_name(f"{self.path.stem}-traces{self.path.suffix}")

    def _write_loop(self, ready: concurrent.futures.Future[None]) -> None:
        try:
            db = _connect(self.path)
            MIGRATIONS.apply(db)
            tdb = _connect(self.traces_path)
            # Traces are not acks: losing the last few to a power cut is acceptable.
            tdb.conn.execute("PRAGMA synchronous=NORMAL")
            TRACE_MIGRATIONS.apply(tdb)
        except Exception as e:
            ready.set_exception(e)
            return
        ready.set_result(None)
        conn = db.conn
        while True:
            job = self._jobs.get()
            if job is _STOP:
                break
            if job is _CHECKPOINT:
                # PASSIVE, outside any transaction: it copies what it can and never
                # holds up the trace writer or readers.
                with contextlib.suppress(sqlite3.Error):
                    tdb.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                continue
            self._run_in_tx(db, job)
        conn.close()
        tdb.conn.close()

    def _run_in_tx(self, db: sqlite_utils.Database, job: Any) -> None:
        fn, fut = job
        conn = db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            result = fn(db)
            conn.execute("COMMIT")
        except Exception as e:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            # A refusal (a constraint, a missing canvas) still reached the file; a
            # full disk or an unwritable file did not.
            self._available = not isinstance(e, sqlite3.OperationalError)
            fut.set_exception(_explain(e) if isinstance(e, sqlite3.Error) else e)
            return
        self._available = True
        fut.set_result(result)

    def submit(self, fn: Callable[[sqlite_utils.Database], T]) -> concurrent.futures.Future[T]:
        """Queue a write; the future resolves once it is committed."""
        if self._closed:
            raise StoreError("the store is closed")
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((fn, fut))
        return fut

    def _write(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        return self.submit(fn).result()

    def _read(self, traces: bool = False) -> sqlite_utils.Database:
        attr = "tdb" if traces else "db"
        db = getattr(self._local, attr, None)
        if db is None:
            db = _connect(self.traces_path if traces else self.path)
            db.conn.execute("PRAGMA query_only=ON")
            setattr(self._local, attr, db)
            with self._readers_lock:
                self._readers.append(db.conn)
        return db

    def _query(self, sql: str, params: list[Any] | tuple[()] = (), *, traces: bool = False
               ) -> list[Any]:
        """Rows of a read on this thread's connection; a failure comes out as StoreError."""
        try:
            rows = self._read(traces).execute(sql, params).fetchall()
        except sqlite3.Error as e:
            self._available = False
            raise _explain(e, "read") from None
        self._available = True
        return rows

    def available(self) -> bool:
        return self._available

    def describe(self) -> str:
        return f"SQLite {self.path}"

    def subscribe(self, callback: Callable[[str, int], None]) -> None:
        """Nothing to do: one SQLite file is one node, and that node's own deploy path
        already knows of its deploys. Notifying other nodes is PostgreSQL's business."""

    def close(self) -> None:
        if self._closed:
            return
        self.write_traces()
        self._closed = self._traces.closed = True
        self._jobs.put(_STOP)
        self._writer.join(timeout=30)
        with self._traces.writing:
            if self._trace_conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._trace_conn.close()
                self._trace_conn = None
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()

    # ------------------------------------------------------------ canvases

    def create_canvas(self, name: str, token_hash: str,
                      first: FirstBatch | None = None) -> CanvasInfo:
        now = time.time()

        def job(db: sqlite_utils.Database) -> CanvasInfo:
            db.execute("INSERT INTO canvases (name, created_at, seq) VALUES (?, ?, 0)", [name, now])
            db.execute(
                "INSERT INTO tokens (canvas, token_hash, created_at) VALUES (?, ?, ?)",
                [name, token_hash, now],
            )
            if first is None:
                return CanvasInfo(name, now, 0)
            seq = self._commit(db, name, first.author, first.ops_json, first.changed, now, 0)
            return CanvasInfo(name, now, seq)

        return self._write(job)

    def canvases(self) -> list[CanvasInfo]:
        rows = self._query("SELECT name, created_at, seq FROM canvases ORDER BY name")
        return [CanvasInfo(r[0], r[1], r[2]) for r in rows]

    def canvas_seq(self, canvas: str) -> int:
        rows = self._query("SELECT seq FROM canvases WHERE name = ?", [canvas])
        if not rows:
            raise UnknownCanvas(f"there is no canvas named {canvas!r}")
        return int(rows[0][0])

    def _require_canvas(self, db: sqlite_utils.Database, canvas: str) -> int:
        row = db.execute("SELECT seq FROM canvases WHERE name = ?", [canvas]).fetchone()
        if row is None:
            raise UnknownCanvas(f"there is no canvas named {canvas!r}")
        return int(row[0])

    def token_hashes(self, canvas: str) -> list[str]:
        rows = self._query("SELECT token_hash FROM tokens WHERE canvas = ?", [canvas])
        return [r[0] for r in rows]

    def canvas_settings(self, canvas: str) -> dict[str, Any]:
        rows = self._query("SELECT settings_json FROM canvas_settings WHERE canvas = ?", [canvas])
        return dict(json.loads(rows[0][0])) if rows else {}

    def set_canvas_settings(self, canvas: str, settings: dict[str, Any]) -> None:
        text = json.dumps(settings, allow_nan=False, sort_keys=True)

        def job(db: sqlite_utils.Database) -> None:
            self._require_canvas(db, canvas)
            db.execute("INSERT INTO canvas_settings (canvas, settings_json) VALUES (?, ?) "
                       "ON CONFLICT (canvas) DO UPDATE SET settings_json = "
                       "excluded.settings_json", [canvas, text])

        self._write(job)

    def add_token(self, canvas: str, token_hash: str) -> None:
        def job(db: sqlite_utils.Database) -> None:
            self._require_canvas(db, canvas)
            db.execute(
                "INSERT OR IGNORE INTO tokens (canvas, token_hash, created_at) VALUES (?, ?, ?)",
                [canvas, token_hash, time.time()],
            )

        self._write(job)

    def snapshot(self, canvas: str) -> CanvasSnapshot:
        db = self._read()
        # One read transaction, so the sequence number and the rows agree.
        try:
            db.conn.execute("BEGIN")
            try:
                seq = self._require_canvas(db, canvas)
                rows = db.execute(
                    "SELECT tlid, json FROM toplevels WHERE canvas = ? ORDER BY tlid", [canvas]
                ).fetchall()
            finally:
                db.conn.execute("COMMIT")
        except sqlite3.Error as e:
            raise _explain(e, "read") from None
        return CanvasSnapshot(canvas, seq, {int(r[0]): r[1] for r in rows})

    # ------------------------------------------------------------- deploys

    def commit_ops(
        self, canvas: str, author: str, ops_json: str, changed: dict[int, str | None],
        base_seq: int | None = None,
    ) -> int:
        return self.submit_ops(canvas, author, ops_json, changed, base_seq).result()

    def submit_ops(
        self, canvas: str, author: str, ops_json: str, changed: dict[int, str | None],
        base_seq: int | None = None,
    ) -> concurrent.futures.Future[int]:
        now = time.time()

        def job(db: sqlite_utils.Database) -> int:
            return self._commit(db, canvas, author, ops_json, changed, now, base_seq)

        return self.submit(job)

    def _commit(self, db: sqlite_utils.Database, canvas: str, author: str, ops_json: str,
                changed: dict[int, str | None], now: float, base_seq: int | None) -> int:
        """One batch, inside the caller's transaction; returns its seq."""
        current = self._require_canvas(db, canvas)
        if base_seq is not None and current != base_seq:
            raise StaleCanvas(canvas, base_seq, current)
        seq = current + 1
        db.execute(
            "INSERT INTO oplog (canvas, seq, author, at, ops_json) VALUES (?, ?, ?, ?, ?)",
            [canvas, seq, author, now, ops_json],
        )
        for tlid, text in changed.items():
            if text is None:
                db.execute("DELETE FROM toplevels WHERE canvas = ? AND tlid = ?", [canvas, tlid])
            else:
                db.execute(
                    "INSERT INTO toplevels (canvas, tlid, json, seq) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (canvas, tlid) DO UPDATE SET json = excluded.json, "
                    "seq = excluded.seq",
                    [canvas, tlid, text, seq],
                )
        db.execute("UPDATE canvases SET seq = ? WHERE name = ?", [seq, canvas])
        return seq

    def ops_since(self, canvas: str, seq: int) -> list[OpBatch]:
        rows = self._query(
            "SELECT seq, author, at, ops_json FROM oplog WHERE canvas = ? AND seq > ? ORDER BY seq",
            [canvas, seq],
        )
        return [OpBatch(r[0], r[1], r[2], r[3]) for r in rows]

    # -------------------------------------------------------------- traces

    def add_trace(self, trace: TraceRecord, keep_last: int, keep_seconds: float) -> None:
        """Store one trace now (buffer it and write the buffer)."""
        self.buffer_trace(trace, keep_last, keep_seconds)
        self.write_traces()

    def buffer_trace(self, trace: TraceRecord, keep_last: int, keep_seconds: float) -> int:
        """Keep a trace for the next `write_traces`; returns how many are waiting.

        Traces are written in batches by whoever calls `write_traces` (the runtime:
        its event loop, a few times a second), not by the writer thread: handing each
        trace to another thread cost the serving thread more in GIL switches than
        the write itself (about 90 µs a request against 20 µs written in place).
        """
        return self._traces.add(trace, keep_last, keep_seconds)

    def write_traces(self) -> int:
        """Write every buffered trace in one transaction, on the calling thread, and
        prune each handler's traces once; returns how many were written (a failure,
        such as a full disk, is logged: see `TraceBuffer`)."""

        def write(batch: list[Waiting]) -> None:
            try:
                self._write_trace_batch(batch)
            except sqlite3.IntegrityError:
                raise  # one bad trace: written one by one
            except sqlite3.Error as e:
                raise _explain(e) from None

        written = self._traces.write(write, lambda e: isinstance(e, sqlite3.IntegrityError))
        self._traces_since_checkpoint += written
        if self._traces_since_checkpoint >= CHECKPOINT_EVERY and not self._closed:
            # Checkpointing flushes the WAL to disk (an fsync); the writer thread
            # does it, so the thread that writes traces never waits on the disk.
            self._traces_since_checkpoint = 0
            self._jobs.put(_CHECKPOINT)
        return written

    def _write_trace_batch(self, batch: list[tuple[TraceRecord, int, float]]) -> None:
        conn = self._trace_writer()
        conn.execute("BEGIN IMMEDIATE")
        try:
            _insert_traces(conn, batch)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def _trace_writer(self) -> sqlite3.Connection:
        if self._trace_conn is None:
            conn = _connect(self.traces_path).conn
            conn.execute("PRAGMA synchronous=NORMAL")  # traces are not acks
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._trace_conn = conn
        return self._trace_conn

    def traces(self, canvas: str, tlid: int | None, limit: int = 100) -> list[TraceRecord]:
        rows = self._query(
            "SELECT trace_id, canvas, tlid, description, at, duration_ms, input_json, "
            "output_json, impure_json FROM traces WHERE canvas = ? AND tlid IS ? "
            "ORDER BY at DESC LIMIT ?",
            [canvas, tlid, limit], traces=True,
        )
        return [TraceRecord(*r) for r in rows]

    def traffic_since(self, canvas: str, since: float) -> dict[int, tuple[int, float]]:
        """Per handler: how many stored traces since `since`, and when the latest ran."""
        rows = self._query(
            "SELECT tlid, COUNT(*), MAX(at) FROM traces WHERE canvas = ? AND tlid IS NOT NULL "
            "AND at >= ? GROUP BY tlid",
            [canvas, since], traces=True,
        )
        return {int(r[0]): (int(r[1]), float(r[2])) for r in rows}

    def last_traffic(self, canvas: str) -> dict[int, float]:
        rows = self._query(
            "SELECT tlid, MAX(at) FROM traces WHERE canvas = ? AND tlid IS NOT NULL GROUP BY tlid",
            [canvas], traces=True,
        )
        return {int(r[0]): float(r[1]) for r in rows}

    # ---------------------------------------------------------- datastores

    def ds_set(self, canvas: str, datastore: str, key: str, value_json: str,
               version: int) -> None:
        self._write(
            lambda db: (
                db.execute(
                    "INSERT INTO datastore_rows (canvas, datastore, key, value_json, version) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (canvas, datastore, key) "
                    "DO UPDATE SET value_json = excluded.value_json, version = excluded.version",
                    [canvas, datastore, key, value_json, version],
                ).rowcount
            )
        )

    def ds_get(self, canvas: str, datastore: str, key: str) -> tuple[int, str] | None:
        rows = self._query(
            "SELECT version, value_json FROM datastore_rows "
            "WHERE canvas = ? AND datastore = ? AND key = ?",
            [canvas, datastore, key],
        )
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def ds_items(self, canvas: str, datastore: str) -> list[tuple[str, int, str]]:
        rows = self._query(
            "SELECT key, version, value_json FROM datastore_rows "
            "WHERE canvas = ? AND datastore = ? ORDER BY key",
            [canvas, datastore],
        )
        return [(r[0], int(r[1]), r[2]) for r in rows]

    def ds_delete(self, canvas: str, datastore: str, key: str) -> None:
        self._write(
            lambda db: (
                db.execute(
                    "DELETE FROM datastore_rows WHERE canvas = ? AND datastore = ? AND key = ?",
                    [canvas, datastore, key],
                ).rowcount
            )
        )

    def ds_count(self, canvas: str, datastore: str) -> int:
        rows = self._query(
            "SELECT COUNT(*) FROM datastore_rows WHERE canvas = ? AND datastore = ?",
            [canvas, datastore],
        )
        return int(rows[0][0])

    def ds_version_counts(self, canvas: str, datastore: str) -> dict[int, int]:
        rows = self._query(
            "SELECT version, COUNT(*) FROM datastore_rows WHERE canvas = ? AND datastore = ? "
            "GROUP BY version",
            [canvas, datastore],
        )
        return {int(r[0]): int(r[1]) for r in rows}

    def ds_rows_not_at(self, canvas: str, datastore: str, version: int, after_key: str | None,
                       limit: int) -> list[tuple[str, int, str]]:
        # Along the primary key from the cursor: a pass over the storage reads each row
        # once, however few of them are left to convert.
        after = "" if after_key is None else "AND key > ? "
        rows = self._query(
            "SELECT key, version, value_json FROM datastore_rows WHERE canvas = ? "
            f"AND datastore = ? {after}AND version <> ? ORDER BY key LIMIT ?",
            [canvas, datastore, *([] if after_key is None else [after_key]), version, limit],
        )
        return [(r[0], int(r[1]), r[2]) for r in rows]

    def ds_convert(self, canvas: str, datastore: str, version: int,
                   rows: list[tuple[str, int, str, str]]) -> int:
        # Compare-and-set on the version and the text read: a row set or deleted since
        # matches nothing and stays as it now is (SQLite hands back the text it was given).
        params = [(version, new, canvas, datastore, key, old_version, old)
                  for key, old_version, old, new in rows]

        def job(db: sqlite_utils.Database) -> int:
            return int(db.conn.executemany(
                "UPDATE datastore_rows SET version = ?, value_json = ? WHERE canvas = ? "
                "AND datastore = ? AND key = ? AND version = ? AND value_json = ?",
                params,
            ).rowcount)

        return self._write(job) if params else 0

    def migration_state(self, canvas: str, datastore: str) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT state_json FROM datastore_migrations WHERE canvas = ? AND datastore = ?",
            [canvas, datastore],
        )
        return dict(json.loads(rows[0][0])) if rows and rows[0][0] is not None else None

    def set_migration_state(self, canvas: str, datastore: str,
                            state: dict[str, Any] | None) -> None:
        text = None if state is None else json.dumps(state, allow_nan=False, sort_keys=True)
        self._write(
            lambda db: (
                db.execute(
                    "INSERT INTO datastore_migrations (canvas, datastore, state_json) "
                    "VALUES (?, ?, ?) ON CONFLICT (canvas, datastore) "
                    "DO UPDATE SET state_json = excluded.state_json",
                    [canvas, datastore, text],
                ).rowcount
            )
        )

    def claim_migration(self, canvas: str, datastore: str, holder: str, now: float,
                        lease_seconds: float) -> bool:
        def job(db: sqlite_utils.Database) -> bool:
            # Inside the writer's BEGIN IMMEDIATE: the check and the update are one step
            # for every process sharing the file.
            row = db.execute(
                "SELECT holder, lease_until FROM datastore_migrations "
                "WHERE canvas = ? AND datastore = ?",
                [canvas, datastore],
            ).fetchone()
            if (row is not None and row[0] is not None and row[0] != holder
                    and row[1] is not None and row[1] > now):
                return False
            db.execute(
                "INSERT INTO datastore_migrations (canvas, datastore, holder, lease_until) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (canvas, datastore) DO UPDATE SET "
                "holder = excluded.holder, lease_until = excluded.lease_until",
                [canvas, datastore, holder, now + lease_seconds],
            )
            return True

        return self._write(job)

    # ------------------------------------------------------------- workers

    def enqueue(self, canvas: str, queue: str, payload_json: str) -> int:
        now = time.time()
        return self._write(
            lambda db: int(
                db.execute(
                    "INSERT INTO events (canvas, queue, payload_json, attempts, next_at, status, "
                    "created_at) VALUES (?, ?, ?, 0, ?, 'ready', ?)",
                    [canvas, queue, payload_json, now, now],
                ).lastrowid
                or 0
            )
        )

    def has_due_events(self, now: float) -> bool:
        """Whether any event is ready to run: a read on the caller's own connection, so
        an idle worker loop polls without waking the writer thread (or any thread)."""
        return bool(self._query(
            "SELECT 1 FROM events WHERE (status = 'ready' AND next_at <= ?) "
            "OR (status = 'running' AND lease_until <= ?) LIMIT 1", [now, now]
        ))

    def claim_events(self, now: float, limit: int, lease_seconds: float = 60.0
                     ) -> list[QueuedEvent]:
        def job(db: sqlite_utils.Database) -> list[QueuedEvent]:
            # BEGIN IMMEDIATE holds the file's write lock from the select to the update,
            # so store instances in other processes never claim the same rows.
            rows = db.execute(
                "SELECT event_id, canvas, queue, payload_json, attempts, last_error FROM events "
                "WHERE (status = 'ready' AND next_at <= ?) "
                "OR (status = 'running' AND lease_until <= ?) "
                "ORDER BY next_at, event_id LIMIT ?",
                [now, now, limit],
            ).fetchall()
            db.conn.executemany(
                "UPDATE events SET status = 'running', lease_until = ? WHERE event_id = ?",
                [(now + lease_seconds, r[0]) for r in rows],
            )
            return [QueuedEvent(*r) for r in rows]

        return self._write(job)

    def finish_event(self, event_id: int) -> None:
        self._write(
            lambda db: db.execute("DELETE FROM events WHERE event_id = ?", [event_id]).rowcount
        )

    def retry_event(self, event_id: int, error: str, next_at: float, dead: bool) -> None:
        self._write(
            lambda db: (
                db.execute(
                    "UPDATE events SET attempts = attempts + 1, last_error = ?, next_at = ?, "
                    "status = ?, lease_until = NULL WHERE event_id = ?",
                    [error, next_at, "dead" if dead else "ready", event_id],
                ).rowcount
            )
        )

    def dead_letters(self, canvas: str) -> list[QueuedEvent]:
        rows = self._query(
            "SELECT event_id, canvas, queue, payload_json, attempts, last_error FROM events "
            "WHERE canvas = ? AND status = 'dead' ORDER BY event_id",
            [canvas],
        )
        return [QueuedEvent(*r) for r in rows]

    # --------------------------------------------------------------- crons

    def cron_state(self, canvas: str, tlid: int) -> tuple[float | None, bool]:
        rows = self._query(
            "SELECT last_run, paused FROM cron_state WHERE canvas = ? AND tlid = ?", [canvas, tlid]
        )
        return (rows[0][0], bool(rows[0][1])) if rows else (None, False)

    def set_cron_state(self, canvas: str, tlid: int, last_run: float | None, paused: bool) -> None:
        self._write(
            lambda db: (
                db.execute(
                    "INSERT INTO cron_state (canvas, tlid, last_run, paused) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (canvas, tlid) DO UPDATE SET last_run = excluded.last_run, "
                    "paused = excluded.paused",
                    [canvas, tlid, last_run, int(paused)],
                ).rowcount
            )
        )

    def claim_cron(self, canvas: str, tlid: int, now: float, interval_seconds: float) -> bool:
        def job(db: sqlite_utils.Database) -> bool:
            # Inside the writer's BEGIN IMMEDIATE: the check and the update are one step
            # for every process sharing the file.
            row = db.execute(
                "SELECT last_run, paused FROM cron_state WHERE canvas = ? AND tlid = ?",
                [canvas, tlid],
            ).fetchone()
            if row is not None and (
                row[1] or (row[0] is not None and row[0] > now - interval_seconds)
            ):
                return False
            db.execute(
                "INSERT INTO cron_state (canvas, tlid, last_run, paused) VALUES (?, ?, ?, 0) "
                "ON CONFLICT (canvas, tlid) DO UPDATE SET last_run = excluded.last_run",
                [canvas, tlid, now],
            )
            return True

        return self._write(job)
